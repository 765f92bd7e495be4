/// The schema of a kind's version as strategic merge patch reads it: merge keys and
/// strategies from each field's `ListSemantics`, descending into struct, list and map shapes.
struct ShapePatchSchema: PatchSchema {
    let shape: WireShape

    func member(_ name: String) -> (schema: (any PatchSchema)?, strategy: PatchStrategy)? {
        switch shape {
        case .object(let schema):
            guard let field = schema().field(named: name) else { return nil }
            let strategy = PatchStrategy(merge: field.semantics.merge, retainKeys: field.semantics.retainKeys,
                                         mergeKey: field.semantics.mergeKey)
            return (Self.child(field.shape()), strategy)
        case .map(let value):
            return (Self.child(value), .replace)
        default:
            return nil
        }
    }

    /// The schema of a member's value; a list's elements stand for the list.
    static func child(_ shape: WireShape) -> (any PatchSchema)? {
        switch shape {
        case .array(let element): return child(element)
        case .object, .map: return ShapePatchSchema(shape: shape)
        default: return nil
        }
    }
}

extension StructSchema {
    /// This schema as strategic merge patch reads it.
    public var patchSchema: any PatchSchema { ShapePatchSchema(shape: .object({ self })) }
}
