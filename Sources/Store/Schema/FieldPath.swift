/// Where a value sits in an object, printed the way Kubernetes prints field paths in its
/// errors: `spec.template.spec.containers[0].image`, `metadata.labels[app]`.
///
/// Validation builds a path for every element it checks, but prints one only for an error,
/// so a path is a chain of immutable steps that share their parents: a child costs one small
/// allocation, not a copy of the steps before it.
public struct FieldPath: Hashable, Sendable, CustomStringConvertible, ExpressibleByStringLiteral {
    /// One step: a field name, a list index, or a map key.
    public enum Step: Hashable, Sendable {
        case field(String)
        case index(Int)
        case key(String)
    }

    private final class Node: Sendable {
        let step: Step
        let parent: Node?
        init(_ step: Step, _ parent: Node?) {
            self.step = step
            self.parent = parent
        }
    }

    private let last: Node?

    /// The root (prints as "").
    public init() { last = nil }

    /// A path of dot-separated field names (`"spec.template"`); no indexes or keys.
    public init(stringLiteral value: String) {
        self.init(steps: value.split(separator: ".").map { .field(String($0)) })
    }

    /// The path of steps.
    public init(steps: [Step]) {
        var node: Node?
        for step in steps { node = Node(step, node) }
        last = node
    }

    private init(_ node: Node) { last = node }

    /// The steps from the root.
    public var steps: [Step] {
        var result: [Step] = []
        var node = last
        while let current = node {
            result.append(current.step)
            node = current.parent
        }
        return result.reversed()
    }

    /// This path followed by field `name`.
    public func child(_ name: String) -> FieldPath { FieldPath(Node(.field(name), last)) }

    /// This path followed by several field names (`path.child("spec", "replicas")`).
    public func child(_ first: String, _ rest: String...) -> FieldPath {
        var node = Node(.field(first), last)
        for name in rest { node = Node(.field(name), node) }
        return FieldPath(node)
    }

    /// This path followed by list index `index`.
    public func index(_ index: Int) -> FieldPath { FieldPath(Node(.index(index), last)) }

    /// This path followed by map key `key`.
    public func key(_ key: String) -> FieldPath { FieldPath(Node(.key(key), last)) }

    public static func == (a: FieldPath, b: FieldPath) -> Bool { a.last === b.last || a.steps == b.steps }
    public func hash(into hasher: inout Hasher) { hasher.combine(steps) }

    /// Whether the path is the root.
    public var isRoot: Bool { last == nil }

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
