import JSON

/// What an update of a pod may change (Kubernetes' ValidatePodUpdate): a running pod's spec
/// is fixed, but for container images, a shorter deadline, added tolerations, and a negative
/// grace period mended to 1.
extension PodValidation {
    /// The message of a forbidden pod spec change, as Kubernetes words it.
    static let podUpdateMessage = "pod updates may not change fields other than `spec.containers[*].image`,"
        + "`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,"
        + "`spec.tolerations` (only additions to existing tolerations),"
        + "`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)"

    static func update(_ new: PodSpec, from old: PodSpec, at path: FieldPath) -> [FieldError] {
        var errors: [FieldError] = []
        // The old spec with every change that is allowed taken from the new one: what is left
        // must be the new spec.
        var allowed = old
        if new.containers.count == old.containers.count {
            for i in allowed.containers.indices { allowed.containers[i].image = new.containers[i].image }
        }
        if new.initContainers.count == old.initContainers.count {
            for i in allowed.initContainers.indices { allowed.initContainers[i].image = new.initContainers[i].image }
        }
        if let oldDeadline = old.activeDeadlineSeconds {
            if let newDeadline = new.activeDeadlineSeconds {
                if newDeadline > oldDeadline {
                    errors.append(.invalid(path.child("activeDeadlineSeconds"), newDeadline, "must be less than or equal to previous value"))
                }
            } else {
                errors.append(FieldError(.invalid, path.child("activeDeadlineSeconds"), value: "null",
                                         "must not update from a positive integer to nil value"))
            }
        }
        allowed.activeDeadlineSeconds = new.activeDeadlineSeconds
        errors += tolerationsUpdate(new.tolerations, from: old.tolerations, at: path.child("tolerations"))
        allowed.tolerations = new.tolerations
        if let oldGrace = old.terminationGracePeriodSeconds, oldGrace < 0, new.terminationGracePeriodSeconds == 1 {
            allowed.terminationGracePeriodSeconds = 1
        }
        if allowed != new {
            let changed = changedFields(new, allowed).map { "spec.\($0)" }.joined(separator: ", ")
            errors.append(.forbidden(path, podUpdateMessage + "\n  changed: " + changed))
        }
        return errors
    }

    /// Tolerations may be added; existing ones stay, except for their seconds.
    static func tolerationsUpdate(_ new: [Toleration], from old: [Toleration], at path: FieldPath) -> [FieldError] {
        for existing in old {
            let kept = new.contains { candidate in
                var same = candidate
                same.tolerationSeconds = existing.tolerationSeconds
                return same == existing
            }
            if !kept { return [.forbidden(path, "existing toleration can not be modified except its tolerationSeconds")] }
        }
        return []
    }

    /// The names of the top-level spec fields whose wire forms differ.
    private static func changedFields(_ a: PodSpec, _ b: PodSpec) -> [String] {
        let x = PodSpec.wireInfo.encode(a)
        let y = PodSpec.wireInfo.encode(b)
        return PodSpec.wireInfo.fields.map(\.schema.name).filter { name in
            switch (x[name], y[name]) {
            case (nil, nil): return false
            case (let p?, let q?): return !p.identical(to: q)
            default: return true
            }
        }
    }
}
