/// Where a value sits in an object, printed the way Kubernetes prints field paths in its
/// errors: `spec.template.spec.containers[0].image`, `metadata.labels[app]`.
///
/// A path is a value: building a child copies a small array, which is cheap for the depths
/// of Kubernetes objects (rarely more than 10) and keeps paths safe to keep in errors.
public struct FieldPath: Hashable, Sendable, CustomStringConvertible, ExpressibleByStringLiteral {
    /// One step: a field name, a list index, or a map key.
    public enum Step: Hashable, Sendable {
        case field(String)
        case index(Int)
        case key(String)
    }

    /// The steps from the root.
    public private(set) var steps: [Step]

    /// The root (prints as "").
    public init() { steps = [] }

    /// A path of dot-separated field names (`"spec.template"`); no indexes or keys.
    public init(stringLiteral value: String) {
        steps = value.split(separator: ".").map { .field(String($0)) }
    }

    /// The path of steps.
    public init(steps: [Step]) { self.steps = steps }

    /// This path followed by field `name`.
    public func child(_ name: String) -> FieldPath {
        var copy = self
        copy.steps.append(.field(name))
        return copy
    }

    /// This path followed by several field names (`path.child("spec", "replicas")`).
    public func child(_ first: String, _ rest: String...) -> FieldPath {
        var copy = child(first)
        for name in rest { copy.steps.append(.field(name)) }
        return copy
    }

    /// This path followed by list index `index`.
    public func index(_ index: Int) -> FieldPath {
        var copy = self
        copy.steps.append(.index(index))
        return copy
    }

    /// This path followed by map key `key`.
    public func key(_ key: String) -> FieldPath {
        var copy = self
        copy.steps.append(.key(key))
        return copy
    }

    /// Whether the path is the root.
    public var isRoot: Bool { steps.isEmpty }

    /// `spec.containers[0].image`; map keys in brackets without quotes, as Kubernetes does.
    public var description: String {
        var text = ""
        for step in steps {
            switch step {
            case .field(let name): text += text.isEmpty ? name : "." + name
            case .index(let index): text += "[\(index)]"
            case .key(let key): text += "[\(key)]"
            }
        }
        return text
    }
}
