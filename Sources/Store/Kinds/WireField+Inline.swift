import JSON

/// Go's embedded structs with `json:",inline"` (a Volume's VolumeSource, a Probe's
/// ProbeHandler): in JSON the inner struct's fields sit beside the outer ones.
///
/// Swift keeps the inner struct as one property (`Volume.source`, `Probe.handler`) and the
/// outer declaration lifts the inner fields through it, so the inner type declares its fields
/// once. Lifted fields carry no protobuf number in the outer schema: in protobuf an embedded
/// struct is one nested message under the outer field's number (Volume's VolumeSource is
/// field 2), which `FieldSchema` cannot say yet; the inner type's own schema keeps its
/// numbers for when it can.
extension WireField {
    /// `inner` read from and written to `root[keyPath: part]`, as a field of `Root`.
    static func inlined<Inner>(_ inner: WireField<Inner>, in part: WritableKeyPath<Root, Inner> & Sendable) -> WireField<Root> {
        let s = inner.schema
        let decodeInner = inner.decode
        let encodeInner = inner.encode
        var encodeAt: (@Sendable (UnsafeRawPointer) -> JSONValue?)?
        if let innerAt = inner.encodeAt, let offset = MemoryLayout<Root>.offset(of: part) {
            encodeAt = { base in innerAt(base.advanced(by: offset)) }
        }
        return WireField<Root>(
            schema: FieldSchema(name: s.name, number: nil, doc: s.doc, presence: s.presence, required: s.required,
                                semantics: s.semantics, shape: s.shape),
            decode: { root, json, context in decodeInner(&root[keyPath: part], json, &context) },
            encode: { root in encodeInner(root[keyPath: part]) },
            encodeAt: encodeAt)
    }
}

extension WireStructInfo {
    /// Every field of `Inner`'s declaration, lifted into `Root` through `part` (see
    /// `WireField.inlined`).
    static func inlining<Inner: WireStruct>(_ type: Inner.Type, in part: WritableKeyPath<Root, Inner> & Sendable) -> [WireField<Root>] {
        Inner.wireInfo.fields.map { WireField.inlined($0, in: part) }
    }
}
