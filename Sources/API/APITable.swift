import JSON
import Store

#if canImport(Glibc)
import Glibc
#endif

/// Server-side printing (`Accept: application/json;as=Table;g=meta.k8s.io;v=v1`): what
/// `kubectl get` shows, computed where the objects are. Each kind has a `TablePrinter` with
/// the columns users know from Kubernetes (priority 1 columns appear with `-o wide`); kinds
/// without one get Name and Created At, as kube-apiserver prints custom resources.
enum APITable {
    /// A Table of `objects`; each row carries its object as `include` asks.
    static func table(_ objects: [StoredObject], resource: ResourcePath, tableVersion: String,
                      include: ResponseForm.IncludeObject, list: ListMetadata?, withColumns: Bool = true) -> JSONValue {
        let printer = TablePrinters.printer(for: resource.kind)
        let now = Int64(time(nil))
        var table = JSONObject()
        table["kind"] = "Table"
        table["apiVersion"] = .string("meta.k8s.io/\(tableVersion)")
        table["metadata"] = .object(list?.json ?? JSONObject())
        if withColumns { table["columnDefinitions"] = .array(printer.columns.map(\.json)) }
        table["rows"] = .array(objects.map { object in
            var row = JSONObject()
            row["cells"] = .array(printer.cells(object, now))
            switch include {
            case .none: break
            case .metadata: row["object"] = partialMetadata(object, version: tableVersion)
            case .object: row["object"] = resource.version.map { $0.present(object.json) } ?? object.json
            }
            return .object(row)
        })
        return .object(table)
    }

    /// The object's metadata alone, as a `PartialObjectMetadata`.
    static func partialMetadata(_ object: StoredObject, version: String) -> JSONValue {
        .object(JSONObject([
            ("kind", "PartialObjectMetadata"), ("apiVersion", .string("meta.k8s.io/\(version)")),
            ("metadata", object.json["metadata"] ?? .object(JSONObject())),
        ]))
    }

    /// Kubernetes' short age: "45s", "5m", "3h", "2d", "3y" (with a second unit where it
    /// reads better, e.g. "3m20s", "5h4m").
    static func age(since created: String, now: Int64) -> String {
        guard let time = MetaTime(parsing: created) else { return "<unknown>" }
        return duration(max(0, now - time.unixSeconds))
    }

    /// Kubernetes' HumanDuration for whole seconds.
    static func duration(_ seconds: Int64) -> String {
        if seconds < 60 * 2 { return "\(seconds)s" }
        let minutes = seconds / 60
        if minutes < 10 { return seconds % 60 == 0 ? "\(minutes)m" : "\(minutes)m\(seconds % 60)s" }
        if minutes < 60 * 3 { return "\(minutes)m" }
        let hours = minutes / 60
        if hours < 8 { return minutes % 60 == 0 ? "\(hours)h" : "\(hours)h\(minutes % 60)m" }
        if hours < 48 { return "\(hours)h" }
        if hours < 24 * 8 { return hours % 24 == 0 ? "\(hours / 24)d" : "\(hours / 24)d\(hours % 24)h" }
        if hours < 24 * 365 * 2 { return "\(hours / 24)d" }
        if hours < 24 * 365 * 8 {
            let days = hours / 24
            return days % 365 == 0 ? "\(days / 365)y" : "\(days / 365)y\(days % 365)d"
        }
        return "\(hours / 24 / 365)y"
    }
}

/// One column of a Table.
struct TableColumn: Sendable {
    let name: String
    /// "string", "integer", "number", "boolean" or "date".
    let type: String
    /// "name" for the object's name column, "" otherwise.
    let format: String
    let description: String
    /// 0: always shown; 1: only with `-o wide`.
    let priority: Int

    init(_ name: String, type: String = "string", format: String = "", priority: Int = 0, _ description: String) {
        self.name = name
        self.type = type
        self.format = format
        self.description = description
        self.priority = priority
    }

    var json: JSONValue {
        .object(JSONObject([
            ("name", .string(name)), ("type", .string(type)), ("format", .string(format)),
            ("description", .string(description)), ("priority", .int(Int64(priority))),
        ]))
    }

    static let name = TableColumn("Name", format: "name", "The object's name (unique in its namespace).")
    static let age = TableColumn("Age", "How long ago the object was created.")
}

/// How one kind is printed: its columns and the cells of one object (stored JSON, and the
/// time now in Unix seconds for ages).
struct TablePrinter: Sendable {
    let columns: [TableColumn]
    let cells: @Sendable (StoredObject, Int64) -> [JSONValue]

    /// kube-apiserver's default for kinds without a printer: Name and Created At.
    static let generic = TablePrinter(
        columns: [.name, TableColumn("Created At", type: "date", "When the object was created.")],
        cells: { object, _ in [.string(object.key.name), .string(object.creationTimestamp)] })
}
