import ArgumentParser
import JSON
import Store

/// Resolves what a user types (`configmaps`, `configmap`, `cm`, `ConfigMap`, `deploy`) to a kind.
func resolveKind(_ text: String) throws -> Kind {
    let wanted = text.lowercased()
    for kind in Kind.registered
    where kind.plural == wanted || kind.singular == wanted || kind.name.lowercased() == wanted || kind.shortNames.contains(wanted) {
        return kind
    }
    throw CLIError("unknown resource type '\(text)' (known: \(Kind.registered.map(\.plural).joined(separator: ", ")))")
}

/// The URL path of a kind's collection at its storage version (in `namespace`, or across all
/// when nil).
func collectionPath(_ kind: Kind, namespace: String?) -> String {
    collectionPath(kind, group: kind.group, version: kind.version, namespace: namespace)
}

/// The URL path of a kind's collection at `group`/`version`.
func collectionPath(_ kind: Kind, group: String, version: String, namespace: String?) -> String {
    let base = group.isEmpty ? "/api/\(version)" : "/apis/\(group)/\(version)"
    guard kind.namespaced, let namespace else { return "\(base)/\(kind.plural)" }
    return "\(base)/namespaces/\(namespace)/\(kind.plural)"
}

func percentEncode(_ text: String) -> String {
    var out = ""
    for byte in text.utf8 {
        let c = Character(UnicodeScalar(byte))
        if c.isLetter && c.isASCII || c.isNumber && c.isASCII || "-_.~".contains(c) { out.append(c) } else {
            out += "%" + String(byte, radix: 16, uppercase: true).leftPadded(2)
        }
    }
    return out
}

extension String {
    func leftPadded(_ width: Int) -> String { count >= width ? self : String(repeating: "0", count: width - count) + self }
}

struct GetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "get", abstract: "List or show objects (kubectl's table shape).")
    @OptionGroup var connection: ConnectionOptions
    @Argument(help: "Resource type, e.g. configmaps, members.") var resource: String
    @Argument(help: "An object's name.") var name: String?
    @Option(name: [.customShort("n"), .long], help: "Namespace.") var namespace: String = "default"
    @Flag(name: [.customShort("A"), .customLong("all-namespaces")], help: "List across all namespaces.") var allNamespaces = false
    @Option(name: [.customShort("l"), .long], help: "Label selector, e.g. app=web,tier!=db.") var selector: String?
    @Flag(name: [.customShort("w"), .long], help: "Watch for changes after listing.") var watch = false

    func run() throws {
        let kind = try resolveKind(resource)
        let client = try connection.client()
        var path = collectionPath(kind, namespace: allNamespaces ? nil : namespace)
        if let name { path += "/\(name)" }
        var query: [String] = []
        if let selector { query.append("labelSelector=\(percentEncode(selector))") }
        let target = path + (query.isEmpty ? "" : "?" + query.joined(separator: "&"))
        // Tables as the server prints them (the columns kubectl shows); JSON as stored.
        let accept = connection.output == .json ? nil : "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"
        let reply = try client.call("GET", target, accept: accept)
        if reply["kind"] == "Table" {
            print(serverTable(reply), terminator: "")
        } else {
            let items = name == nil ? (reply["items"]?.arrayValue ?? []) : [reply]
            emit(reply, format: connection.output) { table(kind, items) }
        }
        guard watch else { return }
        let version = reply[path: ["metadata", "resourceVersion"]]?.stringValue ?? "0"
        var buffered: [UInt8] = []
        _ = try? client.http.stream(target: path + "?watch=true&resourceVersion=\(version)" + (query.isEmpty ? "" : "&" + query.joined(separator: "&")),
                                    headers: [("Authorization", "Bearer \(client.token)")], timeoutMilliseconds: 3_600_000) { bytes in
            buffered += bytes
            while let newline = buffered.firstIndex(of: 10) {
                let line = Array(buffered[..<newline])
                buffered.removeSubrange(...newline)
                guard let event = try? JSONValue.parse(line) else { continue }
                let type = event["type"]?.stringValue ?? "?"
                if connection.output == .json { print(event.jsonString) } else if let object = event["object"] {
                    print("\(type.padding(9))" + table(kind, [object]).split(separator: "\n").dropFirst().joined())
                }
            }
            return true
        }
    }

    /// A server-side Table as text: the always-shown columns (NAMESPACE first across
    /// namespaces), upper-cased headers, cells as the server wrote them.
    func serverTable(_ table: JSONValue) -> String {
        let rows = table["rows"]?.arrayValue ?? []
        if rows.isEmpty { return "No resources found.\n" }
        let columns = (table["columnDefinitions"]?.arrayValue ?? []).enumerated().filter { $0.element["priority"]?.intValue ?? 0 == 0 }
        var header = columns.map { ($0.element["name"]?.stringValue ?? "").uppercased() }
        if allNamespaces { header.insert("NAMESPACE", at: 0) }
        let body: [[String]] = rows.map { row in
            let cells = row["cells"]?.arrayValue ?? []
            var line = columns.map { column -> String in
                guard column.offset < cells.count else { return "" }
                let cell = cells[column.offset]
                return cell.stringValue ?? cell.intValue.map(String.init) ?? cell.jsonString
            }
            if allNamespaces { line.insert(row[path: ["object", "metadata", "namespace"]]?.stringValue ?? "", at: 0) }
            return line
        }
        return renderTable(header, body)
    }

    func table(_ kind: Kind, _ items: [JSONValue]) -> String {
        if items.isEmpty { return "No resources found.\n" }
        let namespaced = kind.namespaced && allNamespaces
        var header = namespaced ? ["NAMESPACE", "NAME"] : ["NAME"]
        var rows: [[String]] = []
        switch kind.name {
        case "ConfigMap": header.append("DATA")
        case "Member": header += ["ADDRESS", "ROLE"]
        default: break
        }
        header.append("AGE")
        for item in items {
            var row = namespaced ? [item[path: ["metadata", "namespace"]]?.stringValue ?? ""] : []
            row.append(item[path: ["metadata", "name"]]?.stringValue ?? "")
            switch kind.name {
            case "ConfigMap": row.append(String((item["data"]?.objectValue?.count ?? 0) + (item["binaryData"]?.objectValue?.count ?? 0)))
            case "Member":
                row.append("\(item[path: ["spec", "address"]]?.stringValue ?? ""):\(item[path: ["spec", "peerPort"]]?.intValue ?? 0)")
                row.append(item[path: ["spec", "role"]]?.stringValue ?? "")
            default: break
            }
            row.append(age(item[path: ["metadata", "creationTimestamp"]]?.stringValue))
            rows.append(row)
        }
        return renderTable(header, rows)
    }
}

struct ApplyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "apply", abstract: "Create or update the objects in a YAML or JSON file (several documents allowed).")
    @OptionGroup var connection: ConnectionOptions
    @Option(name: [.customShort("f"), .long], help: "The manifest file ('-' for standard input).") var filename: String
    @Option(name: [.customShort("n"), .long], help: "Namespace for objects that name none.") var namespace: String = "default"

    func run() throws {
        let text: String
        if filename == "-" {
            var lines: [String] = []
            while let line = readLine(strippingNewline: false) { lines.append(line) }
            text = lines.joined()
        } else {
            guard let contents = readFile(filename) else { throw CLIError("cannot read \(filename)") }
            text = contents
        }
        let documents = try Manifest.documents(text, source: filename)
        let client = try connection.client()
        for document in documents {
            guard let kindName = document["kind"]?.stringValue, let apiVersion = document["apiVersion"]?.stringValue,
                  let (kind, served) = Kind.resolve(apiVersion: apiVersion, kind: kindName) else {
                throw CLIError("\(filename): unsupported kind \(document["kind"]?.jsonString ?? "(none)") in version \(document["apiVersion"]?.jsonString ?? "(none)")")
            }
            guard let name = document[path: ["metadata", "name"]]?.stringValue else { throw CLIError("\(filename): an object has no metadata.name") }
            var object = document
            let ns = kind.namespaced ? (document[path: ["metadata", "namespace"]]?.stringValue ?? namespace) : nil
            if let ns { object[path: ["metadata", "namespace"]] = .string(ns) }
            // Through the version the manifest is written in (its defaults apply).
            let collection = collectionPath(kind, group: served?.group ?? kind.group, version: served?.version ?? kind.version, namespace: ns)
            let existing = try client.raw("GET", "\(collection)/\(name)")
            let verb: String
            if existing.status == 404 {
                _ = try client.call("POST", collection, body: object)
                verb = "created"
            } else {
                guard existing.status == 200, let current = try? JSONValue.parse(existing.body) else {
                    throw CLIError("cannot read \(kind.plural)/\(name): HTTP \(existing.status)")
                }
                object[path: ["metadata", "resourceVersion"]] = current[path: ["metadata", "resourceVersion"]]
                let updated = try client.call("PUT", "\(collection)/\(name)", body: object)
                verb = updated[path: ["metadata", "resourceVersion"]] == current[path: ["metadata", "resourceVersion"]] ? "unchanged" : "configured"
            }
            print("\(kind.name.lowercased())/\(name) \(verb)")
        }
    }
}

struct DeleteCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "delete", abstract: "Delete an object.")
    @OptionGroup var connection: ConnectionOptions
    @Argument(help: "Resource type.") var resource: String
    @Argument(help: "The object's name.") var name: String
    @Option(name: [.customShort("n"), .long], help: "Namespace.") var namespace: String = "default"

    func run() throws {
        let kind = try resolveKind(resource)
        _ = try connection.client().call("DELETE", "\(collectionPath(kind, namespace: namespace))/\(name)")
        print("\(kind.name.lowercased()) \"\(name)\" deleted")
    }
}

/// kubectl's short ages: 45s, 12m, 3h, 5d.
func age(_ timestamp: String?) -> String {
    guard let timestamp, let created = parseRFC3339(timestamp) else { return "<unknown>" }
    let (now, _) = WallClockNow.now()
    let seconds = max(0, now - created)
    if seconds < 120 { return "\(seconds)s" }
    if seconds < 7200 { return "\(seconds / 60)m" }
    if seconds < 172_800 { return "\(seconds / 3600)h" }
    return "\(seconds / 86_400)d"
}

func parseRFC3339(_ text: String) -> Int64? {
    let bytes = Array(text.utf8)
    guard bytes.count >= 20 else { return nil }
    func number(_ from: Int, _ length: Int) -> Int64? { Int64(String(decoding: bytes[from..<from + length], as: UTF8.self)) }
    guard let y = number(0, 4), let mo = number(5, 2), let d = number(8, 2), let h = number(11, 2),
          let mi = number(14, 2), let s = number(17, 2) else { return nil }
    // Days from civil (Howard Hinnant's algorithm).
    let yy = mo <= 2 ? y - 1 : y
    let era = (yy >= 0 ? yy : yy - 399) / 400
    let yoe = yy - era * 400
    let doy = (153 * (mo + (mo > 2 ? -3 : 9)) + 2) / 5 + d - 1
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
    let days = era * 146_097 + doe - 719_468
    return days * 86_400 + h * 3600 + mi * 60 + s
}

extension String {
    func padding(_ width: Int) -> String { count >= width ? self + " " : self + String(repeating: " ", count: width - count) }
}
