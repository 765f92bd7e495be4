import API
import ArgumentParser
import JSON
import Transport

#if canImport(Glibc)
import Glibc
#endif

/// Where the CLI finds its agent: `--server [https://]HOST:PORT` and `--api-token`, or else
/// the local agent's data directory (its `api-endpoint`, `api-token` and `ca.crt`). The API
/// is HTTPS: the agent's certificate must chain to the cluster CA (`ca.crt`, or
/// `--certificate-authority FILE`) and name the address dialled.
struct ConnectionOptions: ParsableArguments {
    @Option(name: .long, help: "The agent's data directory (to find its address, API token and CA).")
    var dataDir: String = ProcessInfo.environment("SHOAL_DATA_DIR") ?? "/var/lib/shoal"

    @Option(name: .long, help: "An agent's API address, [https://]HOST:PORT (http:// only for agents run with --insecure-http; default: the local agent's).")
    var server: String?

    @Option(name: .customLong("api-token"), help: "The API bearer token (default: the local agent's).")
    var apiToken: String?

    @Option(name: .customLong("certificate-authority"), help: "PEM file of the cluster CA to verify the agent with (default: the local agent's ca.crt).")
    var certificateAuthority: String?

    @Option(name: [.customShort("o"), .long], help: "Output format: table or json.")
    var output: OutputFormat = .table

    enum OutputFormat: String, ExpressibleByArgument { case table, json }

    func client() throws -> AgentClient {
        var endpoint: Endpoint
        if let server = server ?? ProcessInfo.environment("SHOAL_SERVER") {
            guard let parsed = Endpoint(parsing: server) else { throw ValidationError("--server must be [https://]HOST:PORT") }
            endpoint = parsed
        } else if let text = readFile(dataDir + "/api-endpoint"), let parsed = Endpoint(parsing: text.trimmed()) {
            endpoint = parsed
        } else if let identity = readFile(dataDir + "/agent.json").flatMap({ try? JSONValue.parse(Array($0.utf8)) }) {
            endpoint = Endpoint(secure: true, host: identity["advertise"]?.stringValue ?? "127.0.0.1",
                                port: identity["apiPort"]?.intValue.flatMap { UInt16(exactly: $0) } ?? 7401)
        } else {
            throw CLIError("no agent found: \(dataDir)/agent.json is missing (start `shoal agent`, or pass --server and --api-token)")
        }
        let token = apiToken ?? ProcessInfo.environment("SHOAL_API_TOKEN")
            ?? readFile(dataDir + "/api-token")?.trimmed() ?? ""
        var http = HTTPClient(host: endpoint.host, port: endpoint.port)
        if endpoint.secure { http.tls = try trustedCA() }
        return AgentClient(http: http, token: token)
    }

    /// The CA agents are verified against: `--certificate-authority`, `$SHOAL_CA`, or the
    /// local agent's `ca.crt`.
    func trustedCA() throws -> TLSContext {
        let path = certificateAuthority ?? ProcessInfo.environment("SHOAL_CA") ?? dataDir + "/ca.crt"
        guard let pem = readFile(path) else {
            throw CLIError("""
                cannot verify the agent: no CA certificate at \(path). Pass the cluster CA with --certificate-authority FILE \
                (on a member it is <data-dir>/ca.crt; `shoal kubeconfig` embeds it), or --data-dir of a local agent
                """)
        }
        do {
            return try TLSContext.client(trustedRootsPEM: pem)
        } catch {
            throw CLIError("\(path) is not a usable CA certificate: \(error)")
        }
    }
}

/// An API address: `[https://|http://]HOST:PORT` (HTTPS unless `http://` says otherwise).
struct Endpoint: Equatable {
    var secure: Bool
    var host: String
    var port: UInt16

    init(secure: Bool, host: String, port: UInt16) {
        self.secure = secure
        self.host = host
        self.port = port
    }

    init?(parsing text: String) {
        var rest = Substring(text)
        secure = true
        if rest.hasPrefix("https://") {
            rest = rest.dropFirst(8)
        } else if rest.hasPrefix("http://") {
            rest = rest.dropFirst(7)
            secure = false
        }
        if rest.hasSuffix("/") { rest = rest.dropLast() }
        let parts = rest.split(separator: ":")
        guard parts.count == 2, !parts[0].isEmpty, let port = UInt16(parts[1]), port > 0 else { return nil }
        host = String(parts[0])
        self.port = port
    }

    var url: String { "\(secure ? "https" : "http")://\(host):\(port)" }
}

/// Calls the agent's API and turns failures into messages a person can act on.
struct AgentClient {
    var http: HTTPClient
    var token: String

    func call(_ method: String, _ target: String, body: JSONValue? = nil, accept: String? = nil) throws -> JSONValue {
        let reply = try raw(method, target, body: body, accept: accept)
        let json = reply.body.isEmpty ? JSONValue.null : ((try? JSONValue.parse(reply.body)) ?? .string(String(decoding: reply.body, as: UTF8.self)))
        guard (200..<300).contains(reply.status) else {
            let message = json["message"]?.stringValue ?? json.stringValue ?? "HTTP \(reply.status)"
            throw CLIError("\(message) (HTTP \(reply.status))")
        }
        return json
    }

    func raw(_ method: String, _ target: String, body: JSONValue? = nil, accept: String? = nil) throws -> HTTPParser.Message {
        var headers = [("Authorization", "Bearer \(token)")]
        if body != nil { headers.append(("Content-Type", "application/json")) }
        if let accept { headers.append(("Accept", accept)) }
        do {
            return try http.send(method: method, target: target, headers: headers, body: body?.serialized() ?? [])
        } catch {
            throw CLIError("\(error)")
        }
    }
}

struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

enum ProcessInfo {
    static func environment(_ name: String) -> String? {
        guard let value = getenv(name) else { return nil }
        return String(cString: value)
    }
}

func readFile(_ path: String) -> String? {
    guard let file = fopen(path, "r") else { return nil }
    defer { fclose(file) }
    var bytes: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 4096)
    while true {
        let n = fread(&buffer, 1, buffer.count, file)
        if n <= 0 { break }
        bytes += buffer[0..<n]
    }
    return String(decoding: bytes, as: UTF8.self)
}

extension String {
    func trimmed() -> String {
        var s = Substring(self)
        while let f = s.first, f.isWhitespace { s = s.dropFirst() }
        while let l = s.last, l.isWhitespace { s = s.dropLast() }
        return String(s)
    }
}

/// Prints JSON (pretty) or a table.
func emit(_ value: JSONValue, format: ConnectionOptions.OutputFormat, table: () -> String) {
    switch format {
    case .json: print(value.prettyPrinted(indent: 2))
    case .table: print(table(), terminator: "")
    }
}

/// Left-aligned columns separated by three spaces, kubectl style.
func renderTable(_ header: [String], _ rows: [[String]]) -> String {
    var widths = header.map(\.count)
    for row in rows { for (i, cell) in row.enumerated() where i < widths.count { widths[i] = max(widths[i], cell.count) } }
    func line(_ cells: [String]) -> String {
        var out = ""
        for (i, cell) in cells.enumerated() {
            out += cell
            if i < cells.count - 1 { out += String(repeating: " ", count: widths[i] - cell.count + 3) }
        }
        return out + "\n"
    }
    return line(header) + rows.map(line).joined()
}
