/// A health check of a container (core/v1 Probe): one handler (exec, httpGet, tcpSocket or
/// grpc) and its timing. The handler's fields sit beside the timing in JSON (Go embeds
/// ProbeHandler inline, protobuf field 1).
public struct Probe: WireStruct, Hashable {
    public var handler = ProbeHandler()
    public var initialDelaySeconds: Int32 = 0
    public var timeoutSeconds: Int32 = 0
    public var periodSeconds: Int32 = 0
    public var successThreshold: Int32 = 0
    public var failureThreshold: Int32 = 0
    public var terminationGracePeriodSeconds: Int64?

    public init() {}

    public init(handler: ProbeHandler) { self.handler = handler }

    public static let wireInfo = WireStructInfo<Probe>(
        "io.k8s.api.core.v1.Probe", "A periodic check of a container's health.",
        WireStructInfo.inlining(ProbeHandler.self, in: \Probe.handler) + [
            .omitEmpty("initialDelaySeconds", 2, \.initialDelaySeconds, "Seconds after the container starts before the first check."),
            .omitEmpty("timeoutSeconds", 3, \.timeoutSeconds, "Seconds a check may take before it counts as failed (default 1)."),
            .omitEmpty("periodSeconds", 4, \.periodSeconds, "Seconds between checks (default 10)."),
            .omitEmpty("successThreshold", 5, \.successThreshold,
                       "Consecutive successes that make a failing probe pass (default 1; must be 1 for liveness and startup)."),
            .omitEmpty("failureThreshold", 6, \.failureThreshold, "Consecutive failures that make a passing probe fail (default 3)."),
            .optional("terminationGracePeriodSeconds", 7, \.terminationGracePeriodSeconds,
                      "Grace period for stopping the container when this probe fails, instead of the pod's."),
        ])

    /// Kubernetes' probe defaults, applied to fields left 0.
    public static let timeoutSecondsDefault: Int32 = 1
    public static let periodSecondsDefault: Int32 = 10
    public static let successThresholdDefault: Int32 = 1
    public static let failureThresholdDefault: Int32 = 3
}

/// What a probe does (core/v1 ProbeHandler): exactly one member is set.
public struct ProbeHandler: WireStruct, Hashable {
    public var exec: ExecAction?
    public var httpGet: HTTPGetAction?
    public var tcpSocket: TCPSocketAction?
    public var grpc: GRPCAction?

    public init() {}

    public static let wireInfo = WireStructInfo<ProbeHandler>(
        "io.k8s.api.core.v1.ProbeHandler", "The action of a probe; set exactly one member.",
        [
            .optional("exec", 1, \.exec, "Run a command in the container; exit status 0 passes."),
            .optional("httpGet", 2, \.httpGet, "An HTTP GET; a status from 200 to 399 passes."),
            .optional("tcpSocket", 3, \.tcpSocket, "Open a TCP connection; connecting passes."),
            .optional("grpc", 4, \.grpc, "Call the gRPC health service; SERVING passes."),
        ])

    /// The names of the members set, in declaration order.
    var setMembers: [String] {
        var names: [String] = []
        if exec != nil { names.append("exec") }
        if httpGet != nil { names.append("httpGet") }
        if tcpSocket != nil { names.append("tcpSocket") }
        if grpc != nil { names.append("grpc") }
        return names
    }
}

/// A command run in the container (core/v1 ExecAction).
public struct ExecAction: WireStruct, Hashable {
    public var command: [String] = []
    public init() {}
    public init(command: [String]) { self.command = command }
    public static let wireInfo = WireStructInfo<ExecAction>(
        "io.k8s.api.core.v1.ExecAction", "A command run inside the container, without a shell.",
        [.omitEmpty("command", 1, \.command, "The program and its arguments.", semantics: .atomic)])
}

/// An HTTP GET against the pod (core/v1 HTTPGetAction).
public struct HTTPGetAction: WireStruct, Hashable {
    public var path = ""
    public var port = IntOrString.int(0)
    public var host = ""
    public var scheme = ""
    public var httpHeaders: [HTTPHeader] = []

    public init() {}

    public init(path: String = "", port: IntOrString) {
        self.path = path
        self.port = port
    }

    public static let wireInfo = WireStructInfo<HTTPGetAction>(
        "io.k8s.api.core.v1.HTTPGetAction", "An HTTP GET request.",
        [
            .omitEmpty("path", 1, \.path, "The request path (default /)."),
            .always("port", 2, \.port, "The port: a number, or the name of a container port."),
            .omitEmpty("host", 3, \.host, "The host to connect to (default: the pod's address)."),
            .omitEmpty("scheme", 4, \.scheme, "HTTP (default) or HTTPS (certificates are not verified)."),
            .omitEmpty("httpHeaders", 5, \.httpHeaders, "Extra request headers.", semantics: .atomic),
        ])
}

/// One HTTP header of a probe's request (core/v1 HTTPHeader).
public struct HTTPHeader: WireStruct, Hashable {
    public var name = ""
    public var value = ""
    public init() {}
    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }
    public static let wireInfo = WireStructInfo<HTTPHeader>(
        "io.k8s.api.core.v1.HTTPHeader", "An HTTP header.",
        [
            .always("name", 1, \.name, "The header's name."),
            .always("value", 2, \.value, "The header's value."),
        ])
}

/// A TCP connection attempt (core/v1 TCPSocketAction).
public struct TCPSocketAction: WireStruct, Hashable {
    public var port = IntOrString.int(0)
    public var host = ""
    public init() {}
    public init(port: IntOrString) { self.port = port }
    public static let wireInfo = WireStructInfo<TCPSocketAction>(
        "io.k8s.api.core.v1.TCPSocketAction", "Opening a TCP connection.",
        [
            .always("port", 1, \.port, "The port: a number, or the name of a container port."),
            .omitEmpty("host", 2, \.host, "The host to connect to (default: the pod's address)."),
        ])
}

/// A gRPC health check (core/v1 GRPCAction).
public struct GRPCAction: WireStruct, Hashable {
    public var port: Int32 = 0
    public var service: String?
    public init() {}
    public static let wireInfo = WireStructInfo<GRPCAction>(
        "io.k8s.api.core.v1.GRPCAction", "A call to the standard gRPC health service.",
        [
            .always("port", 1, \.port, "The port number, 1-65535."),
            .optional("service", 2, \.service, "The service name sent in the health request (default \"\")."),
        ])
}

/// Actions around a container's start and stop (core/v1 Lifecycle).
public struct Lifecycle: WireStruct, Hashable {
    public var postStart: LifecycleHandler?
    public var preStop: LifecycleHandler?
    public init() {}
    public static let wireInfo = WireStructInfo<Lifecycle>(
        "io.k8s.api.core.v1.Lifecycle", "Actions run when a container starts and before it stops.",
        [
            .optional("postStart", 1, \.postStart, "Run right after the container is created; failure restarts it."),
            .optional("preStop", 2, \.preStop, "Run before the container is stopped; the grace period includes it."),
        ])
}

/// What a lifecycle hook does (core/v1 LifecycleHandler): exactly one member is set.
public struct LifecycleHandler: WireStruct, Hashable {
    public var exec: ExecAction?
    public var httpGet: HTTPGetAction?
    public var tcpSocket: TCPSocketAction?
    public var sleep: SleepAction?

    public init() {}

    public static let wireInfo = WireStructInfo<LifecycleHandler>(
        "io.k8s.api.core.v1.LifecycleHandler", "The action of a lifecycle hook; set exactly one member.",
        [
            .optional("exec", 1, \.exec, "Run a command in the container."),
            .optional("httpGet", 2, \.httpGet, "Send an HTTP GET."),
            .optional("tcpSocket", 3, \.tcpSocket, "Deprecated: accepted and never run."),
            .optional("sleep", 4, \.sleep, "Wait a number of seconds."),
        ])

    /// The names of the members set, in declaration order.
    var setMembers: [String] {
        var names: [String] = []
        if exec != nil { names.append("exec") }
        if httpGet != nil { names.append("httpGet") }
        if tcpSocket != nil { names.append("tcpSocket") }
        if sleep != nil { names.append("sleep") }
        return names
    }
}

/// A pause in a lifecycle hook (core/v1 SleepAction).
public struct SleepAction: WireStruct, Hashable {
    public var seconds: Int64 = 0
    public init() {}
    public static let wireInfo = WireStructInfo<SleepAction>(
        "io.k8s.api.core.v1.SleepAction", "Waiting before going on.",
        [.always("seconds", 1, \.seconds, "How many seconds to wait.")])
}
