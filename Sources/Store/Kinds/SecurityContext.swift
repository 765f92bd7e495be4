/// Security settings of one container (core/v1 SecurityContext); set fields win over the
/// pod's `PodSecurityContext`.
public struct SecurityContext: WireStruct, Hashable {
    public var capabilities: Capabilities?
    public var privileged: Bool?
    public var seLinuxOptions: SELinuxOptions?
    public var windowsOptions: WindowsSecurityContextOptions?
    public var runAsUser: Int64?
    public var runAsGroup: Int64?
    public var runAsNonRoot: Bool?
    public var readOnlyRootFilesystem: Bool?
    public var allowPrivilegeEscalation: Bool?
    public var procMount: String?
    public var seccompProfile: SeccompProfile?
    public var appArmorProfile: AppArmorProfile?

    public init() {}

    public static let wireInfo = WireStructInfo<SecurityContext>(
        "io.k8s.api.core.v1.SecurityContext", "Security settings of a container.",
        [
            .optional("capabilities", 1, \.capabilities, "Linux capabilities added to or dropped from the runtime's default set."),
            .optional("privileged", 2, \.privileged, "Run with the node's full privileges."),
            .optional("seLinuxOptions", 3, \.seLinuxOptions, "The SELinux context of the container."),
            .optional("windowsOptions", 10, \.windowsOptions, "Windows-only settings."),
            .optional("runAsUser", 4, \.runAsUser, "The user ID the process runs as."),
            .optional("runAsGroup", 8, \.runAsGroup, "The primary group ID of the process."),
            .optional("runAsNonRoot", 5, \.runAsNonRoot, "Refuse to start the container if it would run as user 0."),
            .optional("readOnlyRootFilesystem", 6, \.readOnlyRootFilesystem, "Mount the container's root filesystem read-only."),
            .optional("allowPrivilegeEscalation", 7, \.allowPrivilegeEscalation,
                      "Whether the process may gain more privileges than its parent (no_new_privs when false)."),
            .optional("procMount", 9, \.procMount, "Default (masked /proc) or Unmasked."),
            .optional("seccompProfile", 11, \.seccompProfile, "The seccomp profile."),
            .optional("appArmorProfile", 12, \.appArmorProfile, "The AppArmor profile."),
        ])
}

/// Security settings of a whole pod (core/v1 PodSecurityContext).
public struct PodSecurityContext: WireStruct, Hashable {
    public var seLinuxOptions: SELinuxOptions?
    public var windowsOptions: WindowsSecurityContextOptions?
    public var runAsUser: Int64?
    public var runAsGroup: Int64?
    public var runAsNonRoot: Bool?
    public var supplementalGroups: [Int64] = []
    public var supplementalGroupsPolicy: String?
    public var fsGroup: Int64?
    public var sysctls: [Sysctl] = []
    public var fsGroupChangePolicy: String?
    public var seccompProfile: SeccompProfile?
    public var appArmorProfile: AppArmorProfile?
    public var seLinuxChangePolicy: String?

    public init() {}

    public static let wireInfo = WireStructInfo<PodSecurityContext>(
        "io.k8s.api.core.v1.PodSecurityContext", "Security settings of every container of a pod, and of its volumes.",
        [
            .optional("seLinuxOptions", 1, \.seLinuxOptions, "The SELinux context of the containers."),
            .optional("windowsOptions", 8, \.windowsOptions, "Windows-only settings."),
            .optional("runAsUser", 2, \.runAsUser, "The user ID processes run as."),
            .optional("runAsGroup", 6, \.runAsGroup, "The primary group ID of the processes."),
            .optional("runAsNonRoot", 3, \.runAsNonRoot, "Refuse to start containers that would run as user 0."),
            .omitEmpty("supplementalGroups", 4, \.supplementalGroups, "More group IDs for the first process of each container.",
                       semantics: .atomic),
            .optional("supplementalGroupsPolicy", 12, \.supplementalGroupsPolicy,
                      "Merge (add the image's groups) or Strict (only those given)."),
            .optional("fsGroup", 5, \.fsGroup, "A group that owns the pod's volumes and is added to every process."),
            .omitEmpty("sysctls", 7, \.sysctls, "Namespaced kernel parameters set for the pod.", semantics: .atomic),
            .optional("fsGroupChangePolicy", 9, \.fsGroupChangePolicy,
                      "When volume ownership is changed to fsGroup: OnRootMismatch or Always."),
            .optional("seccompProfile", 10, \.seccompProfile, "The seccomp profile of the containers."),
            .optional("appArmorProfile", 11, \.appArmorProfile, "The AppArmor profile of the containers."),
            .optional("seLinuxChangePolicy", 13, \.seLinuxChangePolicy, "How the SELinux label is applied to volumes (alpha)."),
        ])
}

/// Linux capabilities to add and drop (core/v1 Capabilities).
public struct Capabilities: WireStruct, Hashable {
    public var add: [String] = []
    public var drop: [String] = []
    public init() {}
    public static let wireInfo = WireStructInfo<Capabilities>(
        "io.k8s.api.core.v1.Capabilities", "Linux capabilities added and dropped.",
        [
            .omitEmpty("add", 1, \.add, "Capabilities to add (e.g. NET_ADMIN).", semantics: .atomic),
            .omitEmpty("drop", 2, \.drop, "Capabilities to drop (ALL for every one).", semantics: .atomic),
        ])
}

/// An SELinux context (core/v1 SELinuxOptions).
public struct SELinuxOptions: WireStruct, Hashable {
    public var user = ""
    public var role = ""
    public var type = ""
    public var level = ""
    public init() {}
    public static let wireInfo = WireStructInfo<SELinuxOptions>(
        "io.k8s.api.core.v1.SELinuxOptions", "The parts of an SELinux label.",
        [
            .omitEmpty("user", 1, \.user, "The SELinux user."),
            .omitEmpty("role", 2, \.role, "The SELinux role."),
            .omitEmpty("type", 3, \.type, "The SELinux type."),
            .omitEmpty("level", 4, \.level, "The SELinux level."),
        ])
}

/// A seccomp profile (core/v1 SeccompProfile).
public struct SeccompProfile: WireStruct, Hashable {
    public var type = ""
    public var localhostProfile: String?
    public init() {}
    public init(type: String) { self.type = type }
    public static let wireInfo = WireStructInfo<SeccompProfile>(
        "io.k8s.api.core.v1.SeccompProfile", "Which system call filter applies.",
        [
            .always("type", 1, \.type, "RuntimeDefault, Unconfined or Localhost."),
            .optional("localhostProfile", 2, \.localhostProfile,
                      "Localhost only: the profile's file, relative to the node's seccomp directory."),
        ])

    static let types = ["Localhost", "RuntimeDefault", "Unconfined"]
}

/// An AppArmor profile (core/v1 AppArmorProfile).
public struct AppArmorProfile: WireStruct, Hashable {
    public var type = ""
    public var localhostProfile: String?
    public init() {}
    public static let wireInfo = WireStructInfo<AppArmorProfile>(
        "io.k8s.api.core.v1.AppArmorProfile", "Which AppArmor profile applies.",
        [
            .always("type", 1, \.type, "RuntimeDefault, Unconfined or Localhost."),
            .optional("localhostProfile", 2, \.localhostProfile, "Localhost only: the name of a profile loaded on the node."),
        ])
}

/// Windows-only security settings (core/v1 WindowsSecurityContextOptions), accepted and
/// stored; shoal runs Linux containers.
public struct WindowsSecurityContextOptions: WireStruct, Hashable {
    public var gmsaCredentialSpecName: String?
    public var gmsaCredentialSpec: String?
    public var runAsUserName: String?
    public var hostProcess: Bool?
    public init() {}
    public static let wireInfo = WireStructInfo<WindowsSecurityContextOptions>(
        "io.k8s.api.core.v1.WindowsSecurityContextOptions", "Settings for Windows containers.",
        [
            .optional("gmsaCredentialSpecName", 1, \.gmsaCredentialSpecName, "The name of a GMSA credential spec."),
            .optional("gmsaCredentialSpec", 2, \.gmsaCredentialSpec, "The contents of a GMSA credential spec."),
            .optional("runAsUserName", 3, \.runAsUserName, "The Windows user name the process runs as."),
            .optional("hostProcess", 4, \.hostProcess, "Run as a Windows host process."),
        ])
}

/// A namespaced kernel parameter (core/v1 Sysctl).
public struct Sysctl: WireStruct, Hashable {
    public var name = ""
    public var value = ""
    public init() {}
    public static let wireInfo = WireStructInfo<Sysctl>(
        "io.k8s.api.core.v1.Sysctl", "A kernel parameter and its value.",
        [
            .always("name", 1, \.name, "The parameter, e.g. net.ipv4.ip_local_port_range."),
            .always("value", 2, \.value, "Its value."),
        ])
}
