import JSON

/// The metadata rules every typed kind shares (Kubernetes' ValidateObjectMeta and
/// ValidateObjectMetaUpdate), with field paths under `metadata`.
enum MetadataRules {
    /// Most bytes of annotation keys plus values on one object (Kubernetes' 256 KiB).
    static let annotationsSizeMaxBytes = 256 * 1024
    /// Longest uid, in bytes (a UUID takes 36).
    static let uidLengthMax = 128
    /// Longest generateName prefix, in bytes (the suffix adds 5).
    static let generateNameLengthMax = 248

    static func validate(_ meta: ObjectMeta, kind: Kind) -> [FieldError] {
        let path = FieldPath("metadata")
        var errors: [FieldError] = []
        if meta.name.isEmpty {
            errors.append(.required(path.child("name"), "name or generateName is required"))
        } else if let error = kind.nameError(meta.name) {
            errors.append(.invalid(path.child("name"), meta.name, error))
        }
        if meta.generateName.utf8.count > generateNameLengthMax {
            errors.append(.tooLong(path.child("generateName"), maxBytes: generateNameLengthMax))
        }
        if kind.namespaced {
            if meta.namespace.isEmpty {
                errors.append(.required(path.child("namespace")))
            } else if let error = Names.dnsLabelError(meta.namespace) {
                errors.append(.invalid(path.child("namespace"), meta.namespace, error))
            }
        } else if !meta.namespace.isEmpty {
            errors.append(.forbidden(path.child("namespace"), "not allowed on this type"))
        }
        if meta.generation < 0 { errors.append(.invalid(path.child("generation"), meta.generation, "must be greater than or equal to 0")) }
        if meta.uid.utf8.count > uidLengthMax || meta.uid.utf8.contains(where: { $0 <= 0x20 || $0 >= 0x7F }) {
            errors.append(.invalid(path.child("uid"), meta.uid, "must be 1...\(uidLengthMax) printable ASCII bytes"))
        }
        for key in meta.labels.keys.sorted(by: utf8Precedes) {
            if let error = Names.qualifiedNameError(key) { errors.append(.invalid(path.child("labels"), key, error)) }
            if let error = Names.labelValueError(meta.labels[key]!) {
                errors.append(.invalid(path.child("labels"), meta.labels[key]!, error))
            }
        }
        var annotationBytes = 0
        for key in meta.annotations.keys.sorted(by: utf8Precedes) {
            if let error = Names.qualifiedNameError(key.lowercased()) {
                errors.append(.invalid(path.child("annotations"), key, error))
            }
            annotationBytes += key.utf8.count + meta.annotations[key]!.utf8.count
        }
        if annotationBytes > annotationsSizeMaxBytes {
            errors.append(FieldError(.tooLong, path.child("annotations"), "may not be more than \(annotationsSizeMaxBytes) bytes"))
        }
        var controllers = 0
        for (i, owner) in meta.ownerReferences.enumerated() {
            let here = path.child("ownerReferences").index(i)
            if owner.apiVersion.isEmpty { errors.append(.invalid(here.child("apiVersion"), owner.apiVersion, "version must not be empty")) }
            if owner.kind.isEmpty { errors.append(.invalid(here.child("kind"), owner.kind, "kind must not be empty")) }
            if owner.name.isEmpty { errors.append(.invalid(here.child("name"), owner.name, "name must not be empty")) }
            if owner.uid.isEmpty { errors.append(.invalid(here.child("uid"), owner.uid, "uid must not be empty")) }
            if owner.uid == meta.uid && !owner.uid.isEmpty {
                errors.append(.invalid(here.child("uid"), owner.uid, "an object cannot own itself"))
            }
            if owner.controller == true { controllers += 1 }
        }
        if controllers > 1 {
            errors.append(.invalid(path.child("ownerReferences"), "\(controllers) controllers", "Only one reference can have Controller set to true"))
        }
        var seenFinalizers: Set<String> = []
        for (i, finalizer) in meta.finalizers.enumerated() {
            if let error = Names.qualifiedNameError(finalizer) {
                errors.append(.invalid(path.child("finalizers").index(i), finalizer, error))
            }
            if !seenFinalizers.insert(finalizer).inserted {
                errors.append(.duplicate(path.child("finalizers").index(i), finalizer))
            }
        }
        return errors
    }

    /// The rules for changing `old` into `new` beyond those of `validate`.
    static func validateUpdate(_ new: ObjectMeta, _ old: ObjectMeta) -> [FieldError] {
        var errors: [FieldError] = []
        if old.deletionTimestamp != nil {
            let added = Set(new.finalizers).subtracting(old.finalizers)
            if !added.isEmpty {
                errors.append(.forbidden("metadata.finalizers",
                                         "no new finalizers can be added if the object is being deleted, found new finalizers "
                                             + added.sorted(by: utf8Precedes).map(FieldError.quote).joined(separator: ", ")))
            }
        }
        return errors
    }
}
