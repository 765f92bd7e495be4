/// Kubernetes' defaults for pod specs (its SetDefaults functions for PodSpec, Container,
/// Probe, HTTPGetAction, Volume and resource lists), in two layers: those every pod spec gets,
/// templates included (`applyDefaults`), and those only pods get (`applyPodDefaults`).
extension PodSpec {
    /// Kubernetes' default grace period for stopping a pod, in seconds.
    public static let terminationGracePeriodSecondsDefault: Int64 = 30
    /// The scheduler pods go to unless they name another.
    public static let defaultSchedulerName = "default-scheduler"
    /// Where a container's termination message is read from unless it says otherwise.
    public static let terminationMessagePathDefault = "/dev/termination-log"
    /// Permission bits of ConfigMap and Secret volume files unless given (0644).
    public static let volumeDefaultMode: Int32 = 0o644

    /// The defaults every pod spec gets, in pods and in templates: restart and DNS policies,
    /// grace period, scheduler, an empty security context, and the defaults of its containers
    /// and volumes.
    public mutating func applyDefaults() {
        if dnsPolicy.isEmpty { dnsPolicy = "ClusterFirst" }
        if restartPolicy.isEmpty { restartPolicy = "Always" }
        if securityContext == nil { securityContext = PodSecurityContext() }
        if terminationGracePeriodSeconds == nil { terminationGracePeriodSeconds = Self.terminationGracePeriodSecondsDefault }
        if schedulerName.isEmpty { schedulerName = Self.defaultSchedulerName }
        for i in initContainers.indices { initContainers[i].applyDefaults() }
        for i in containers.indices { containers[i].applyDefaults() }
        for i in volumes.indices { volumes[i].source.applyDefaults() }
        overhead.roundUpToMilli()
        resources?.limits.roundUpToMilli()
        resources?.requests.roundUpToMilli()
    }

    /// The defaults only pods get (not templates): requests copied from limits where missing,
    /// service links on, and host ports equal to container ports on the host network.
    mutating func applyPodDefaults() {
        for i in initContainers.indices { initContainers[i].resources.copyLimitsToRequests() }
        for i in containers.indices { containers[i].resources.copyLimitsToRequests() }
        if enableServiceLinks == nil { enableServiceLinks = true }
        if hostNetwork {
            for i in initContainers.indices { initContainers[i].defaultHostPorts() }
            for i in containers.indices { containers[i].defaultHostPorts() }
        }
    }
}

extension Container {
    /// Kubernetes' container defaults: pull policy from the image's tag, termination message
    /// settings, port protocols, probe timings, HTTP paths and schemes, field reference
    /// versions, and resource amounts rounded to thousandths.
    mutating func applyDefaults() {
        if imagePullPolicy.isEmpty { imagePullPolicy = Self.defaultPullPolicy(forImage: image) }
        if terminationMessagePath.isEmpty { terminationMessagePath = PodSpec.terminationMessagePathDefault }
        if terminationMessagePolicy.isEmpty { terminationMessagePolicy = "File" }
        for i in ports.indices where ports[i].protocol.isEmpty { ports[i].protocol = "TCP" }
        livenessProbe?.applyDefaults()
        readinessProbe?.applyDefaults()
        startupProbe?.applyDefaults()
        lifecycle?.postStart?.httpGet?.applyDefaults()
        lifecycle?.preStop?.httpGet?.applyDefaults()
        for i in env.indices {
            if let fieldRef = env[i].valueFrom?.fieldRef, fieldRef.apiVersion.isEmpty {
                env[i].valueFrom?.fieldRef?.apiVersion = "v1"
            }
        }
        resources.limits.roundUpToMilli()
        resources.requests.roundUpToMilli()
    }

    /// With the host network, a port's host port is its container port unless given.
    mutating func defaultHostPorts() {
        for i in ports.indices where ports[i].hostPort == 0 { ports[i].hostPort = ports[i].containerPort }
    }

    /// Always for images tagged `latest` or not tagged at all (which means latest), otherwise
    /// IfNotPresent, including images named only by digest and references that do not parse.
    public static func defaultPullPolicy(forImage image: String) -> String {
        ImageReference.tag(of: image) == "latest" ? "Always" : "IfNotPresent"
    }
}

extension ResourceRequirements {
    /// Every limit without a request becomes the request too (pods only).
    mutating func copyLimitsToRequests() {
        for (name, amount) in limits where requests[name] == nil { requests[name] = amount }
    }
}

extension Probe {
    mutating func applyDefaults() {
        if timeoutSeconds == 0 { timeoutSeconds = Self.timeoutSecondsDefault }
        if periodSeconds == 0 { periodSeconds = Self.periodSecondsDefault }
        if successThreshold == 0 { successThreshold = Self.successThresholdDefault }
        if failureThreshold == 0 { failureThreshold = Self.failureThresholdDefault }
        handler.httpGet?.applyDefaults()
        if handler.grpc != nil && handler.grpc?.service == nil { handler.grpc?.service = "" }
    }
}

extension HTTPGetAction {
    mutating func applyDefaults() {
        if path.isEmpty { path = "/" }
        if scheme.isEmpty { scheme = "HTTP" }
    }
}

extension VolumeSource {
    /// No source means an empty directory; file modes of ConfigMap and Secret volumes default
    /// to 0644; an unset host path type becomes "" (no check).
    mutating func applyDefaults() {
        if setMembers.isEmpty { emptyDir = EmptyDirVolumeSource() }
        if secret != nil && secret?.defaultMode == nil { secret?.defaultMode = PodSpec.volumeDefaultMode }
        if configMap != nil && configMap?.defaultMode == nil { configMap?.defaultMode = PodSpec.volumeDefaultMode }
        if hostPath != nil && hostPath?.type == nil { hostPath?.type = "" }
    }
}

/// The parts of an image reference (`[host[:port]/]path[:tag][@digest]`) that defaults and
/// validation need.
enum ImageReference {
    /// The tag: "latest" when there is neither tag nor digest, "" when there is only a digest
    /// or the reference does not parse.
    static func tag(of image: String) -> String {
        // One pass over the bytes, no arrays: this runs for every container of every pod written.
        let bytes = image.utf8
        guard !bytes.isEmpty, !bytes.contains(where: { $0 <= 0x20 || $0 >= 0x7F }) else { return "" }
        let end = bytes.firstIndex(of: UInt8(ascii: "@")) ?? bytes.endIndex
        let hasDigest = end != bytes.endIndex
        let name = bytes[bytes.startIndex..<end]
        let lastSlash = name.lastIndex(of: UInt8(ascii: "/"))
        let lastStart = lastSlash.map { name.index(after: $0) } ?? name.startIndex
        let last = name[lastStart...]
        guard !last.isEmpty else { return "" }
        var repositoryEnd = last.endIndex
        var tag: Substring.UTF8View?
        if let colon = last.lastIndex(of: UInt8(ascii: ":")) {
            repositoryEnd = colon
            let tagBytes = last[last.index(after: colon)...]
            if tagBytes.isEmpty { return "" }
            tag = tagBytes
        }
        // A first component with '.' or ':' (or "localhost") names a registry host, which may
        // hold capitals; the repository path may not, and no component may be empty.
        var pathStart = name.startIndex
        if let firstSlash = name.firstIndex(of: UInt8(ascii: "/")) {
            let first = name[name.startIndex..<firstSlash]
            if first.contains(UInt8(ascii: ".")) || first.contains(UInt8(ascii: ":")) || first.elementsEqual("localhost".utf8) {
                pathStart = name.index(after: firstSlash)
            }
        }
        var previous = UInt8(ascii: "/")
        for b in name[pathStart..<repositoryEnd] {
            if b >= 0x41 && b <= 0x5A { return "" }
            if b == UInt8(ascii: "/") && previous == UInt8(ascii: "/") { return "" }
            previous = b
        }
        if previous == UInt8(ascii: "/") { return "" }
        if let tag { return String(Substring(tag)) }
        return hasDigest ? "" : "latest"
    }
}
