/// A read-only view of the store's objects at one revision, for paginated lists: taking one
/// shares the tables (each namespace's buckets are copied only when the live store next
/// writes to them), and none of the indexes or watch history, so keeping a few views alive
/// costs the live store little.
public struct StoreListView: Sendable {
    let tables: [Kind: KindTable]
    /// The revision the view shows.
    public let revision: UInt64

    /// How many objects of `kind` the view holds (every namespace).
    public func count(_ kind: Kind) -> Int { tables[kind]?.count ?? 0 }

    /// The objects `filter` selects, in key order (namespace, then name, by bytes).
    public func list(_ filter: WatchFilter) -> [StoredObject] {
        tables[filter.kind]?.objects(inNamespace: filter.namespace) { filter.matchesContent($0) } ?? []
    }
}

extension Store {
    /// A view of the objects as of now.
    public var listView: StoreListView { StoreListView(tables: tables, revision: revision) }

    /// The objects `filter` selects, in key order, with the store's revision as the list's
    /// resourceVersion.
    public func list(_ filter: WatchFilter) -> (items: [StoredObject], resourceVersion: UInt64) {
        (listView.list(filter), revision)
    }
}

extension Store {
    /// The objects of `kind` being deleted (with a `deletionTimestamp`), in key order.
    public func objectsBeingDeleted(_ kind: Kind) -> [StoredObject] {
        indexes.beingDeleted.filter { $0.kind == kind }.sorted().compactMap { get($0) }
    }
}
