import JSON

extension Patch {
    /// Applies an RFC 6902 JSON patch: a list of operations (`add`, `remove`, `replace`,
    /// `move`, `copy`, `test`), each naming its target by a JSON pointer, applied in order to
    /// a working copy. Either all succeed and the result is returned, or the first failure is
    /// thrown with its position (`operationIndex`) and the document is left as it was.
    ///
    /// - Shape first, as kube-apiserver decodes the whole body before applying any of it: the
    ///   patch must be a list of objects whose `op`, `path` and `from` are strings
    ///   (`malformed`, 400), with at most `limits.jsonPatchOperationsMax` operations
    ///   (`tooManyOperations`, 413). `null` is an empty patch, as in kube-apiserver.
    /// - Then each operation: a missing `op`/`path`/`value`/`from`, an unknown `op`, a bad
    ///   pointer, a path that does not exist, an index out of range, a `move` into its own
    ///   child, copies adding more than `limits.copiedSizeMaxBytes` or a result nesting
    ///   deeper than `limits.json.nestingDepthMax` are `unprocessable` (422); a `test` that
    ///   finds another value is `testFailed` (422).
    /// - Members other than `op`, `path`, `from` and `value` are ignored (RFC 6902 section 4).
    ///   kube-apiserver's strict decoding rejects them with 400; shoal follows the RFC.
    /// - `test` compares as RFC 6902 section 4.6 says (numbers by value, objects whatever
    ///   their member order). A `test` of `null` at a path that does not exist fails; the
    ///   library kube-apiserver uses lets it pass, which the RFC does not allow.
    /// - `add` of an existing object member replaces its value in place; a new member goes
    ///   last. Removing the whole document (`remove ""`) is an error.
    public static func applyJSONPatch(
        _ patch: JSONValue, to document: JSONValue, limits: PatchLimits = .default
    ) throws(PatchError) -> JSONValue {
        let patchName = ContentType.jsonPatch.patchName
        let operations: [JSONValue]
        switch patch {
        case .null: return document
        case .array(let elements): operations = elements
        default:
            throw PatchError(.malformed, location: patchName,
                             reason: "a JSON patch must be a JSON list of operations, not \(PatchValues.kindName(patch))")
        }
        try checkDepth(patch, limits, .jsonPatch)
        for (index, operation) in operations.enumerated() {
            guard case .object(let members) = operation else {
                throw PatchError(.malformed, location: "\(patchName) operation \(index)",
                                 reason: "an operation must be a JSON object, not \(PatchValues.kindName(operation))",
                                 operationIndex: index)
            }
            for field in ["op", "path", "from"] {
                if let value = members[field], value.stringValue == nil {
                    throw PatchError(.malformed, location: "\(patchName) operation \(index)",
                                     reason: "\"\(field)\" must be a string, not \(PatchValues.kindName(value))",
                                     operationIndex: index)
                }
            }
        }
        guard operations.count <= limits.jsonPatchOperationsMax else {
            throw PatchError(.tooManyOperations, location: patchName,
                             reason: "the patch has \(operations.count) operations; at most \(limits.jsonPatchOperationsMax) are allowed")
        }
        var run = JSONPatchRun(document: document, limits: limits)
        for (index, operation) in operations.enumerated() {
            let members = operation.objectValue ?? JSONObject()
            do {
                try run.apply(members)
            } catch {
                throw PatchError(error.kind, location: JSONPatchRun.location(index, members), reason: error.reason,
                                 operationIndex: index)
            }
        }
        return run.document
    }
}

/// One JSON patch being applied: the working copy and the budget its copies have used.
struct JSONPatchRun {
    /// The document so far; thrown away when an operation fails.
    var document: JSONValue
    let limits: PatchLimits
    /// Bytes `copy` operations have added so far.
    var copiedBytes = 0

    /// What to do at the end of a path.
    enum Edit {
        case add(JSONValue)
        case remove
        case replace(JSONValue)
    }

    /// The operations RFC 6902 defines.
    static let knownOperations: Set<String> = ["add", "remove", "replace", "move", "copy", "test"]

    /// `json patch operation 2 (replace "/spec/replicas")`, or less when the operation
    /// lacks an op or path.
    static func location(_ index: Int, _ operation: JSONObject) -> String {
        var text = "json patch operation \(index)"
        if let op = operation["op"]?.stringValue {
            text += " (" + (knownOperations.contains(op) ? op : PatchValues.quoted(op))
            if let path = operation["path"]?.stringValue { text += " \(PatchValues.quoted(path))" }
            text += ")"
        }
        return text
    }

    mutating func apply(_ operation: JSONObject) throws(PatchFailure) {
        guard let op = operation["op"]?.stringValue else {
            throw PatchFailure(.unprocessable, "the operation has no \"op\"")
        }
        switch op {
        case "add":
            let path = try pointer(operation, "path")
            let value = try value(operation)
            try checkDepth(value, at: path)
            _ = try edit(.add(value), at: path)
        case "remove":
            _ = try edit(.remove, at: try pointer(operation, "path"))
        case "replace":
            let path = try pointer(operation, "path")
            let value = try value(operation)
            try checkDepth(value, at: path)
            _ = try edit(.replace(value), at: path)
        case "move":
            let from = try pointer(operation, "from")
            let path = try pointer(operation, "path")
            try move(from: from, to: path)
        case "copy":
            let from = try pointer(operation, "from")
            let path = try pointer(operation, "path")
            try copy(from: from, to: path)
        case "test":
            let path = try pointer(operation, "path")
            let expected = try value(operation)
            let actual = try value(at: path)
            guard PatchValues.rfcEqual(actual, expected) else {
                throw PatchFailure(.testFailed, "test failed: the value is \(PatchValues.shown(actual)), not \(PatchValues.shown(expected))")
            }
        default:
            throw PatchFailure(.unprocessable, "unknown operation \(PatchValues.quoted(op)) (expected add, remove, replace, move, copy or test)")
        }
    }

    private func pointer(_ operation: JSONObject, _ field: String) throws(PatchFailure) -> JSONPointer {
        guard let text = operation[field]?.stringValue else {
            throw PatchFailure(.unprocessable, "the operation has no \"\(field)\"")
        }
        return try JSONPointer(parsing: text, tokensMax: limits.json.nestingDepthMax)
    }

    private func value(_ operation: JSONObject) throws(PatchFailure) -> JSONValue {
        guard let value = operation["value"] else { throw PatchFailure(.unprocessable, "the operation has no \"value\"") }
        return value
    }

    /// A value put at `path` must not make the document nest deeper than the bound.
    private func checkDepth(_ value: JSONValue, at path: JSONPointer) throws(PatchFailure) {
        let limit = limits.json.nestingDepthMax
        guard PatchValues.nestingDepth(of: value, limit: limit - path.tokens.count) != nil else {
            throw PatchFailure(.unprocessable, "the result would nest deeper than \(limit) levels")
        }
    }

    private mutating func move(from: JSONPointer, to path: JSONPointer) throws(PatchFailure) {
        if from.sameTarget(as: path) {
            _ = try value(at: from)  // RFC 6902 4.4: the source must exist even when nothing moves
            return
        }
        guard !from.isProperPrefix(of: path) else {
            throw PatchFailure(.unprocessable, "cannot move \(PatchValues.quoted(from.text)) into itself (the path is inside it)")
        }
        guard let moved = try edit(.remove, at: from) else { preconditionFailure("remove returned no value") }
        try checkDepth(moved, at: path)
        _ = try edit(.add(moved), at: path)
    }

    private mutating func copy(from: JSONPointer, to path: JSONPointer) throws(PatchFailure) {
        let copied = try value(at: from)
        let budget = limits.copiedSizeMaxBytes - copiedBytes
        guard let sizeBytes = PatchValues.sizeBytes(of: copied, limitBytes: budget) else {
            throw PatchFailure(.unprocessable, "the patch's copies would add more than \(limits.copiedSizeMaxBytes) bytes")
        }
        copiedBytes += sizeBytes
        try checkDepth(copied, at: path)
        _ = try edit(.add(copied), at: path)
    }

    /// The value `pointer` names.
    func value(at pointer: JSONPointer) throws(PatchFailure) -> JSONValue {
        var current = document
        for (position, token) in pointer.tokens.enumerated() {
            switch current {
            case .object(let object):
                guard let member = object[token] else { throw Self.noMember(pointer, position) }
                current = member
            case .array(let elements):
                current = elements[try Self.existingIndex(token, elements.count, pointer, position)]
            default:
                throw Self.notAContainer(pointer, position, current)
            }
        }
        return current
    }

    /// Makes `edit` at `pointer`; returns the value removed or replaced, if any.
    mutating func edit(_ edit: Edit, at pointer: JSONPointer) throws(PatchFailure) -> JSONValue? {
        guard !pointer.tokens.isEmpty else {
            switch edit {
            case .add(let value), .replace(let value):
                let old = document
                document = value
                return old
            case .remove:
                throw PatchFailure(.unprocessable, "the whole object cannot be removed")
            }
        }
        return try Self.descend(&document, pointer.tokens[...], edit, pointer, limits)
    }

    /// Walks `value` along `rest` to the container of the last token and edits it there, in
    /// place: each container and then the member on the path are moved out of their parent
    /// (which keeps a null) while they change, so nothing along the path is copied. Recursion
    /// is bounded by the pointer's tokens (`JSONPointer` caps them).
    private static func descend(
        _ value: inout JSONValue, _ rest: ArraySlice<String>, _ edit: Edit, _ pointer: JSONPointer, _ limits: PatchLimits
    ) throws(PatchFailure) -> JSONValue? {
        let token = rest[rest.startIndex]
        let position = pointer.tokens.count - rest.count
        if rest.count == 1 { return try editMember(&value, token, edit, pointer, limits) }
        if case .object(var object) = value {
            guard var child = object[token] else { throw noMember(pointer, position) }
            value = .null
            object[token] = .null
            defer {
                object[token] = child
                value = .object(object)
            }
            return try descend(&child, rest.dropFirst(), edit, pointer, limits)
        }
        if case .array(var elements) = value {
            let index = try existingIndex(token, elements.count, pointer, position)
            var child = elements[index]
            value = .null
            elements[index] = .null
            defer {
                elements[index] = child
                value = .array(elements)
            }
            return try descend(&child, rest.dropFirst(), edit, pointer, limits)
        }
        throw notAContainer(pointer, position, value)
    }

    /// Edits member `token` of `container`.
    private static func editMember(
        _ container: inout JSONValue, _ token: String, _ edit: Edit, _ pointer: JSONPointer, _ limits: PatchLimits
    ) throws(PatchFailure) -> JSONValue? {
        let position = pointer.tokens.count - 1
        let membersMax = limits.json.containerMembersMax
        if case .object(var object) = container {
            container = .null
            defer { container = .object(object) }
            let old = object[token]
            switch edit {
            case .add(let value):
                guard old != nil || object.count < membersMax else { throw tooManyMembers(pointer, position, membersMax) }
                object[token] = value
            case .remove:
                guard old != nil else { throw noMember(pointer, position) }
                object[token] = nil
            case .replace(let value):
                guard old != nil else { throw noMember(pointer, position) }
                object[token] = value
            }
            return old
        }
        if case .array(var elements) = container {
            container = .null
            defer { container = .array(elements) }
            switch edit {
            case .add(let value):
                guard elements.count < membersMax else { throw tooManyMembers(pointer, position, membersMax) }
                switch JSONPointer.arrayToken(token) {
                case .end:
                    elements.append(value)
                case .index(let index) where index <= elements.count:
                    elements.insert(value, at: index)
                case .index:
                    throw PatchFailure(.unprocessable, "cannot add at index \(token): \(pointer.describePrefix(position)) has \(elements.count) elements (\"-\" appends)")
                case .invalid:
                    throw invalidIndex(pointer, position)
                }
                return nil
            case .remove:
                return elements.remove(at: try existingIndex(token, elements.count, pointer, position))
            case .replace(let value):
                let index = try existingIndex(token, elements.count, pointer, position)
                defer { elements[index] = value }
                return elements[index]
            }
        }
        throw notAContainer(pointer, position, container)
    }

    /// The index `token` names in a list of `count` elements, which must exist.
    private static func existingIndex(_ token: String, _ count: Int, _ pointer: JSONPointer, _ position: Int) throws(PatchFailure) -> Int {
        switch JSONPointer.arrayToken(token) {
        case .index(let index) where index < count:
            return index
        case .index, .end:
            throw PatchFailure(.unprocessable, "the path does not exist: \(pointer.describePrefix(position)) has \(count) elements, so there is no element \(PatchValues.quoted(token))")
        case .invalid:
            throw invalidIndex(pointer, position)
        }
    }

    private static func noMember(_ pointer: JSONPointer, _ position: Int) -> PatchFailure {
        PatchFailure(.unprocessable, "the path does not exist: \(pointer.describePrefix(position)) has no member \(PatchValues.quoted(pointer.tokens[position]))")
    }

    private static func notAContainer(_ pointer: JSONPointer, _ position: Int, _ value: JSONValue) -> PatchFailure {
        PatchFailure(.unprocessable, "the path does not exist: \(pointer.describePrefix(position)) is \(PatchValues.kindName(value)), which has no members")
    }

    private static func invalidIndex(_ pointer: JSONPointer, _ position: Int) -> PatchFailure {
        PatchFailure(.unprocessable, "\(PatchValues.quoted(pointer.tokens[position])) is not a list index: \(pointer.describePrefix(position)) is a list, so the path needs 0, a number without leading zeros, or \"-\" there")
    }

    private static func tooManyMembers(_ pointer: JSONPointer, _ position: Int, _ limit: Int) -> PatchFailure {
        PatchFailure(.unprocessable, "\(pointer.describePrefix(position)) already has \(limit) members, the most allowed")
    }
}
