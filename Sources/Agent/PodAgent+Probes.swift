import Store

// The pod agent's probe scheduling (what the probes do: Probes.swift): each running
// container's startup, liveness and readiness probes at their periods, on worker threads,
// their verdicts kept in the pod's memory for the plan and the status.

extension PodAgent {
    func runProbes(now: Int64) {
        let pods = host.boundPods()
        var live: Set<String> = []
        for (uid, view) in views.sorted(by: { $0.key < $1.key }) {
            guard let pod = pods[uid], !pod.isTerminating, let sandbox = view.currentSandbox, sandbox.state == .ready else { continue }
            var liveContainers: Set<String> = []
            for container in pod.spec.containers {
                guard let latest = view.latest(container.name), latest.state == .running, latest.sandboxID == sandbox.id else { continue }
                liveContainers.insert(latest.id)
                let verdicts = workers[uid]?.memory.probes[latest.id] ?? ProbeVerdicts()
                for kind in ProbeKind.allCases {
                    guard let probe = Self.probe(container, kind) else { continue }
                    // The implicit readiness check ends with its first success.
                    if kind == .readiness && container.readinessProbe == nil && verdicts.ready == true { continue }
                    // Liveness and readiness wait for the startup probe; it stops once passed.
                    if kind == .startup ? verdicts.started : (container.startupProbe != nil && !verdicts.started) { continue }
                    let key = "\(latest.id)/\(kind.rawValue)"
                    live.insert(key)
                    var counters = probeCounters[key]
                        ?? ProbeCounters(nextAtNanos: latest.startedAtNanos + Int64(probe.initialDelaySeconds) * 1_000_000_000)
                    defer { probeCounters[key] = counters }
                    guard !counters.inFlight, now >= counters.nextAtNanos, jobsInFlight < config.jobsInFlightMax else { continue }
                    counters.inFlight = true
                    let job = ProbeJob(containerID: latest.id, handler: probe.handler, podIP: pod.spec.hostNetwork ? host.nodeIP : sandbox.ip,
                                       ports: container.ports, timeoutSeconds: probe.timeoutSeconds)
                    let runtime = self.runtime
                    let containerID = latest.id
                    jobsInFlight += 1
                    host.background({ job.run(runtime: runtime) }) { [weak self] failure in
                        self?.probeAnswered(uid: uid, containerID: containerID, container: container.name, kind: kind, probe: probe,
                                            failure: failure)
                    }
                }
            }
            // Verdicts of containers that no longer run go.
            if let probes = workers[uid]?.memory.probes, probes.keys.contains(where: { !liveContainers.contains($0) }) {
                workers[uid]?.memory.probes = probes.filter { liveContainers.contains($0.key) }
            }
        }
        probeCounters = probeCounters.filter { live.contains($0.key) || $0.value.inFlight }
    }

    static func probe(_ container: Container, _ kind: ProbeKind) -> Probe? {
        switch kind {
        case .startup: return container.startupProbe
        case .liveness: return container.livenessProbe
        case .readiness: return container.readinessProbe ?? implicitReadiness(container)
        }
    }

    /// A container without a readiness probe that declares a TCP port is ready once that
    /// port accepts a connection, not as soon as its process runs (Kubernetes' rule, which
    /// hands a Service's clients to a server still starting: "connection refused" in every
    /// rolling update of a pod without a probe). Checked every `implicitProbeNanos` until it
    /// first passes; after that the container is ready while it runs, as in Kubernetes.
    static func implicitReadiness(_ container: Container) -> Probe? {
        guard let port = container.ports.first(where: { ($0.protocol.isEmpty ? "TCP" : $0.protocol.uppercased()) == "TCP" && $0.containerPort > 0 }) else { return nil }
        var probe = Probe()
        probe.handler.tcpSocket = TCPSocketAction(port: .int(port.containerPort))
        probe.timeoutSeconds = 1
        probe.periodSeconds = 1
        probe.successThreshold = 1
        probe.failureThreshold = 1
        return probe
    }

    /// How often the implicit readiness check tries while a container starts.
    static let implicitProbeNanos: Int64 = 100_000_000

    func probeAnswered(uid: String, containerID: String, container: String, kind: ProbeKind, probe: Probe, failure: String?) {
        jobsInFlight -= 1
        let key = "\(containerID)/\(kind.rawValue)"
        guard var counters = probeCounters[key] else { return }
        let now = host.unixNanos
        counters.inFlight = false
        let declared = host.boundPods()[uid]?.spec.containers.first { $0.name == container }
        let implicit = kind == .readiness && declared != nil && declared?.readinessProbe == nil
        counters.nextAtNanos = now + (implicit ? Self.implicitProbeNanos : Int64(max(1, probe.periodSeconds)) * 1_000_000_000)
        if failure == nil {
            counters.successes += 1
            counters.failures = 0
        } else {
            counters.failures += 1
            counters.successes = 0
        }
        probeCounters[key] = counters
        guard workers[uid] != nil else { return }
        var verdicts = workers[uid]!.memory.probes[containerID] ?? ProbeVerdicts()
        let before = verdicts
        let failureThreshold = Int(max(1, probe.failureThreshold))
        switch kind {
        case .startup:
            if counters.successes >= 1 { verdicts.started = true }
            if counters.failures >= failureThreshold { verdicts.livenessFailed = true }
        case .liveness:
            if counters.failures >= failureThreshold { verdicts.livenessFailed = true }
        case .readiness:
            if counters.successes >= Int(max(1, probe.successThreshold)) { verdicts.ready = true }
            if counters.failures >= failureThreshold { verdicts.ready = false }
        }
        if let failure, !implicit {
            verdicts.message = failure
            if let pod = host.boundPods()[uid] {
                let name = kind.rawValue.prefix(1).uppercased() + kind.rawValue.dropFirst()
                host.recordPodEvent(pod, type: "Warning", reason: "Unhealthy", message: "\(name) probe failed: \(failure)")
            }
        }
        if verdicts != before {
            workers[uid]!.memory.probes[containerID] = verdicts
            dirty.insert(uid)
        }
    }
}
