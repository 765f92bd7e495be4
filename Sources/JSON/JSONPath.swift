/// Paths into a document, like Kubernetes' `unstructured.NestedField` helpers:
///
///     pod[path: ["metadata", "name"]]                    // read (nil when absent)
///     pod[path: ["spec", "containers", 0, "image"]] = "nginx:1.27"
///     try pod.setValue(nil, at: ["metadata", "labels", "tier"])   // remove
///
/// Setting creates missing objects along the way (`status` on a fresh object), never
/// arrays. A path that runs into a value of the wrong kind, or an index outside an array,
/// is an error: `setValue(_:at:)` throws it and leaves the document unchanged; the
/// subscript setter traps, because it is meant for shapes the caller has already checked.

/// One step of a path: an object key (a string literal) or an array index (an integer).
public enum JSONPathComponent: Hashable, Sendable, ExpressibleByStringLiteral, ExpressibleByIntegerLiteral {
    case key(String)
    case index(Int)

    /// `.key(value)`.
    public init(stringLiteral value: String) { self = .key(value) }
    /// `.index(value)`.
    public init(integerLiteral value: Int) { self = .index(value) }

    /// A path written the way kubectl names fields: `spec.containers[0].image`.
    public static func render(_ path: [JSONPathComponent]) -> String {
        var text = ""
        for component in path {
            switch component {
            case .key(let key): text += text.isEmpty ? key : "." + key
            case .index(let index): text += "[\(index)]"
            }
        }
        return text
    }
}

/// Why a path could not be set: the path up to the step that failed, and the reason.
public struct JSONPathError: Error, Equatable, Hashable, Sendable, CustomStringConvertible {
    /// What the failing step found.
    public enum Reason: Equatable, Hashable, Sendable {
        /// A key step reached something other than an object.
        case notAnObject
        /// An index step reached something other than an array (or a missing value).
        case notAnArray
        /// An index step outside `0..<count`.
        case indexOutOfRange(count: Int)
    }

    /// What went wrong.
    public let reason: Reason
    /// The path up to and including the step that could not be taken.
    public let path: [JSONPathComponent]

    /// An error for `path` (up to the failing step) and `reason`.
    public init(reason: Reason, path: [JSONPathComponent]) {
        self.reason = reason
        self.path = path
    }

    /// `"cannot set spec.containers[3]: index out of range (3 elements)"`.
    public var description: String {
        let what: String
        switch reason {
        case .notAnObject: what = "not an object"
        case .notAnArray: what = "not an array"
        case .indexOutOfRange(let count): what = "index out of range (\(count) elements)"
        }
        return "cannot set \(JSONPathComponent.render(path)): \(what)"
    }
}

extension JSONValue {
    /// The value at `path`, nil when any step is missing or of the wrong kind. Setting
    /// creates missing objects and with nil removes the member (or array element); it traps
    /// where `setValue(_:at:)` would throw.
    public subscript(path path: [JSONPathComponent]) -> JSONValue? {
        get {
            var current = self
            for component in path {
                switch (component, current) {
                case (.key(let key), .object(let object)):
                    guard let next = object[key] else { return nil }
                    current = next
                case (.index(let index), .array(let elements)):
                    guard elements.indices.contains(index) else { return nil }
                    current = elements[index]
                default:
                    return nil
                }
            }
            return current
        }
        set {
            do {
                try setValue(newValue, at: path)
            } catch {
                preconditionFailure("JSONValue[path:] setter: \(error)")
            }
        }
    }

    /// Puts `newValue` at `path`, creating missing objects on the way; nil removes the key
    /// or array element there (and does nothing when the path is already absent). An empty
    /// path replaces the whole value (nil makes it `.null`). Throws, changing nothing, when
    /// a step meets the wrong kind of value or an index outside its array.
    public mutating func setValue(_ newValue: JSONValue?, at path: [JSONPathComponent]) throws(JSONPathError) {
        // Check the whole path first, so a failure leaves no half-made objects behind.
        var current: JSONValue? = self
        for (position, component) in path.enumerated() {
            guard let value = current else {
                // Missing from here on: a key step will create an object, a removal is done.
                if newValue == nil { return }
                guard case .key = component else {
                    throw JSONPathError(reason: .notAnArray, path: Array(path[...position]))
                }
                continue
            }
            switch (component, value) {
            case (.key(let key), .object(let object)):
                current = object[key]
            case (.key, _):
                throw JSONPathError(reason: .notAnObject, path: Array(path[...position]))
            case (.index(let index), .array(let elements)):
                guard elements.indices.contains(index) else {
                    if newValue == nil && position == path.count - 1 { return }
                    throw JSONPathError(reason: .indexOutOfRange(count: elements.count), path: Array(path[...position]))
                }
                current = elements[index]
            case (.index, _):
                throw JSONPathError(reason: .notAnArray, path: Array(path[...position]))
            }
        }
        if newValue == nil && current == nil && !path.isEmpty { return }
        applyCheckedPath(newValue, path[...])
    }

    /// The mutation half of `setValue(_:at:)`, in place; the path is already checked.
    private mutating func applyCheckedPath(_ newValue: JSONValue?, _ path: ArraySlice<JSONPathComponent>) {
        guard let component = path.first else {
            self = newValue ?? .null
            return
        }
        let rest = path.dropFirst()
        // `guard case` then `self = .null` leaves the payload uniquely referenced, so the
        // member is changed in place instead of the whole container being copied.
        switch component {
        case .key(let key):
            guard case .object(var object) = self else { preconditionFailure("unchecked JSON path step \(key)") }
            self = .null
            if rest.isEmpty {
                object[key] = newValue
            } else {
                if object[key] == nil { object[key] = .object(JSONObject()) }
                object[key]!.applyCheckedPath(newValue, rest)
            }
            self = .object(object)
        case .index(let index):
            guard case .array(var elements) = self else { preconditionFailure("unchecked JSON path step [\(index)]") }
            self = .null
            if rest.isEmpty {
                if let newValue { elements[index] = newValue } else { elements.remove(at: index) }
            } else {
                elements[index].applyCheckedPath(newValue, rest)
            }
            self = .array(elements)
        }
    }
}
