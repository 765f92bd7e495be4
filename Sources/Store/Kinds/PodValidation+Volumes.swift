/// Volume and volume mount rules.
extension PodValidation {
    /// Most permission bits a projected file may have (0777).
    static let fileModeMax: Int32 = 0o777

    /// Checks the volumes; returns those with valid, unique names (what mounts may refer to).
    static func volumes(_ volumes: [Volume], at path: FieldPath, errors: inout [FieldError]) -> [String: Volume] {
        var byName: [String: Volume] = [:]
        for (i, volume) in volumes.enumerated() {
            let here = path.index(i)
            if volume.name.isEmpty {
                errors.append(.required(here.child("name")))
            } else if let error = Names.dnsLabelError(volume.name) {
                errors.append(.invalid(here.child("name"), volume.name, error))
            } else if byName[volume.name] != nil {
                errors.append(.duplicate(here.child("name"), volume.name))
            } else {
                byName[volume.name] = volume
            }
            errors += source(volume.source, at: here)
        }
        return byName
    }

    /// Exactly one source, one shoal supports, and that source's rules.
    static func source(_ source: VolumeSource, at path: FieldPath) -> [FieldError] {
        let members = source.setMembers
        if members.isEmpty { return [.required(path, "must specify a volume type")] }
        var errors: [FieldError] = members.dropFirst().map { .forbidden(path.child($0), "may not specify more than 1 volume type") }
        for (name, keyPath) in VolumeSource.unsupported where source[keyPath: keyPath] != nil {
            errors.append(.forbidden(path.child(name), "\(name) volumes are not supported by shoal"))
        }
        if let hostPath = source.hostPath {
            let here = path.child("hostPath")
            if hostPath.path.isEmpty { errors.append(.required(here.child("path"))) }
            if hostPath.path.split(separator: "/").contains("..") {
                errors.append(.invalid(here.child("path"), hostPath.path, "must not contain '..'"))
            }
            if let type = hostPath.type, !HostPathVolumeSource.types.contains(type) {
                errors.append(.notSupported(here.child("type"), type, HostPathVolumeSource.types.sorted(by: utf8Precedes)))
            }
        }
        if let emptyDir = source.emptyDir, let limit = emptyDir.sizeLimit, limit.isNegative {
            errors.append(.invalid(path.child("emptyDir", "sizeLimit"), limit.description, "must be greater than or equal to 0"))
        }
        if let configMap = source.configMap {
            let here = path.child("configMap")
            if configMap.name.isEmpty { errors.append(.required(here.child("name"))) } else { errors += subdomain(configMap.name, at: here.child("name")) }
            errors += projection(items: configMap.items, defaultMode: configMap.defaultMode, at: here)
        }
        if let secret = source.secret {
            let here = path.child("secret")
            if secret.secretName.isEmpty {
                errors.append(.required(here.child("secretName")))
            } else {
                errors += subdomain(secret.secretName, at: here.child("secretName"))
            }
            errors += projection(items: secret.items, defaultMode: secret.defaultMode, at: here)
        }
        if let claim = source.persistentVolumeClaim, claim.claimName.isEmpty {
            errors.append(.required(path.child("persistentVolumeClaim", "claimName")))
        }
        return errors
    }

    /// The items and file modes of a ConfigMap or Secret volume.
    private static func projection(items: [KeyToPath], defaultMode: Int32?, at path: FieldPath) -> [FieldError] {
        var errors = fileMode(defaultMode, at: path.child("defaultMode"))
        for (i, item) in items.enumerated() {
            let here = path.child("items").index(i)
            if item.key.isEmpty { errors.append(.required(here.child("key"))) }
            if item.path.isEmpty {
                errors.append(.required(here.child("path")))
            } else {
                errors += ValidationSyntax.relativePathErrors(item.path).map { .invalid(here.child("path"), item.path, $0) }
            }
            errors += fileMode(item.mode, at: here.child("mode"))
        }
        return errors
    }

    private static func fileMode(_ mode: Int32?, at path: FieldPath) -> [FieldError] {
        guard let mode, mode < 0 || mode > fileModeMax else { return [] }
        return [.invalid(path, Int64(mode), "must be a number between 0 and 0777 (octal), both inclusive")]
    }

    static let mountPropagationModes = ["Bidirectional", "HostToContainer", "None"]
    static let recursiveReadOnlyModes = ["Disabled", "IfPossible", "Enabled"]

    /// Mounts name existing volumes at unique absolute-ish paths; devices name claims.
    static func volumeMounts(_ c: Container, at containerPath: FieldPath, volumes: [String: Volume]) -> [FieldError] {
        var errors: [FieldError] = []
        var mountPaths: Set<String> = []
        for (i, mount) in c.volumeMounts.enumerated() {
            let here = containerPath.child("volumeMounts").index(i)
            if mount.name.isEmpty {
                errors.append(.required(here.child("name")))
            } else if volumes[mount.name] == nil {
                errors.append(FieldError(.notFound, here.child("name"), value: FieldError.quote(mount.name)))
            }
            if mount.mountPath.isEmpty {
                errors.append(.required(here.child("mountPath")))
            } else if !mountPaths.insert(mount.mountPath).inserted {
                errors.append(.invalid(here.child("mountPath"), mount.mountPath, "must be unique"))
            }
            if !mount.subPath.isEmpty {
                errors += ValidationSyntax.relativePathErrors(mount.subPath).map { .invalid(here.child("subPath"), mount.subPath, $0) }
            }
            if !mount.subPathExpr.isEmpty {
                if !mount.subPath.isEmpty {
                    errors.append(.invalid(here.child("subPathExpr"), mount.subPathExpr, "subPathExpr and subPath are mutually exclusive"))
                }
                errors += ValidationSyntax.relativePathErrors(mount.subPathExpr).map {
                    .invalid(here.child("subPathExpr"), mount.subPathExpr, $0)
                }
            }
            if let mode = mount.mountPropagation {
                errors += oneOf(mode, mountPropagationModes, at: here.child("mountPropagation"))
            }
            if let mode = mount.recursiveReadOnly {
                errors += oneOf(mode, recursiveReadOnlyModes, at: here.child("recursiveReadOnly"))
                if mode != "Disabled" && !mount.readOnly {
                    errors.append(.forbidden(here.child("recursiveReadOnly"), "may only be specified when readOnly is true"))
                }
            }
        }
        for (i, device) in c.volumeDevices.enumerated() {
            let here = containerPath.child("volumeDevices").index(i)
            if device.name.isEmpty {
                errors.append(.required(here.child("name")))
            } else if let volume = volumes[device.name] {
                if volume.source.persistentVolumeClaim == nil {
                    errors.append(.invalid(here.child("name"), device.name, "can only use volume source type of PersistentVolumeClaim for block mode"))
                }
            } else {
                errors.append(FieldError(.notFound, here.child("name"), value: FieldError.quote(device.name)))
            }
            if device.devicePath.isEmpty { errors.append(.required(here.child("devicePath"))) }
        }
        return errors
    }
}
