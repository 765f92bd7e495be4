/// A volume of a pod (core/v1 Volume): a name and one source. The source's fields sit beside
/// `name` in JSON (Go embeds VolumeSource inline, protobuf field 2).
public struct Volume: WireStruct, Hashable {
    public var name = ""
    public var source = VolumeSource()

    public init() {}

    public init(name: String, source: VolumeSource) {
        self.name = name
        self.source = source
    }

    public static let wireInfo = WireStructInfo<Volume>(
        "io.k8s.api.core.v1.Volume", "A named volume the pod's containers can mount.",
        [.always("name", 1, \Volume.name, "The volume's name, a DNS label unique within the pod.")]
            + WireStructInfo.inlining(VolumeSource.self, in: \Volume.source))
}

/// Where a volume's contents come from (core/v1 VolumeSource): exactly one member is set.
///
/// shoal supports emptyDir, hostPath, configMap, secret and persistentVolumeClaim. Every other
/// source decodes (kept as sent) so manifests that name them are read correctly, and
/// validation refuses them (`Forbidden: nfs volumes are not supported by shoal`).
public struct VolumeSource: WireStruct, Hashable {
    public var hostPath: HostPathVolumeSource?
    public var emptyDir: EmptyDirVolumeSource?
    public var gcePersistentDisk: RawJSON?
    public var awsElasticBlockStore: RawJSON?
    public var gitRepo: RawJSON?
    public var secret: SecretVolumeSource?
    public var nfs: RawJSON?
    public var iscsi: RawJSON?
    public var glusterfs: RawJSON?
    public var persistentVolumeClaim: PersistentVolumeClaimVolumeSource?
    public var rbd: RawJSON?
    public var flexVolume: RawJSON?
    public var cinder: RawJSON?
    public var cephfs: RawJSON?
    public var flocker: RawJSON?
    public var downwardAPI: RawJSON?
    public var fc: RawJSON?
    public var azureFile: RawJSON?
    public var configMap: ConfigMapVolumeSource?
    public var vsphereVolume: RawJSON?
    public var quobyte: RawJSON?
    public var azureDisk: RawJSON?
    public var photonPersistentDisk: RawJSON?
    public var projected: RawJSON?
    public var portworxVolume: RawJSON?
    public var scaleIO: RawJSON?
    public var storageos: RawJSON?
    public var csi: RawJSON?
    public var ephemeral: RawJSON?
    public var image: RawJSON?

    public init() {}

    public init(emptyDir: EmptyDirVolumeSource) { self.emptyDir = emptyDir }
    public init(hostPath: HostPathVolumeSource) { self.hostPath = hostPath }
    public init(configMap: ConfigMapVolumeSource) { self.configMap = configMap }
    public init(secret: SecretVolumeSource) { self.secret = secret }
    public init(persistentVolumeClaim: PersistentVolumeClaimVolumeSource) { self.persistentVolumeClaim = persistentVolumeClaim }

    /// The sources shoal accepts but does not provide, in declaration order.
    static let unsupported: [(name: String, keyPath: WritableKeyPath<VolumeSource, RawJSON?> & Sendable)] = [
        ("gcePersistentDisk", \.gcePersistentDisk), ("awsElasticBlockStore", \.awsElasticBlockStore), ("gitRepo", \.gitRepo),
        ("nfs", \.nfs), ("iscsi", \.iscsi), ("glusterfs", \.glusterfs), ("rbd", \.rbd), ("flexVolume", \.flexVolume),
        ("cinder", \.cinder), ("cephfs", \.cephfs), ("flocker", \.flocker), ("downwardAPI", \.downwardAPI), ("fc", \.fc),
        ("azureFile", \.azureFile), ("vsphereVolume", \.vsphereVolume), ("quobyte", \.quobyte), ("azureDisk", \.azureDisk),
        ("photonPersistentDisk", \.photonPersistentDisk), ("projected", \.projected), ("portworxVolume", \.portworxVolume),
        ("scaleIO", \.scaleIO), ("storageos", \.storageos), ("csi", \.csi), ("ephemeral", \.ephemeral), ("image", \.image),
    ]

    /// The names of the members set, in wire order.
    var setMembers: [String] {
        var names: [String] = []
        if hostPath != nil { names.append("hostPath") }
        if emptyDir != nil { names.append("emptyDir") }
        if secret != nil { names.append("secret") }
        if persistentVolumeClaim != nil { names.append("persistentVolumeClaim") }
        if configMap != nil { names.append("configMap") }
        for (name, keyPath) in Self.unsupported where self[keyPath: keyPath] != nil { names.append(name) }
        return names
    }

    private static func other(_ name: String, _ number: Int, _ doc: String) -> WireField<VolumeSource> {
        let keyPath = unsupported.first { $0.name == name }!.keyPath
        return .optional(name, number, keyPath, doc + " Not supported by shoal (kept as sent, refused by validation).")
    }

    public static let wireInfo = WireStructInfo<VolumeSource>(
        "io.k8s.api.core.v1.VolumeSource", "The source of a volume's contents; set exactly one member.",
        [
            .optional("hostPath", 1, \.hostPath, "A file or directory of the node."),
            .optional("emptyDir", 2, \.emptyDir, "An empty directory made when the pod starts and removed with it."),
            other("gcePersistentDisk", 3, "A Google Compute Engine disk."),
            other("awsElasticBlockStore", 4, "An AWS EBS volume."),
            other("gitRepo", 5, "A git repository cloned into a directory (deprecated)."),
            .optional("secret", 6, \.secret, "The keys of a Secret as files."),
            other("nfs", 7, "An NFS export."),
            other("iscsi", 8, "An iSCSI disk."),
            other("glusterfs", 9, "A GlusterFS volume."),
            .optional("persistentVolumeClaim", 10, \.persistentVolumeClaim, "The volume bound to a PersistentVolumeClaim."),
            other("rbd", 11, "A Ceph block device."),
            other("flexVolume", 12, "A volume provided by a FlexVolume driver."),
            other("cinder", 13, "An OpenStack Cinder volume."),
            other("cephfs", 14, "A CephFS mount."),
            other("flocker", 15, "A Flocker dataset."),
            other("downwardAPI", 16, "Fields of the pod as files."),
            other("fc", 17, "A Fibre Channel disk."),
            other("azureFile", 18, "An Azure File share."),
            .optional("configMap", 19, \.configMap, "The keys of a ConfigMap as files."),
            other("vsphereVolume", 20, "A vSphere disk."),
            other("quobyte", 21, "A Quobyte volume."),
            other("azureDisk", 22, "An Azure data disk."),
            other("photonPersistentDisk", 23, "A Photon Controller disk."),
            other("projected", 26, "Several sources (secrets, ConfigMaps, tokens, pod fields) in one directory."),
            other("portworxVolume", 24, "A Portworx volume."),
            other("scaleIO", 25, "A ScaleIO volume."),
            other("storageos", 27, "A StorageOS volume."),
            other("csi", 28, "An ephemeral volume from a CSI driver."),
            other("ephemeral", 29, "A volume from a claim made for the pod and deleted with it."),
            other("image", 30, "The contents of an OCI image or artifact."),
        ])
}

/// A file or directory of the node (core/v1 HostPathVolumeSource).
public struct HostPathVolumeSource: WireStruct, Hashable {
    public var path = ""
    public var type: String?
    public init() {}
    public init(path: String, type: String? = nil) {
        self.path = path
        self.type = type
    }
    public static let wireInfo = WireStructInfo<HostPathVolumeSource>(
        "io.k8s.api.core.v1.HostPathVolumeSource", "A path on the node mounted into the pod.",
        [
            .always("path", 1, \.path, "The path on the node."),
            .optional("type", 2, \.type,
                      "What must be at the path: \"\" (no check), DirectoryOrCreate, Directory, FileOrCreate, File, Socket, CharDevice or BlockDevice."),
        ])

    /// The values `type` may take.
    static let types = ["", "DirectoryOrCreate", "Directory", "FileOrCreate", "File", "Socket", "CharDevice", "BlockDevice"]
}

/// A scratch directory living as long as the pod (core/v1 EmptyDirVolumeSource).
public struct EmptyDirVolumeSource: WireStruct, Hashable {
    public var medium = ""
    public var sizeLimit: Quantity?
    public init() {}
    public static let wireInfo = WireStructInfo<EmptyDirVolumeSource>(
        "io.k8s.api.core.v1.EmptyDirVolumeSource", "An empty directory for the pod's lifetime.",
        [
            .omitEmpty("medium", 1, \.medium, "\"\" for the node's disk, Memory for a tmpfs, or HugePages."),
            .optional("sizeLimit", 2, \.sizeLimit, "The most it may hold."),
        ])
}

/// A ConfigMap's keys as files (core/v1 ConfigMapVolumeSource). `name` comes from an
/// embedded LocalObjectReference (protobuf field 1).
public struct ConfigMapVolumeSource: WireStruct, Hashable {
    public var name = ""
    public var items: [KeyToPath] = []
    public var defaultMode: Int32?
    public var optional: Bool?
    public init() {}
    public init(name: String) { self.name = name }
    public static let wireInfo = WireStructInfo<ConfigMapVolumeSource>(
        "io.k8s.api.core.v1.ConfigMapVolumeSource", "A ConfigMap's keys as files.",
        [
            .omitEmpty("name", nil, \.name, "The ConfigMap's name."),
            .omitEmpty("items", 2, \.items, "Which keys to project and where (default: every key, as a file of its name).",
                       semantics: .atomic),
            .optional("defaultMode", 3, \.defaultMode, "Permission bits of the files (default 0644)."),
            .optional("optional", 4, \.optional, "true: a missing ConfigMap or key is not an error."),
        ])
}

/// A Secret's keys as files (core/v1 SecretVolumeSource).
public struct SecretVolumeSource: WireStruct, Hashable {
    public var secretName = ""
    public var items: [KeyToPath] = []
    public var defaultMode: Int32?
    public var optional: Bool?
    public init() {}
    public init(secretName: String) { self.secretName = secretName }
    public static let wireInfo = WireStructInfo<SecretVolumeSource>(
        "io.k8s.api.core.v1.SecretVolumeSource", "A Secret's keys as files.",
        [
            .omitEmpty("secretName", 1, \.secretName, "The Secret's name."),
            .omitEmpty("items", 2, \.items, "Which keys to project and where (default: every key, as a file of its name).",
                       semantics: .atomic),
            .optional("defaultMode", 3, \.defaultMode, "Permission bits of the files (default 0644)."),
            .optional("optional", 4, \.optional, "true: a missing Secret or key is not an error."),
        ])
}

/// One key projected to a file (core/v1 KeyToPath).
public struct KeyToPath: WireStruct, Hashable {
    public var key = ""
    public var path = ""
    public var mode: Int32?
    public init() {}
    public init(key: String, path: String) {
        self.key = key
        self.path = path
    }
    public static let wireInfo = WireStructInfo<KeyToPath>(
        "io.k8s.api.core.v1.KeyToPath", "A key and the relative file path it is written to.",
        [
            .always("key", 1, \.key, "The key."),
            .always("path", 2, \.path, "The relative path of the file; may not contain '..'."),
            .optional("mode", 3, \.mode, "Permission bits of this file (default: the volume's defaultMode)."),
        ])
}

/// The volume bound to a claim (core/v1 PersistentVolumeClaimVolumeSource).
public struct PersistentVolumeClaimVolumeSource: WireStruct, Hashable {
    public var claimName = ""
    public var readOnly = false
    public init() {}
    public init(claimName: String) { self.claimName = claimName }
    public static let wireInfo = WireStructInfo<PersistentVolumeClaimVolumeSource>(
        "io.k8s.api.core.v1.PersistentVolumeClaimVolumeSource", "The volume bound to a PersistentVolumeClaim of the namespace.",
        [
            .always("claimName", 1, \.claimName, "The claim's name."),
            .omitEmpty("readOnly", 2, \.readOnly, "Mount it read-only."),
        ])
}
