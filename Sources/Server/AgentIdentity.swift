import Crypto
import JSON
import RaftStorage

#if canImport(Glibc)
import Glibc
#endif

/// What a member remembers about itself across restarts, beside the Raft state:
/// `<data-dir>/agent.json` (mode 0600: it holds the cluster secret).
///
/// The incarnation is random and fixed when the data directory is created: a member whose
/// directory was wiped comes back with a new one, which the others notice and refuse.
struct AgentIdentity: Equatable {
    var name: String
    var advertiseHost: String
    var peerPort: UInt16
    var apiPort: UInt16
    var incarnation: UInt64
    /// Index of the membership entry that admitted this incarnation (0: a founder, or not
    /// applied yet). Peers whose record of us is older accept us on its strength.
    var admissionIndex: UInt64 = 0
    /// Set once the member belongs to a cluster.
    var token: ClusterToken?
    /// The founders' peer addresses ("host:port"), for founders.
    var founders: [String]
    /// "active", or "left" after a graceful leave (the directory must not be reused).
    var state: String

    static let fileName = "agent.json"
    static let apiTokenFileName = "api-token"

    var nodeID: UInt64 { MemberID.of(host: advertiseHost, peerPort: peerPort) }

    /// The bearer token API clients present: derived from the cluster secret, so every
    /// member (and a host holding the join token) knows it; before clustering, a local one.
    func apiToken(localFallback: String) -> String {
        guard let token else { return localFallback }
        let mac = HMAC<SHA256>.authenticationCode(for: Array("shoal-api-token-v1".utf8), using: SymmetricKey(data: token.secret))
        return encodeHex(Array(mac)).prefix(40).description
    }

    static func defaultName(for host: String) -> String {
        "shoal-" + host.map { $0.isLetter || $0.isNumber ? String($0).lowercased() : "-" }.joined()
    }

    static func newIncarnation() -> UInt64 {
        var random = SystemRandomNumberGenerator()
        var value: UInt64 = 0
        // 63 bits: it is stored as a non-negative JSON integer in the Member object.
        while value == 0 { value = random.next() & 0x7FFF_FFFF_FFFF_FFFF }
        return value
    }

    // MARK: Persistence

    var json: JSONValue {
        var o = JSONObject()
        o["version"] = .int(1)
        o["name"] = .string(name)
        o["advertise"] = .string(advertiseHost)
        o["peerPort"] = .int(Int64(peerPort))
        o["apiPort"] = .int(Int64(apiPort))
        o["incarnation"] = .string(hex16(incarnation))
        if admissionIndex > 0 { o["admissionIndex"] = .string(String(admissionIndex)) }
        if let token { o["token"] = .string(token.description) }
        o["founders"] = .array(founders.map { .string($0) })
        o["state"] = .string(state)
        return .object(o)
    }

    init(name: String, advertiseHost: String, peerPort: UInt16, apiPort: UInt16, incarnation: UInt64,
         token: ClusterToken?, founders: [String], state: String) {
        self.name = name
        self.advertiseHost = advertiseHost
        self.peerPort = peerPort
        self.apiPort = apiPort
        self.incarnation = incarnation
        self.token = token
        self.founders = founders
        self.state = state
    }

    init(json: JSONValue, path: String) throws(ServerError) {
        func fail(_ what: String) -> ServerError { .storage("\(path): \(what)") }
        guard json["version"]?.intValue == 1 else { throw fail("unknown identity file version") }
        guard let name = json["name"]?.stringValue, let host = json["advertise"]?.stringValue,
              let peerPort = json["peerPort"]?.intValue, let apiPort = json["apiPort"]?.intValue,
              let incarnationText = json["incarnation"]?.stringValue, let incarnation = UInt64(incarnationText, radix: 16),
              let state = json["state"]?.stringValue, let founders = json["founders"]?.arrayValue else {
            throw fail("missing or malformed fields")
        }
        var token: ClusterToken?
        if let text = json["token"]?.stringValue {
            guard let parsed = ClusterToken(parsing: text) else { throw fail("malformed token") }
            token = parsed
        }
        guard (1...65535).contains(peerPort), (1...65535).contains(apiPort) else { throw fail("bad port") }
        self.init(name: name, advertiseHost: host, peerPort: UInt16(peerPort), apiPort: UInt16(apiPort),
                  incarnation: incarnation, token: token, founders: founders.compactMap(\.stringValue), state: state)
        if let text = json["admissionIndex"]?.stringValue {
            guard let index = UInt64(text) else { throw fail("malformed admissionIndex") }
            admissionIndex = index
        }
    }

    static func load(directory: String) throws(ServerError) -> AgentIdentity? {
        let path = joinPath(directory, fileName)
        let fs = PosixFileSystem()
        guard fs.exists(path) else { return nil }
        do {
            let file = try fs.open(path, create: false)
            defer { file.close() }
            let bytes = try file.read(at: 0, count: try file.size())
            let json: JSONValue
            do { json = try JSONValue.parse(bytes) } catch { throw ServerError.storage("\(path): \(error)") }
            return try AgentIdentity(json: json, path: path)
        } catch let error as ServerError {
            throw error
        } catch {
            throw .storage("cannot read \(path): \(error)")
        }
    }

    /// Writes the identity durably (temp file, sync, rename, directory sync), mode 0600.
    func save(directory: String) throws(ServerError) {
        try Self.writeSecretFile(directory: directory, name: Self.fileName, bytes: Array(json.prettyPrinted(indent: 2).utf8) + [10])
    }

    static func writeSecretFile(directory: String, name: String, bytes: [UInt8]) throws(ServerError) {
        try writeFile(directory: directory, name: name, bytes: bytes, mode: 0o600)
    }

    /// Writes a file durably (temp file, sync, rename, directory sync) with `mode`.
    static func writeFile(directory: String, name: String, bytes: [UInt8], mode: mode_t) throws(ServerError) {
        let fs = PosixFileSystem()
        let path = joinPath(directory, name)
        let temporary = path + ".tmp"
        do {
            let file = try fs.open(temporary, create: true)
            chmod(temporary, mode)
            try file.truncate(to: 0)
            try file.write(bytes, at: 0)
            try file.sync()
            file.close()
            try fs.rename(temporary, to: path)
            try fs.syncDirectory(directory)
        } catch {
            throw .storage("cannot write \(path): \(error)")
        }
    }
}
