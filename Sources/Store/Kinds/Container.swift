/// One container of a pod (core/v1 Container): the image, how to start it, its ports,
/// environment, resources, mounts, probes and security settings.
public struct Container: WireStruct, Hashable {
    public var name = ""
    public var image = ""
    public var command: [String] = []
    public var args: [String] = []
    public var workingDir = ""
    public var ports: [ContainerPort] = []
    public var envFrom: [EnvFromSource] = []
    public var env: [EnvVar] = []
    public var resources = ResourceRequirements()
    public var resizePolicy: [ContainerResizePolicy] = []
    /// Init containers only: "Always" makes it a sidecar that keeps running.
    public var restartPolicy: String?
    public var volumeMounts: [VolumeMount] = []
    public var volumeDevices: [VolumeDevice] = []
    public var livenessProbe: Probe?
    public var readinessProbe: Probe?
    public var startupProbe: Probe?
    public var lifecycle: Lifecycle?
    public var terminationMessagePath = ""
    public var terminationMessagePolicy = ""
    public var imagePullPolicy = ""
    public var securityContext: SecurityContext?
    public var stdin = false
    public var stdinOnce = false
    public var tty = false

    public init() {}

    /// A container called `name` running `image`.
    public init(name: String, image: String) {
        self.name = name
        self.image = image
    }

    public static let wireInfo = WireStructInfo<Container>(
        "io.k8s.api.core.v1.Container", "One container of a pod: an image and how to run it.",
        [
            .always("name", 1, \.name, "The container's name, a DNS label unique within the pod."),
            .omitEmpty("image", 2, \.image, "The image reference to run (registry/repository:tag or @digest)."),
            .omitEmpty("command", 3, \.command, "The program and arguments to run instead of the image's entrypoint.",
                       semantics: .atomic),
            .omitEmpty("args", 4, \.args, "Arguments given to the entrypoint instead of the image's default ones.",
                       semantics: .atomic),
            .omitEmpty("workingDir", 5, \.workingDir, "The directory the process starts in (default: the image's)."),
            .omitEmpty("ports", 6, \.ports, "Ports the container listens on (informational, and names for probes and services).",
                       semantics: ListSemantics(listType: "map", mapKeys: ["containerPort", "protocol"], merge: true,
                                                mergeKey: "containerPort")),
            .omitEmpty("envFrom", 19, \.envFrom, "Sources whose every key becomes an environment variable.",
                       semantics: .atomic),
            .omitEmpty("env", 7, \.env, "Environment variables; these win over envFrom's.", semantics: .mergeBy("name")),
            .always("resources", 8, \.resources, "CPU, memory and other resources the container requests and may use at most."),
            .omitEmpty("resizePolicy", 23, \.resizePolicy, "How each resource may be resized in place (alpha).",
                       semantics: .atomic),
            .optional("restartPolicy", 24, \.restartPolicy,
                      "Init containers only: Always keeps it running beside the main containers (a sidecar)."),
            .omitEmpty("volumeMounts", 9, \.volumeMounts, "Volumes of the pod mounted into the container's filesystem.",
                       semantics: .mergeBy("mountPath")),
            .omitEmpty("volumeDevices", 21, \.volumeDevices, "Raw block volumes exposed to the container as devices.",
                       semantics: .mergeBy("devicePath")),
            .optional("livenessProbe", 10, \.livenessProbe, "A check whose failures restart the container."),
            .optional("readinessProbe", 11, \.readinessProbe, "A check deciding whether the container receives traffic."),
            .optional("startupProbe", 22, \.startupProbe,
                      "A check that must succeed before the other probes start; its failures restart the container."),
            .optional("lifecycle", 12, \.lifecycle, "Actions run right after the container starts and before it stops."),
            .omitEmpty("terminationMessagePath", 13, \.terminationMessagePath,
                       "The file whose contents become the termination message (default /dev/termination-log)."),
            .omitEmpty("terminationMessagePolicy", 20, \.terminationMessagePolicy,
                       "File (default), or FallbackToLogsOnError to use the log's tail when the file is empty and the container failed."),
            .omitEmpty("imagePullPolicy", 14, \.imagePullPolicy,
                       "Always, IfNotPresent or Never (default: Always for :latest or no tag, otherwise IfNotPresent)."),
            .optional("securityContext", 15, \.securityContext, "Security settings for this container; they win over the pod's."),
            .omitEmpty("stdin", 16, \.stdin, "Keep a standard input stream open for attaching."),
            .omitEmpty("stdinOnce", 17, \.stdinOnce, "Close standard input after the first attached client leaves."),
            .omitEmpty("tty", 18, \.tty, "Give the container a terminal."),
        ])
}

/// A port a container listens on (core/v1 ContainerPort).
public struct ContainerPort: WireStruct, Hashable {
    public var name = ""
    public var hostPort: Int32 = 0
    public var containerPort: Int32 = 0
    public var `protocol` = ""
    public var hostIP = ""

    public init() {}

    public init(containerPort: Int32, name: String = "", protocol: String = "") {
        self.containerPort = containerPort
        self.name = name
        self.protocol = `protocol`
    }

    public static let wireInfo = WireStructInfo<ContainerPort>(
        "io.k8s.api.core.v1.ContainerPort", "A port a container listens on.",
        [
            .omitEmpty("name", 1, \.name, "A name for the port (an IANA service name), for probes and services to refer to."),
            .omitEmpty("hostPort", 2, \.hostPort, "A port of the node forwarded to this one (0: none)."),
            .always("containerPort", 3, \.containerPort, "The port number inside the pod, 1-65535."),
            .omitEmpty("protocol", 4, \.protocol, "TCP (default), UDP or SCTP."),
            .omitEmpty("hostIP", 5, \.hostIP, "The node address the host port binds to."),
        ])
}

/// A volume mounted into a container (core/v1 VolumeMount).
public struct VolumeMount: WireStruct, Hashable {
    public var name = ""
    public var readOnly = false
    public var recursiveReadOnly: String?
    public var mountPath = ""
    public var subPath = ""
    public var mountPropagation: String?
    public var subPathExpr = ""

    public init() {}

    public init(name: String, mountPath: String, readOnly: Bool = false) {
        self.name = name
        self.mountPath = mountPath
        self.readOnly = readOnly
    }

    public static let wireInfo = WireStructInfo<VolumeMount>(
        "io.k8s.api.core.v1.VolumeMount", "Where a volume of the pod appears in a container.",
        [
            .always("name", 1, \.name, "The volume's name in the pod's volumes."),
            .omitEmpty("readOnly", 2, \.readOnly, "Mount it read-only."),
            .optional("recursiveReadOnly", 7, \.recursiveReadOnly,
                      "Whether read-only applies to submounts too: Disabled, IfPossible or Enabled."),
            .always("mountPath", 3, \.mountPath, "The absolute path in the container; may not contain ':'."),
            .omitEmpty("subPath", 4, \.subPath, "A path inside the volume to mount instead of its root."),
            .optional("mountPropagation", 5, \.mountPropagation,
                      "How mounts propagate between host and container: None, HostToContainer or Bidirectional."),
            .omitEmpty("subPathExpr", 6, \.subPathExpr, "Like subPath, with $(VAR) expanded from the container's environment."),
        ])
}

/// A raw block volume given to a container as a device (core/v1 VolumeDevice).
public struct VolumeDevice: WireStruct, Hashable {
    public var name = ""
    public var devicePath = ""
    public init() {}
    public static let wireInfo = WireStructInfo<VolumeDevice>(
        "io.k8s.api.core.v1.VolumeDevice", "A block volume exposed as a device inside a container.",
        [
            .always("name", 1, \.name, "The volume's name (a persistentVolumeClaim of the pod)."),
            .always("devicePath", 2, \.devicePath, "The device's path in the container."),
        ])
}

/// How one resource of a container may be resized in place (core/v1 ContainerResizePolicy).
public struct ContainerResizePolicy: WireStruct, Hashable {
    public var resourceName = ""
    public var restartPolicy = ""
    public init() {}
    public static let wireInfo = WireStructInfo<ContainerResizePolicy>(
        "io.k8s.api.core.v1.ContainerResizePolicy", "Whether resizing a resource restarts the container.",
        [
            .always("resourceName", 1, \.resourceName, "cpu or memory."),
            .always("restartPolicy", 2, \.restartPolicy, "NotRequired or RestartContainer."),
        ])
}
