import JSON

/// Rules Deployments and ReplicaSets share: a selector that matches the template, templates
/// whose pods restart always, counts given as an integer or a percentage.
enum ReplicatedPods {
    static func validateSelector(_ selector: LabelSelectorSpec?, template: PodTemplateSpec, at path: FieldPath,
                                 kindName: String) -> [FieldError] {
        guard let selector else { return [.required(path.child("selector"))] }
        var errors: [FieldError] = []
        guard let parsed = selector.selector(at: path.child("selector"), errors: &errors) else { return errors }
        if selector.matchLabels.isEmpty && selector.matchExpressions.isEmpty {
            errors.append(FieldError(.invalid, path.child("selector"), value: "{}", "empty selector is invalid for \(kindName)"))
        } else if !parsed.matches(template.metadata.labels) {
            errors.append(FieldError(.invalid, path.child("template", "metadata", "labels"),
                                     value: JSONValue.object(JSONObject(template.metadata.labels.sorted { utf8Precedes($0.key, $1.key) }
                                         .map { ($0.key, .string($0.value)) })).description,
                                     "`selector` does not match template `labels`"))
        }
        return errors
    }

    /// Replicated pods are restarted, never left finished.
    static func validateRestartPolicy(_ template: PodTemplateSpec, at path: FieldPath) -> [FieldError] {
        let policy = template.spec.restartPolicy
        guard !policy.isEmpty, policy != "Always" else { return [] }
        return [.notSupported(path.child("spec", "restartPolicy"), policy, ["Always"])]
    }

    /// An int ≥ 0, or "N%" with 0 ≤ N (≤ `percentMax` when given).
    static func validateIntOrPercent(_ value: IntOrString, at path: FieldPath, percentMax: Int?) -> [FieldError] {
        switch value {
        case .int(let count):
            return count < 0 ? [.invalid(path, Int64(count), "must be greater than or equal to 0")] : []
        case .string(let text):
            guard text.hasSuffix("%"), let percent = Int(text.dropLast()), percent >= 0 else {
                return [.invalid(path, text, "a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')")]
            }
            if let percentMax, percent > percentMax {
                return [.invalid(path, text, "must not be greater than 100%")]
            }
            return []
        }
    }

    static func isZero(_ value: IntOrString) -> Bool {
        switch value {
        case .int(let count): return count == 0
        case .string(let text): return text == "0%"
        }
    }
}
