import JSON
import Store

/// The printers of the kinds shoal serves, by kind name. The typed kinds' printers live
/// beside this file (`TablePrinters+Pods.swift`, `+Workloads`, `+Networking`, `+Cluster`);
/// their columns and cells follow what kube-apiserver serves (notes/kubectl-wire.md §5).
enum TablePrinters {
    static func printer(for kind: Kind) -> TablePrinter { printers[kind.name] ?? .generic }

    static let printers: [String: TablePrinter] = [
        "ConfigMap": TablePrinter(
            columns: [.name, TableColumn("Data", type: "integer", "Keys in data and binaryData."), .age],
            cells: { object, now in
                let count = (object.json["data"]?.objectValue?.count ?? 0) + (object.json["binaryData"]?.objectValue?.count ?? 0)
                return [.string(object.key.name), .int(Int64(count)), .string(APITable.age(since: object.creationTimestamp, now: now))]
            }),
        "Secret": TablePrinter(
            columns: [.name, TableColumn("Type", "The secret's type."), TableColumn("Data", type: "integer", "Keys in data."), .age],
            cells: { object, now in
                [.string(object.key.name), .string(object.json["type"]?.stringValue ?? ""),
                 .int(Int64(object.json["data"]?.objectValue?.count ?? 0)),
                 .string(APITable.age(since: object.creationTimestamp, now: now))]
            }),
        "Namespace": TablePrinter(
            columns: [.name, TableColumn("Status", "Active, or Terminating while it is deleted."), .age],
            cells: { object, now in
                [.string(object.key.name), .string(object.json["status"]?["phase"]?.stringValue ?? ""),
                 .string(APITable.age(since: object.creationTimestamp, now: now))]
            }),
        "Member": TablePrinter(
            columns: [.name, TableColumn("Address", "Where its peers reach it."), TableColumn("Role", "voter or learner."), .age],
            cells: { object, now in
                [.string(object.key.name), .string(object.json["spec"]?["address"]?.stringValue ?? ""),
                 .string(object.json["spec"]?["role"]?.stringValue ?? ""), .string(APITable.age(since: object.creationTimestamp, now: now))]
            }),
        "Pod": .pod,
        "Deployment": .deployment,
        "ReplicaSet": .replicaSet,
        "Service": .service,
        "Endpoints": .endpoints,
        "EndpointSlice": .endpointSlice,
        "Node": .node,
        "Event": .event,
        "Lease": .lease,
    ]
}

extension TablePrinter {
    /// A printer whose cells are read from the decoded typed object. A stored object that
    /// does not decode (a bug or a corrupt store, never a client's doing) still gets a row:
    /// the generic cells laid out in this printer's columns (`fallbackCells`).
    static func typed<Object: KindObject>(_ type: Object.Type, columns: [TableColumn],
                                          cells: @escaping @Sendable (Object, StoredObject, Int64) -> [JSONValue]) -> TablePrinter {
        TablePrinter(columns: columns, cells: { object, now in
            guard let typed = Object(object) else { return fallbackCells(object, columns: columns, now: now) }
            return cells(typed, object, now)
        })
    }

    /// The generic cells (the name, and when the object was created) in `columns`: the name
    /// under the name column, the age under Age, and "<unknown>" elsewhere, so a row always
    /// has exactly as many cells as the table has columns.
    static func fallbackCells(_ object: StoredObject, columns: [TableColumn], now: Int64) -> [JSONValue] {
        columns.map { column in
            if column.format == "name" { return .string(object.key.name) }
            if column.name == TableColumn.age.name { return .string(APITable.age(since: object.creationTimestamp, now: now)) }
            return .string(TableCells.unknown)
        }
    }
}

/// Formatting shared by the printers: Kubernetes' placeholders and ages of typed times.
enum TableCells {
    /// An empty list or unset address ("<none>").
    static let none = "<none>"
    /// A value that cannot be known ("<unknown>").
    static let unknown = "<unknown>"
    /// A list with nothing set (EndpointSlice ports and endpoints: "<unset>").
    static let unset = "<unset>"

    /// How long ago `time` was, as AGE prints it; "<unknown>" when unset.
    static func age(_ time: MetaTime?, now: Int64) -> String {
        guard let time else { return unknown }
        return APITable.duration(max(0, now - time.unixSeconds))
    }

    /// The same for a time with microseconds (whole seconds count).
    static func age(_ time: MicroTime?, now: Int64) -> String {
        guard let time else { return unknown }
        return APITable.duration(max(0, now - time.unixSeconds))
    }

    /// The object's age from its stored creation timestamp.
    static func age(of object: StoredObject, now: Int64) -> JSONValue {
        .string(APITable.age(since: object.creationTimestamp, now: now))
    }

    /// `value`, or `placeholder` when it is empty.
    static func or(_ value: String, _ placeholder: String) -> String { value.isEmpty ? placeholder : value }

    /// Up to `limit` items joined by ",", then " + N more..." for the rest (N counts every
    /// item beyond the limit), or `empty` when there are none.
    static func limited(_ items: [String], total: Int, limit: Int = 3, empty: String) -> String {
        let shown = items.prefix(limit).joined(separator: ",")
        if total > limit { return "\(shown) + \(total - limit) more..." }
        return shown.isEmpty ? empty : shown
    }

    /// A label selector as selector text (`app=web,tier in (a,b),!canary`): "<none>" when it
    /// is missing or empty, "<error>" when it does not parse (stored objects were validated).
    static func selector(_ spec: LabelSelectorSpec?) -> String {
        guard let spec else { return none }
        var ignored: [FieldError] = []
        guard let selector = spec.selector(errors: &ignored) else { return "<error>" }
        return or(selector.description, none)
    }

    /// Labels (a Service's selector) as sorted `key=value` pairs, or "<none>".
    static func labels(_ labels: [String: String]) -> String {
        let keys = labels.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        return or(keys.map { "\($0)=\(labels[$0]!)" }.joined(separator: ","), none)
    }
}
