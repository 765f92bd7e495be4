import JSON

/// A write to the store, as carried in a Raft log entry.
///
/// The leader builds a command from a client request and everything the store must not
/// invent itself (a fresh uid, the time) travels inside it, so applying it is deterministic.
///
/// Encoding (`encoded()`, version `formatVersion` = 1), values in the binary JSON form of
/// `BinaryCoding.swift`, strings as varint length + UTF-8:
///
///     entry         := formatVersion:u8 command
///     command       := 1 object:value uid:string creationTimestamp:string     create
///                    | 2 object:value preconditions                           update
///                    | 3 kind:string namespace:string name:string preconditions  delete
///                    | 4 count:varint command*                                batch (not nested)
///                    | 5 version:varint now:string                            set the cluster version
///                    | 6 typed                                                typed write (TypedWrite.swift)
///                    | 7 admitted                                             admitted write (Store+Admitted.swift)
///     preconditions := flags:u8 (bit 0: resourceVersion follows, bit 1: uid follows)
///                      [resourceVersion:varint] [uid:string]
///
/// A member that meets a version it does not know applies the entry as `.invalid`, the same
/// on every member of that version; a format change therefore needs every member upgraded
/// before the leader starts writing it. Tags 5 and 6 are written only once every member
/// reports cluster version 2 (`Store.clusterVersion`): tag 5 moves the cluster there, and a
/// member that cannot run the version it names stops rather than apply entries differently.
public enum StoreCommand: Equatable, Sendable {
    /// Create `object` (Kubernetes POST). Fails with `alreadyExists` if the key is taken.
    /// `uid` and `creationTimestamp` (RFC 3339 UTC, see `Timestamp`) come from the proposer.
    case create(object: JSONValue, uid: String, creationTimestamp: String)
    /// Replace the object with `object`'s key (Kubernetes PUT). Each precondition given must
    /// hold or the result is `conflict`: `expectedResourceVersion`, `expectedUID`, and a
    /// non-empty `metadata.resourceVersion` in `object` itself (Kubernetes' optimistic lock).
    case update(object: JSONValue, expectedResourceVersion: UInt64? = nil, expectedUID: String? = nil)
    /// Delete the object at `key`, under the same kind of preconditions.
    case delete(key: ObjectKey, expectedResourceVersion: UInt64? = nil, expectedUID: String? = nil)
    /// Apply `commands` atomically, in order, at one index: every one succeeds or none does.
    /// Batches do not nest and hold at most `Store.batchCommandsMax` commands.
    case batch([StoreCommand])
    /// Moves the cluster to `version` (the rules of `Store.clusterVersionSupported`), migrating
    /// the state where the new rules need it; `now` (RFC 3339) stamps what the migration creates.
    case setClusterVersion(version: Int, now: String)
    /// A typed write (cluster version 2 on).
    case typed(TypedWrite)
    /// A typed write its proposer already admitted: the object to store, and what the store
    /// must still hold for it to be stored (cluster version 2 on).
    case admitted(AdmittedWrite)

    /// The encoding version written as the first byte of every encoded command.
    public static let formatVersion: UInt8 = 1

    /// The bytes to propose to Raft.
    public func encoded() -> [UInt8] {
        var sink = ByteSink(capacity: 256)
        sink.byte(StoreCommand.formatVersion)
        encode(into: &sink)
        return sink.bytes
    }

    /// Decodes `bytes` written by `encoded()`; any other input is an error, never a crash.
    public static func decode(_ bytes: [UInt8]) throws(StoreError) -> StoreCommand {
        do throws(BinaryDecodeError) {
            var source = ByteSource(bytes)
            let version = try source.byte()
            guard version == formatVersion else {
                throw BinaryDecodeError(reason: "unsupported command format version \(version) (this member reads \(formatVersion))")
            }
            let command = try decode(from: &source, nested: false)
            guard source.isAtEnd else { throw source.failure("\(source.remaining) trailing bytes") }
            return command
        } catch {
            throw StoreError.malformedCommand(error.reason)
        }
    }

    private func encode(into sink: inout ByteSink) {
        switch self {
        case .create(let object, let uid, let creationTimestamp):
            sink.byte(1)
            sink.value(object)
            sink.string(uid)
            sink.string(creationTimestamp)
        case .update(let object, let version, let uid):
            sink.byte(2)
            sink.value(object)
            Self.encodePreconditions(version, uid, into: &sink)
        case .delete(let key, let version, let uid):
            sink.byte(3)
            sink.string(key.kind.name)
            sink.string(key.namespace)
            sink.string(key.name)
            Self.encodePreconditions(version, uid, into: &sink)
        case .batch(let commands):
            sink.byte(4)
            sink.varint(UInt64(commands.count))
            for command in commands { command.encode(into: &sink) }
        case .setClusterVersion(let version, let now):
            sink.byte(5)
            sink.varint(UInt64(max(0, version)))
            sink.string(now)
        case .typed(let write):
            sink.byte(6)
            write.encode(into: &sink)
        case .admitted(let write):
            sink.byte(7)
            write.encode(into: &sink)
        }
    }

    private static func encodePreconditions(_ version: UInt64?, _ uid: String?, into sink: inout ByteSink) {
        sink.byte((version == nil ? 0 : 1) | (uid == nil ? 0 : 2))
        if let version { sink.varint(version) }
        if let uid { sink.string(uid) }
    }

    private static func decode(from source: inout ByteSource, nested: Bool) throws(BinaryDecodeError) -> StoreCommand {
        let tag = try source.byte()
        switch tag {
        case 1:
            let object = try source.value()
            let uid = try source.string()
            return .create(object: object, uid: uid, creationTimestamp: try source.string())
        case 2:
            let object = try source.value()
            let (version, uid) = try decodePreconditions(from: &source)
            return .update(object: object, expectedResourceVersion: version, expectedUID: uid)
        case 3:
            let kindName = try source.string()
            guard let kind = Kind.named(kindName) else { throw source.failure("unknown kind \"\(kindName)\"") }
            let namespace = try source.string()
            let name = try source.string()
            let (version, uid) = try decodePreconditions(from: &source)
            return .delete(key: ObjectKey(kind: kind, namespace: namespace, name: name),
                           expectedResourceVersion: version, expectedUID: uid)
        case 4:
            guard !nested else { throw source.failure("a batch may not contain a batch") }
            let count = try source.length()
            guard count <= Store.batchCommandsMax else {
                throw source.failure("a batch of \(count) commands exceeds \(Store.batchCommandsMax)")
            }
            var commands: [StoreCommand] = []
            for _ in 0..<count { commands.append(try decode(from: &source, nested: true)) }
            return .batch(commands)
        case 5:
            let version = try source.varint()
            guard version <= UInt64(Int32.max) else { throw source.failure("cluster version \(version) out of range") }
            return .setClusterVersion(version: Int(version), now: try source.string())
        case 6:
            return .typed(try TypedWrite.decode(from: &source))
        case 7:
            return .admitted(try AdmittedWrite.decode(from: &source))
        default:
            throw BinaryDecodeError(reason: "unknown command tag \(tag) at byte \(source.offset - 1)")
        }
    }

    private static func decodePreconditions(from source: inout ByteSource) throws(BinaryDecodeError) -> (UInt64?, String?) {
        let flags = try source.byte()
        guard flags & ~3 == 0 else { throw source.failure("unknown precondition flags \(flags)") }
        var version: UInt64?
        var uid: String?
        if flags & 1 != 0 { version = try source.varint() }
        if flags & 2 != 0 { uid = try source.string() }
        return (version, uid)
    }
}
