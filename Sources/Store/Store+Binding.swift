import JSON

/// The binding subresource: the scheduler's one write that assigns a pending pod to a node.
extension Store {
    mutating func bindPod(_ c: WriteContext, journal: inout Journal) -> StoreResult {
        let current: StoredObject, json: JSONValue
        switch boundPod(c) {
        case .failure(let refusal): return refusal
        case .success(let bound): (current, json) = bound
        }
        rewrite(current, c, journal: &journal) { $0 = json }
        guard let stored = get(c.key) else { return .notFound(c.key) }
        return .created(stored)
    }

    /// A binding admitted once on the proposer: the bound pod in its canonical stored form,
    /// expecting the pod as it is now (`Store+Admitted.swift`). The full path re-encodes the
    /// pod on every member — at 2,000 bindings a second, the followers' loops spent most of
    /// their time there. Nil when the binding must take the full path (which then refuses it).
    func admitBinding(_ c: WriteContext) -> AdmittedWrite? {
        guard case .success(let (current, json)) = boundPod(c), let model = c.kind.model, let typed = model.init(stored: json),
              let canonical = StoredObject(typed: typed, kind: c.kind) else { return nil }
        return AdmittedWrite(clusterVersion: clusterVersion, expectation: .current(resourceVersion: current.resourceVersion, uid: current.uid),
                             object: canonical.json)
    }

    /// The pod a binding would store (not yet in canonical form), with the pod it replaces;
    /// or the answer refusing the binding.
    private func boundPod(_ c: WriteContext) -> Result<(StoredObject, JSONValue), StoreResult> {
        guard c.kind.subresources.contains(.binding) else { return .failure(Self.noSubresource(c)) }
        guard case .object(let members)? = c.write.body else { return .failure(.rejected(.badRequest("the body must be a Binding object"))) }
        var context = DecodeContext()
        let binding = Binding.wireInfo.decode(members, &context)
        guard context.typeErrors.isEmpty else {
            return .failure(.rejected(.badRequest("Binding cannot be decoded: \(context.typeErrors.joinedDescription)")))
        }
        let key = c.key
        if !binding.metadata.name.isEmpty && binding.metadata.name != key.name {
            return .failure(.rejected(.badRequest("the name of the binding (\(binding.metadata.name)) does not match the pod (\(key.name))")))
        }
        var errors: [FieldError] = []
        if binding.target.name.isEmpty { errors.append(.required("target.name")) }
        if !binding.target.kind.isEmpty && binding.target.kind != "Node" {
            errors.append(.notSupported("target.kind", binding.target.kind, ["Node"]))
        }
        guard errors.isEmpty else {
            return .failure(.rejected(Rejection(code: 422, reason: "Invalid",
                                                message: "Binding \(FieldError.quote(key.name)) is invalid: \(errors.joinedDescription)",
                                                kind: "Binding", name: key.name, causes: errors)))
        }
        guard let current = get(key) else { return .failure(.notFound(key)) }
        let expectedUID = binding.metadata.uid.isEmpty ? c.write.expectedUID : binding.metadata.uid
        if let conflict = Self.preconditionFailure(current, c.write.expectedResourceVersion, expectedUID) { return .failure(conflict) }
        if let node = current.json["spec"]?["nodeName"]?.stringValue, !node.isEmpty {
            return .failure(.rejected(.conflict(c.kind, name: key.name, "pod \(key.name) is already assigned to node \(FieldError.quote(node))")))
        }
        if current.json["metadata"]?["deletionTimestamp"] != nil {
            return .failure(.rejected(.conflict(c.kind, name: key.name, "pod \(key.name) is being deleted, cannot be assigned to a host")))
        }
        var json = current.json
        json[path: ["spec", "nodeName"]] = .string(binding.target.name)
        var conditions = json["status"]?["conditions"]?.arrayValue ?? []
        let scheduled: JSONValue = .object(JSONObject([
            ("type", "PodScheduled"), ("status", "True"), ("lastProbeTime", .null),
            ("lastTransitionTime", .string(c.now.description)),
        ]))
        if let position = conditions.firstIndex(where: { $0["type"]?.stringValue == "PodScheduled" }) {
            conditions[position] = scheduled
        } else {
            conditions.append(scheduled)
        }
        json[path: ["status", "conditions"]] = .array(conditions)
        return .success((current, json))
    }
}
