import Store

// The node agent's driver: it lives on the member's loop (which owns all of its state),
// takes each pod's next step (`PodPlan`) on a worker thread, and writes what it sees back
// as the pod's status. Per pod one step at a time; pods in parallel, at most
// `jobsInFlightMax` calls at once. The runtime is listed every `relistNanos` (kubelet's
// PLEG: containerd 1.6 has no event stream through CRI) and after every step whose effect
// the step itself does not answer.
//
// The agent keeps nothing the runtime does not: pods are keyed by uid, and sandboxes and
// containers carry the uid, name, restart count and spec hash. After a restart it lists
// the runtime and carries on: running containers are adopted, not restarted.

/// The member, as the agent sees it. Called on the loop.
public protocol AgentHost: AnyObject, EnvironmentSources {
    var nodeName: String { get }
    /// The node's address (the pods' hostIP).
    var nodeIP: String { get }
    /// Wall-clock nanoseconds since the Unix epoch.
    var unixNanos: Int64 { get }
    /// Whether the local store has caught up with the cluster since this process started: until
    /// then a pod missing from it may only be late, and its containers are not torn down.
    var storeIsCurrent: Bool { get }
    /// Pods bound to this node, by uid.
    func boundPods() -> [String: Pod]
    /// Runs `work` on a thread of its own and `then` on the loop with its result.
    func background<T: Sendable>(_ work: @escaping @Sendable () -> T, then: @escaping (T) -> Void)
    /// Writes the pod's status (status subresource, conditional on its uid); `done(true)` once stored.
    func writePodStatus(_ pod: Pod, _ status: PodStatus, done: @escaping (Bool) -> Void)
    /// Deletes the terminating pod for good (grace 0, conditional on its uid).
    func finishPodDeletion(_ pod: Pod, done: @escaping (Bool) -> Void)
    /// An event about the pod (kubectl describe pod).
    func recordPodEvent(_ pod: Pod, type: String, reason: String, message: String)
    /// Whether Services may still send new connections to the (terminating) pod, by the
    /// EndpointSlices in the store.
    func serviceTraffic(to pod: Pod) -> ServiceTraffic
}

/// What the EndpointSlices say of a pod's address.
public enum ServiceTraffic: Sendable {
    /// No slice lists it.
    case none
    /// A slice lists it ready, or it is the last endpoint of a Service still serving (the
    /// proxies fall back to terminating endpoints when no other is ready).
    case receiving
    /// Listed, but every Service listing it has another ready endpoint.
    case drained
}

public struct AgentConfig: Sendable {
    public var podLogRoot = "/var/log/pods"
    public var dnsServers: [String] = []
    public var dnsSearchDomain = "cluster.local"
    /// Nanoseconds between two full listings of the runtime (kubelet: 1 s).
    public var relistNanos: Int64 = 1_000_000_000
    /// Runtime calls in flight at most.
    public var jobsInFlightMax = 32

    public init() {}
}

public final class PodAgent {
    let host: AgentHost
    public let runtime: ContainerRuntime
    public let config: AgentConfig

    /// What the last listing (and the steps since) say the runtime holds, by pod uid.
    private(set) var views: [String: PodRuntimeView] = [:]
    var workers: [String: PodWorkerState] = [:]
    /// Pods to look at on the next tick.
    var dirty: Set<String> = []
    private var listedOnce = false
    private var relistInFlight = false
    private var relistWanted = false
    private var lastRelistNanos: Int64 = 0
    var jobsInFlight = 0
    /// Containers' details by id, fetched once per state a container is listed in (a running
    /// container's start time does not change, an exited one's nothing), and sandboxes'
    /// addresses: a listing then costs two calls, not one per container.
    private var knownDetails: [String: RuntimeContainer] = [:]
    private var sandboxIPs: [String: String] = [:]
    /// Images a container was started from: an IfNotPresent start skips asking the runtime
    /// again (a failed create forgets the image, so a removed one is pulled again).
    private var presentImages: Set<String> = []
    /// Probe counters by "containerID/kind", and when the probes were last looked at.
    var probeCounters: [String: ProbeCounters] = [:]
    private var lastProbeScanNanos: Int64 = 0
    /// Probes are looked at this often (each runs at its own period).
    static let probeScanNanos: Int64 = 50_000_000
    /// The runtime answered the last listing (for the node's conditions).
    public private(set) var runtimeReachable = false
    public private(set) var runtimeError = ""

    struct PodWorkerState {
        var busy = false
        /// A step changed the runtime in a way only a listing shows: plan after the next one.
        var awaitingRelist = false
        var wakeAtNanos: Int64?
        var memory = PodMemory()
        var statusInFlight = false
        var finishing = false
        /// When a terminating pod was first seen drained of Service traffic.
        var drainedSinceNanos: Int64?
    }

    /// A terminating pod that Services may still send connections to keeps running (its
    /// containers get their stop signal later): while a slice lists it ready (the endpoints
    /// controller has not caught up with the deletion) or it is the last endpoint of a Service
    /// (the proxies fall back to it until a replacement is ready), looked at again every
    /// `drainPollNanos`; then `drainSettleNanos` more, for every member's proxy to have
    /// applied the change (their syncs take milliseconds). Never past half the grace period.
    static let drainPollNanos: Int64 = 100_000_000
    static let drainSettleNanos: Int64 = 500_000_000

    /// Until when the terminating `pod` keeps running; nil: stop it now.
    func drainUntil(_ pod: Pod, uid: String, now: Int64) -> Int64? {
        guard let deadline = pod.metadata.deletionTimestamp else { return nil }
        let graceNanos = PodPlan.graceSeconds(pod) * 1_000_000_000
        let limit = deadline.unixSeconds * 1_000_000_000 - graceNanos / 2
        guard now < limit else { return nil }
        switch host.serviceTraffic(to: pod) {
        case .none:
            return nil
        case .receiving:
            workers[uid]?.drainedSinceNanos = nil
            return min(now + Self.drainPollNanos, limit)
        case .drained:
            let since = workers[uid]?.drainedSinceNanos ?? now
            workers[uid]?.drainedSinceNanos = since
            let until = min(since + Self.drainSettleNanos, limit)
            return until > now ? until : nil
        }
    }

    public init(host: AgentHost, runtime: ContainerRuntime, config: AgentConfig = AgentConfig()) {
        self.host = host
        self.runtime = runtime
        self.config = config
    }

    /// Pods (by uid) whose object changed in the store.
    public func podsChanged(_ uids: some Sequence<String>) {
        dirty.formUnion(uids)
    }

    /// Runs on every member tick.
    public func tick() {
        let now = host.unixNanos
        if !relistInFlight, relistWanted || now - lastRelistNanos >= config.relistNanos { relist(now: now) }
        guard listedOnce else { return }
        if now - lastProbeScanNanos >= Self.probeScanNanos {
            lastProbeScanNanos = now
            runProbes(now: now)
        }
        for (uid, worker) in workers where !worker.busy && (worker.wakeAtNanos.map { $0 <= now } ?? false) { dirty.insert(uid) }
        guard !dirty.isEmpty else { return }
        let pods = host.boundPods()
        let uids = dirty
        dirty = []
        for uid in uids.sorted() { sync(uid: uid, pod: pods[uid], now: now) }
    }

    // MARK: One pod

    private func sync(uid: String, pod: Pod?, now: Int64) {
        let view = views[uid] ?? PodRuntimeView()
        if pod == nil, view.sandboxes.isEmpty, view.containers.isEmpty {
            workers[uid] = nil
            return
        }
        if workers[uid] == nil { workers[uid] = PodWorkerState() }
        if let pod, !pod.isTerminating { writeStatusIfChanged(pod, view: view, now: now) }
        // The write's answer may already have come (a host that answers at once).
        let worker = workers[uid]!
        guard !worker.busy, !worker.awaitingRelist else { return }
        // A pod the store does not have may be late to arrive: leave its containers alone
        // until the store has caught up.
        if pod == nil, !host.storeIsCurrent { return }
        guard jobsInFlight < config.jobsInFlightMax else {
            dirty.insert(uid)
            return
        }
        var context = PodPlanContext(nowNanos: now, podLogRoot: config.podLogRoot, dnsServers: config.dnsServers,
                                     dnsSearchDomain: config.dnsSearchDomain)
        if let pod, pod.isTerminating { context.drainUntilNanos = drainUntil(pod, uid: uid, now: now) }
        let step = PodPlan.next(pod: pod, view: view, memory: worker.memory, context: context)
        workers[uid]?.wakeAtNanos = nil
        switch step {
        case .wait(let until):
            // Look again when the plan says, or when the status would read differently.
            let statusChange = PodStatusBuilder.nextChangeNanos(memory: worker.memory, nowNanos: now)
            workers[uid]?.wakeAtNanos = [until, statusChange].compactMap { $0 }.min()
        case .finishDeletion:
            guard let pod, !worker.finishing else { return }
            workers[uid]?.finishing = true
            host.finishPodDeletion(pod) { [weak self] _ in
                self?.workers[uid]?.finishing = false
                self?.dirty.insert(uid)
            }
        default:
            workers[uid]?.busy = true
            perform(step, uid: uid, pod: pod)
        }
    }

    private func writeStatusIfChanged(_ pod: Pod, view: PodRuntimeView, now: Int64) {
        guard let worker = workers[pod.metadata.uid], !worker.statusInFlight else { return }
        let status = PodStatusBuilder.status(pod: pod, view: view, memory: worker.memory,
                                             context: PodStatusContext(nowNanos: now, hostIP: host.nodeIP))
        guard status != pod.status else { return }
        workers[pod.metadata.uid]?.statusInFlight = true
        let uid = pod.metadata.uid
        host.writePodStatus(pod, status) { [weak self] _ in
            self?.workers[uid]?.statusInFlight = false
            self?.dirty.insert(uid)
        }
    }

    // MARK: Steps

    /// What a step answered, back on the loop.
    enum StepOutcome: Sendable {
        case sandbox(RuntimeSandbox)
        case container(RuntimeContainer, pulled: Bool)
        case pullFailed(container: String, message: String)
        case startFailed(container: String, reason: String, message: String)
        /// The runtime changed in a way the next listing shows.
        case changed
        case failed(String)
    }

    private func perform(_ step: PodStep, uid: String, pod: Pod?) {
        let runtime = self.runtime
        var work: (@Sendable () -> StepOutcome)?
        switch step {
        case .runSandbox(let spec):
            work = {
                do { return .sandbox(try runtime.runSandbox(spec)) } catch { return .failed("creating the pod sandbox: \(error)") }
            }
        case let .startContainer(spec, sandbox, sandboxSpec, pull):
            guard let pod, let container = pod.spec.containers.first(where: { $0.name == spec.name }) else { break }
            var spec = spec
            switch Environment.resolve(container, pod: pod, podIP: sandbox.ip, hostIP: host.nodeIP, sources: host) {
            case .success(let env): spec.env = env
            case .failure(let error):
                let previous = workers[uid]?.memory.startFailures[spec.name]
                workers[uid]?.memory.startFailures[spec.name] = failure("CreateContainerConfigError", error.message, previous: previous)
                finished(uid)
                return
            }
            let finalSpec = spec
            let known = pull == .ifMissing && presentImages.contains(spec.image)
            work = { Self.start(finalSpec, sandbox: sandbox, sandboxSpec: sandboxSpec, pull: known ? .knownPresent : pull, runtime: runtime) }
        case let .stopContainer(id, _, grace, _):
            work = {
                do { try runtime.stopContainer(id: id, timeoutSeconds: grace); return .changed } catch { return .failed("\(error)") }
            }
        case let .killPod(targets, sandboxIDs, grace):
            work = { Self.kill(targets, sandboxIDs: sandboxIDs, graceSeconds: grace, runtime: runtime) }
        case .removeContainer(let id):
            work = {
                do { try runtime.removeContainer(id: id); return .changed } catch { return .failed("\(error)") }
            }
        case .removeSandbox(let id):
            work = {
                do { try runtime.removeSandbox(id: id); return .changed } catch { return .failed("\(error)") }
            }
        case .wait, .finishDeletion:
            break
        }
        guard let work else {
            finished(uid)
            return
        }
        announce(step, pod: pod)
        jobsInFlight += 1
        host.background(work) { [weak self] outcome in
            guard let self else { return }
            self.jobsInFlight -= 1
            self.apply(outcome, of: step, uid: uid)
        }
    }

    private func finished(_ uid: String) {
        workers[uid]?.busy = false
        dirty.insert(uid)
    }

    /// Events for a step about to be taken.
    private func announce(_ step: PodStep, pod: Pod?) {
        guard let pod else { return }
        switch step {
        case let .stopContainer(_, name, _, reason):
            let why = reason == "LivenessFailed" ? "failed liveness probe, will be restarted" : reason == "SpecChanged" ? "definition changed, will be restarted" : "sandbox changed"
            host.recordPodEvent(pod, type: "Normal", reason: "Killing", message: "Stopping container \(name): container \(why)")
        case .killPod(let targets, _, _) where pod.isTerminating:
            for target in targets { host.recordPodEvent(pod, type: "Normal", reason: "Killing", message: "Stopping container \(target.name)") }
        default:
            break
        }
    }

    private func apply(_ outcome: StepOutcome, of step: PodStep, uid: String) {
        guard var worker = workers[uid] else { return }
        let pod = host.boundPods()[uid]
        let now = host.unixNanos
        worker.busy = false
        switch outcome {
        case .sandbox(let sandbox):
            views[uid, default: PodRuntimeView()].sandboxes.append(sandbox)
            if !sandbox.ip.isEmpty { sandboxIPs[sandbox.id] = sandbox.ip }
        case let .container(container, pulled):
            views[uid, default: PodRuntimeView()].containers.removeAll { $0.id == container.id }
            views[uid, default: PodRuntimeView()].containers.append(container)
            worker.memory.pullFailures[container.name] = nil
            worker.memory.startFailures[container.name] = nil
            if case let .startContainer(spec, _, _, _) = step { presentImages.insert(spec.image) }
            if let pod {
                if case let .startContainer(spec, _, _, _) = step {
                    host.recordPodEvent(pod, type: "Normal", reason: "Pulled",
                                        message: pulled ? "Successfully pulled image \"\(spec.image)\"" : "Container image \"\(spec.image)\" already present on machine")
                }
                host.recordPodEvent(pod, type: "Normal", reason: "Created", message: "Created container \(container.name)")
                host.recordPodEvent(pod, type: "Normal", reason: "Started", message: "Started container \(container.name)")
            }
        case let .pullFailed(name, message):
            worker.memory.pullFailures[name] = PodMemory.PullFailure(count: (worker.memory.pullFailures[name]?.count ?? 0) + 1, atNanos: now, message: message)
            if let pod { host.recordPodEvent(pod, type: "Warning", reason: "Failed", message: message) }
        case let .startFailed(name, reason, message):
            if case let .startContainer(spec, _, _, _) = step { presentImages.remove(spec.image) }
            worker.memory.startFailures[name] = failure(reason, message, previous: worker.memory.startFailures[name], now: now)
            if let pod { host.recordPodEvent(pod, type: "Warning", reason: "Failed", message: "Error: \(message)") }
            worker.awaitingRelist = true
        case .changed:
            worker.awaitingRelist = true
        case .failed(let message):
            if let pod { host.recordPodEvent(pod, type: "Warning", reason: "FailedSync", message: message) }
            worker.awaitingRelist = true
            // Do not spin on a runtime that refuses: look again after the next listing.
        }
        workers[uid] = worker
        if worker.awaitingRelist { relistWanted = true }
        dirty.insert(uid)
    }

    private func failure(_ reason: String, _ message: String, previous: PodMemory.StartFailure?, now: Int64? = nil) -> PodMemory.StartFailure {
        PodMemory.StartFailure(reason: reason, message: message, count: (previous?.count ?? 0) + 1, atNanos: now ?? host.unixNanos)
    }

    /// Pull per policy, then create and start: one step, as its parts only make sense together.
    static func start(_ spec: ContainerSpec, sandbox: RuntimeSandbox, sandboxSpec: SandboxSpec, pull: PullDecision,
                      runtime: ContainerRuntime) -> StepOutcome {
        var pulled = false
        do {
            let present = pull == .knownPresent ? true : pull == .always ? false : try runtime.imagePresent(spec.image)
            if !present {
                guard pull != .never else {
                    return .pullFailed(container: spec.name, message: "Container image \"\(spec.image)\" is not present with pull policy of Never")
                }
                _ = try runtime.pullImage(spec.image)
                pulled = true
            }
        } catch {
            return .pullFailed(container: spec.name, message: "Failed to pull image \"\(spec.image)\": \(error)")
        }
        do {
            return .container(try runtime.createAndStartContainer(sandbox: sandbox, sandboxSpec: sandboxSpec, spec: spec), pulled: pulled)
        } catch ContainerStartError.create(let message) {
            return .startFailed(container: spec.name, reason: "CreateContainerError", message: message)
        } catch ContainerStartError.start(let message) {
            return .startFailed(container: spec.name, reason: "RunContainerError", message: message)
        } catch {
            return .failed("starting container \(spec.name): \(error)")
        }
    }

    /// Every container at once (preStop first, within the grace period), then the sandboxes.
    static func kill(_ targets: [PodStep.KillTarget], sandboxIDs: [String], graceSeconds: Int64, runtime: ContainerRuntime) -> StepOutcome {
        let stopErrors = AgentErrors()
        runConcurrently(targets.count) { index in
            let target = targets[index]
            var remaining = graceSeconds
            if !target.preStop.isEmpty, graceSeconds > 0 {
                let started = monotonicSeconds()
                _ = try? runtime.exec(containerID: target.id, command: target.preStop, timeoutSeconds: graceSeconds)
                remaining = max(2, graceSeconds - (monotonicSeconds() - started))
            }
            do { try runtime.stopContainer(id: target.id, timeoutSeconds: remaining) } catch {
                stopErrors.append("stopping container \(target.name): \(error)")
            }
        }
        var errors = stopErrors.all
        for id in sandboxIDs {
            do { try runtime.stopSandbox(id: id) } catch { errors.append("stopping the pod sandbox: \(error)") }
        }
        return errors.isEmpty ? .changed : .failed(errors.joined(separator: "; "))
    }

    // MARK: Listing

    private func relist(now: Int64) {
        relistInFlight = true
        relistWanted = false
        lastRelistNanos = now
        let runtime = self.runtime
        let known = knownDetails
        let knownIPs = sandboxIPs
        // Steps that finish while this listing runs are not in it: they wait for the next.
        let waiting = Set(workers.filter { $0.value.awaitingRelist }.map(\.key))
        host.background({ Self.list(runtime: runtime, known: known, knownIPs: knownIPs) }) { [weak self] listing in
            guard let self else { return }
            self.relistInFlight = false
            self.absorb(listing, settled: waiting)
        }
    }

    struct Listing: Sendable {
        var sandboxes: [RuntimeSandbox] = []
        var containers: [RuntimeContainer] = []
        var error: String?
    }

    static func list(runtime: ContainerRuntime, known: [String: RuntimeContainer], knownIPs: [String: String]) -> Listing {
        var listing = Listing()
        do {
            listing.sandboxes = try runtime.listSandboxes().filter(\.managed)
            for index in listing.sandboxes.indices where listing.sandboxes[index].state == .ready {
                let id = listing.sandboxes[index].id
                listing.sandboxes[index].ip = try knownIPs[id] ?? runtime.sandboxIP(id: id)
            }
            let sandboxIDs = Set(listing.sandboxes.map(\.id))
            for container in try runtime.listContainers() where sandboxIDs.contains(container.sandboxID) {
                if let cached = known[container.id], cached.state == container.state {
                    listing.containers.append(cached)
                } else {
                    listing.containers.append((try? runtime.containerDetails(container)) ?? container)
                }
            }
        } catch {
            listing.error = "\(error)"
        }
        return listing
    }

    private func absorb(_ listing: Listing, settled: Set<String>) {
        if let error = listing.error {
            runtimeReachable = false
            runtimeError = error
            return
        }
        runtimeReachable = true
        runtimeError = ""
        var fresh: [String: PodRuntimeView] = [:]
        for sandbox in listing.sandboxes {
            fresh[sandbox.podUID, default: PodRuntimeView()].sandboxes.append(sandbox)
            if !sandbox.ip.isEmpty { sandboxIPs[sandbox.id] = sandbox.ip }
        }
        let podOfSandbox = Dictionary(listing.sandboxes.map { ($0.id, $0.podUID) }, uniquingKeysWith: { first, _ in first })
        var details: [String: RuntimeContainer] = [:]
        for var container in listing.containers {
            let uid = podOfSandbox[container.sandboxID] ?? container.podUID
            container.podUID = uid
            fresh[uid, default: PodRuntimeView()].containers.append(container)
            // Only what the details call answered is kept (a container it missed is asked again).
            if container.startedAtNanos > 0 || container.state == .created { details[container.id] = container }
        }
        knownDetails = details
        sandboxIPs = sandboxIPs.filter { podOfSandbox[$0.key] != nil }
        for uid in Set(fresh.keys).union(views.keys) where fresh[uid] != views[uid] { dirty.insert(uid) }
        // A pod with a step in flight keeps the view that step will extend.
        for (uid, worker) in workers where worker.busy { fresh[uid] = views[uid] }
        views = fresh
        for uid in settled { workers[uid]?.awaitingRelist = false; dirty.insert(uid) }
        if !listedOnce {
            listedOnce = true
            dirty.formUnion(host.boundPods().keys)
            dirty.formUnion(views.keys)
        }
    }

    // MARK: Reading

    /// The view of one pod (tests, kubectl logs/exec).
    public func view(ofPod uid: String) -> PodRuntimeView? { views[uid] }

    /// Containers the agent knows, by pod uid and name (newest first).
    public func containerID(podUID: String, name: String, previous: Bool = false) -> String? {
        guard let view = views[podUID] else { return nil }
        return (previous ? view.previous(name) : view.latest(name))?.id
    }

    public var podCount: Int { views.count }
}
