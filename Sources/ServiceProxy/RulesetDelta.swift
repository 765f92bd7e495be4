// One sync's changes to the table, in three steps: structure first (new sets, maps and
// chains, rewritten chains: nft text through libnftables, one transaction), then elements
// (one netlink batch, one transaction), then the structure nothing refers to any more (nft
// text again). Each step leaves a consistent table: new objects are unreferenced until
// their elements arrive, old ones unreferenced before they go. An endpoint coming or going
// changes only elements, so the common sync is the netlink batch alone.

public struct RulesetDelta: Equatable, Sendable {
    /// nft commands run before the elements change.
    public var before: [String] = []
    public var elements = ElementChanges()
    /// nft commands run after the elements changed.
    public var after: [String] = []

    public init() {}

    public var isEmpty: Bool { before.isEmpty && elements.isEmpty && after.isEmpty }

    /// The three steps as one nft script (what `nft -f` would run as one transaction; for
    /// the whole table, golden files and logs).
    public var text: String {
        let lines = before + elements.commands + after
        return lines.isEmpty ? "" : lines.joined(separator: "\n") + "\n"
    }
}

/// What a sync does to elements, in this order: maps emptied, elements removed, elements added.
public struct ElementChanges: Equatable, Sendable {
    public var flushed: [String] = []
    public var removed: [SetElement] = []
    public var added: [SetElement] = []

    public init() {}

    public var isEmpty: Bool { flushed.isEmpty && removed.isEmpty && added.isEmpty }

    public var count: Int { flushed.count + removed.count + added.count }

    /// The same changes as nft commands (one per run of elements of the same set).
    public var commands: [String] {
        flushed.map { "flush map \(Ruleset.table) \($0)" } + Self.grouped("delete", removed) + Self.grouped("add", added)
    }

    private static func grouped(_ verb: String, _ elements: [SetElement]) -> [String] {
        var result: [String] = []
        var start = elements.startIndex
        while start < elements.endIndex {
            let set = elements[start].set
            let end = elements[start...].firstIndex { $0.set != set } ?? elements.endIndex
            result.append("\(verb) element \(Ruleset.table) \(set) { \(elements[start..<end].map(\.text).joined(separator: ", ")) }")
            start = end
        }
        return result
    }

    /// Adds what turns one port's elements from `old`'s into `new`'s. The shared sets change
    /// element by element; a port's own endpoint maps that stay are emptied and filled again
    /// when their contents differ (intervals move when the count changes); maps that come are
    /// filled, maps that go leave with their elements.
    mutating func merge(old: ProxyPort?, new: ProxyPort?) {
        let oldShared = old.map(Ruleset.sharedElements) ?? []
        let newShared = new.map(Ruleset.sharedElements) ?? []
        removed += oldShared.filter { !newShared.contains($0) }
        added += newShared.filter { !oldShared.contains($0) }
        let oldMaps = Dictionary(uniqueKeysWithValues: (old.map(Ruleset.endpointMaps) ?? []).map { ($0.name, $0.endpoints) })
        for map in new.map(Ruleset.endpointMaps) ?? [] {
            if let before = oldMaps[map.name] {
                guard before != map.endpoints else { continue }
                if !before.isEmpty { flushed.append(map.name) }
            }
            added += Ruleset.slotElements(map.name, map.endpoints)
        }
    }
}
