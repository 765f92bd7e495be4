import JSON

/// The binding subresource: the scheduler's one write that assigns a pending pod to a node.
extension Store {
    mutating func bindPod(_ c: WriteContext, journal: inout Journal) -> StoreResult {
        guard c.kind.subresources.contains(.binding) else { return Self.noSubresource(c) }
        guard case .object(let members)? = c.write.body else { return .rejected(.badRequest("the body must be a Binding object")) }
        var context = DecodeContext()
        let binding = Binding.wireInfo.decode(members, &context)
        guard context.typeErrors.isEmpty else {
            return .rejected(.badRequest("Binding cannot be decoded: \(context.typeErrors.joinedDescription)"))
        }
        let key = c.key
        if !binding.metadata.name.isEmpty && binding.metadata.name != key.name {
            return .rejected(.badRequest("the name of the binding (\(binding.metadata.name)) does not match the pod (\(key.name))"))
        }
        var errors: [FieldError] = []
        if binding.target.name.isEmpty { errors.append(.required("target.name")) }
        if !binding.target.kind.isEmpty && binding.target.kind != "Node" {
            errors.append(.notSupported("target.kind", binding.target.kind, ["Node"]))
        }
        guard errors.isEmpty else {
            return .rejected(Rejection(code: 422, reason: "Invalid",
                                       message: "Binding \(FieldError.quote(key.name)) is invalid: \(errors.joinedDescription)",
                                       kind: "Binding", name: key.name, causes: errors))
        }
        guard let current = get(key) else { return .notFound(key) }
        let expectedUID = binding.metadata.uid.isEmpty ? c.write.expectedUID : binding.metadata.uid
        if let conflict = Self.preconditionFailure(current, c.write.expectedResourceVersion, expectedUID) { return conflict }
        if let node = current.json["spec"]?["nodeName"]?.stringValue, !node.isEmpty {
            return .rejected(.conflict(c.kind, name: key.name, "pod \(key.name) is already assigned to node \(FieldError.quote(node))"))
        }
        if current.json["metadata"]?["deletionTimestamp"] != nil {
            return .rejected(.conflict(c.kind, name: key.name, "pod \(key.name) is being deleted, cannot be assigned to a host"))
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
        rewrite(current, c, journal: &journal) { object in
            object = json
            object[path: ["status", "conditions"]] = .array(conditions)
        }
        guard let stored = get(key) else { return .notFound(key) }
        return .created(stored)
    }
}
