import API
import Agent

// `kubectl exec`, `attach`, `port-forward` of a pod that runs here: the API server joins the
// client to the URL the runtime answers (see API/PodStreams.swift).

extension Member {
    public func podStreamingURL(_ request: PodStreamRequest, completion: @escaping (Result<String, ServiceError>) -> Void) {
        guard let agent = pods.agent else { return completion(.failure(.unavailable("this member runs no pods"))) }
        let view = agent.view(ofPod: request.podUID) ?? PodRuntimeView()
        let io = StreamingIO(stdin: request.stdin, stdout: request.stdout, stderr: request.stderr, tty: request.tty)
        let runtimeRequest: StreamingRequest
        switch request.kind {
        case .portForward(let ports):
            guard let sandbox = view.currentSandbox, sandbox.state == .ready else {
                return completion(.failure(ServiceError(status: 400, reason: "BadRequest", message: "pod \(request.pod) has no running sandbox")))
            }
            runtimeRequest = .portForward(sandboxID: sandbox.id, ports: ports)
        case .exec, .attach:
            guard let container = view.latest(request.container), container.state == .running else {
                return completion(.failure(ServiceError(status: 400, reason: "BadRequest",
                                                        message: "container \(request.container) is not running in pod \(request.pod)")))
            }
            if case .exec(let command) = request.kind {
                runtimeRequest = .exec(containerID: container.id, command: command, streams: io)
            } else {
                runtimeRequest = .attach(containerID: container.id, streams: io)
            }
        }
        let runtime = agent.runtime
        host.background(bulk: false, { () -> Result<String, RuntimeError> in
            Result { () throws(RuntimeError) in
                do { return try runtime.streamingURL(runtimeRequest) } catch let error as RuntimeError { throw error } catch {
                    throw RuntimeError(.failed, "\(error)")
                }
            }
        }, then: { result in
            completion(result.mapError { error in
                error.kind == .unavailable ? .unavailable("the container runtime: \(error.message)")
                    : ServiceError(status: 500, reason: "InternalError", message: "the container runtime refused the session: \(error.message)")
            })
        })
    }
}
