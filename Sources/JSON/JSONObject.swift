/// A JSON object: keys in insertion order, unique, with O(1) lookup.
///
/// Members live in one array in order. Most objects in a Kubernetes document are small
/// (metadata, a container's port, a condition: 2 to 10 keys), and for those a scan of the
/// keys is faster than hashing and costs no second allocation; from `indexedMembersMin`
/// members on, a hash index from key to position keeps lookups O(1), so a hostile object
/// with 100k keys costs no more per key than a small one.
///
/// Keys are compared by their UTF-8 bytes (see `JSONValue`): "é" and "e\u{301}" are two keys.
public struct JSONObject: Equatable, Hashable, Sendable, Sequence {
    /// One key and its value.
    struct Member: Sendable {
        var key: String
        var value: JSONValue
    }

    /// Objects with at least this many members keep `positions`, in members.
    static let indexedMembersMin = 16

    /// The members in insertion order.
    private(set) var members: [Member] = []
    /// Key to position in `members`; empty below `indexedMembersMin` members.
    private var positions: [UTF8Key: Int] = [:]

    /// A key hashed like a String and compared by its UTF-8 bytes.
    struct UTF8Key: Hashable, Sendable {
        let text: String
        init(_ text: String) { self.text = text }

        static func == (a: UTF8Key, b: UTF8Key) -> Bool { bytesEqual(a.text, b.text) }
        // Byte-equal strings are canonically equal, so String's hash is consistent with ==.
        func hash(into hasher: inout Hasher) { hasher.combine(text) }

        /// JSON's string equality (RFC 8259 section 8.3): the same code units.
        @inline(__always)
        static func bytesEqual(_ a: String, _ b: String) -> Bool {
            a.utf8.count == b.utf8.count && a.utf8.elementsEqual(b.utf8)
        }
    }

    /// An empty object.
    public init() {}

    /// An object with `pairs` in order; a repeated key replaces the earlier value in place.
    public init(_ pairs: [(String, JSONValue)]) {
        for (key, value) in pairs { self[key] = value }
    }

    /// The parser's constructor: `members` have unique keys and `positions` indexes them
    /// exactly when there are at least `indexedMembersMin`.
    init(uniqueMembers members: [Member], positions: [UTF8Key: Int]) {
        precondition(
            members.count >= Self.indexedMembersMin ? positions.count == members.count : positions.isEmpty,
            "JSONObject index of \(positions.count) entries for \(members.count) members")
        self.members = members
        self.positions = positions
    }

    /// The keys in insertion order.
    public var keys: [String] { members.map(\.key) }
    /// Number of members.
    public var count: Int { members.count }
    /// True when there are no members.
    public var isEmpty: Bool { members.isEmpty }

    /// Where `key` is in `members`.
    func position(of key: String) -> Int? {
        if members.count < Self.indexedMembersMin {
            return members.firstIndex { UTF8Key.bytesEqual($0.key, key) }
        }
        return positions[UTF8Key(key)]
    }

    /// Reads, replaces (keeping the key's position), appends, or with nil removes.
    public subscript(key: String) -> JSONValue? {
        get { position(of: key).map { members[$0].value } }
        set {
            if let position = position(of: key) {
                if let newValue { members[position].value = newValue } else { remove(at: position) }
            } else if let newValue {
                append(key, newValue)
            }
        }
        // In-place mutation (`object["spec"]!["replicas"] = 3`) without copying the member:
        // the value is moved out, yielded, and moved back.
        _modify {
            if let position = position(of: key) {
                var taken = JSONValue.null
                swap(&taken, &members[position].value)
                var slot: JSONValue? = taken
                defer {
                    if let slot { members[position].value = slot } else { remove(at: position) }
                }
                yield &slot
            } else {
                var slot: JSONValue? = nil
                defer { if let slot { append(key, slot) } }
                yield &slot
            }
        }
    }

    /// Appends `key` with `value`, or returns false (changing nothing) when `key` is there.
    @discardableResult
    public mutating func appendUnique(_ key: String, _ value: JSONValue) -> Bool {
        guard position(of: key) == nil else { return false }
        append(key, value)
        return true
    }

    /// Appends `key`, which the caller knows is not there yet (a struct's distinct field
    /// names): no search for it (checked in debug builds).
    public mutating func appendNew(_ key: String, _ value: JSONValue) {
        assert(position(of: key) == nil, "appendNew: \(key) is already in the object")
        append(key, value)
    }

    /// An empty object with room for `capacity` members.
    public init(capacity: Int) { members.reserveCapacity(capacity) }

    /// Appends a member whose key is known to be absent.
    private mutating func append(_ key: String, _ value: JSONValue) {
        members.append(Member(key: key, value: value))
        if members.count == Self.indexedMembersMin {
            reindex()
        } else if members.count > Self.indexedMembersMin {
            positions[UTF8Key(key)] = members.count - 1
        }
    }

    private mutating func remove(at position: Int) {
        members.remove(at: position)
        reindex()
    }

    private mutating func reindex() {
        positions = [:]
        guard members.count >= Self.indexedMembersMin else { return }
        positions.reserveCapacity(members.count)
        for (position, member) in members.enumerated() { positions[UTF8Key(member.key)] = position }
    }

    /// The members in insertion order.
    public func makeIterator() -> Iterator {
        Iterator(base: members.makeIterator())
    }

    /// Iterates the members in insertion order (a concrete type: this is on hot paths).
    public struct Iterator: IteratorProtocol {
        var base: IndexingIterator<[Member]>
        public mutating func next() -> (key: String, value: JSONValue)? {
            base.next().map { ($0.key, $0.value) }
        }
    }

    /// Same keys in the same order with equal values.
    public static func == (a: JSONObject, b: JSONObject) -> Bool {
        a.members.count == b.members.count
            && zip(a.members, b.members).allSatisfy { UTF8Key.bytesEqual($0.key, $1.key) && $0.value == $1.value }
    }

    /// Hashes the members in order.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(members.count)
        for member in members {
            hasher.combine(member.key)
            hasher.combine(member.value)
        }
    }
}
