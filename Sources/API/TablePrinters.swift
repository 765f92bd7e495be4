import JSON
import Store

/// The printers of the kinds shoal serves, by kind name.
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
    ]
}
