import ArgumentParser
import JSON
import Server

struct InitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "init", abstract: "Found a one-member cluster on the local agent and print its join token.")
    @OptionGroup var connection: ConnectionOptions

    func run() throws {
        let reply = try connection.client().call("POST", "/shoal/v1/init")
        emit(reply, format: connection.output) {
            "cluster initialized; join other hosts with:\n  shoal join \(reply["endpoint"]?.stringValue ?? "<this-host>:7401") --token \(reply["token"]?.stringValue ?? "?")\n"
        }
    }
}

struct TokenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "token", abstract: "Print the cluster's join token (or generate a new one to found a cluster with).")
    @OptionGroup var connection: ConnectionOptions
    @Flag(help: "Generate a new token locally (for `shoal agent --peers ... --token`).")
    var generate = false

    func run() throws {
        if generate {
            print(ClusterToken.generate().description)
            return
        }
        let reply = try connection.client().call("GET", "/shoal/v1/token")
        emit(reply, format: connection.output) { (reply["token"]?.stringValue ?? "") + "\n" }
    }
}

struct JoinCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "join", abstract: "Make the local agent join the cluster a member answers for at ADDR (HOST:PORT of its API).")
    @OptionGroup var connection: ConnectionOptions
    @Argument(help: "A member's API address, HOST[:PORT].") var address: String
    @Option(help: "The cluster's join token.") var token: String

    func validate() throws {
        guard ClusterToken(parsing: token) != nil else { throw ValidationError("--token is not a shoal join token") }
    }

    func run() throws {
        let body = JSONValue.object(JSONObject([("endpoint", .string(address)), ("token", .string(token))]))
        let reply = try connection.client().call("POST", "/shoal/v1/join", body: body)
        emit(reply, format: connection.output) { "joined as a learner; it becomes a voter once caught up\n" }
    }
}

struct LeaveCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "leave", abstract: "Leave the cluster gracefully (handing over leadership first); the agent then stops.")
    @OptionGroup var connection: ConnectionOptions

    func run() throws {
        let reply = try connection.client().call("POST", "/shoal/v1/leave")
        emit(reply, format: connection.output) { "\(reply["left"]?.stringValue ?? "this member") left the cluster\n" }
    }
}

struct RemoveCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "remove", abstract: "Remove a (dead) member by name.")
    @OptionGroup var connection: ConnectionOptions
    @Argument(help: "The member's name (see `shoal members`).") var name: String

    func run() throws {
        let reply = try connection.client().call("DELETE", "/shoal/v1/members/\(name)")
        emit(reply, format: connection.output) { "removed \(name)\n" }
    }
}

struct MembersCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "members", abstract: "List the cluster's members as the leader sees them.")
    @OptionGroup var connection: ConnectionOptions

    func run() throws {
        let reply = try connection.client().call("GET", "/shoal/v1/members")
        emit(reply, format: connection.output) {
            let rows = (reply.arrayValue ?? []).map { m -> [String] in
                [m["name"]?.stringValue ?? "", m["address"]?.stringValue ?? "", m["role"]?.stringValue ?? "",
                 m["voter"]?.boolValue == true ? "voter" : "learner", m["matchIndex"]?.intValue.map(String.init) ?? "-",
                 m["lastContactMilliseconds"]?.intValue.map { "\($0)ms" } ?? "-", m["health"]?.stringValue ?? ""]
            }
            return renderTable(["NAME", "ADDRESS", "ROLE", "VOTING", "MATCH", "LAST-CONTACT", "HEALTH"], rows)
        }
    }
}

struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "status", abstract: "Show the local member's Raft status.")
    @OptionGroup var connection: ConnectionOptions

    func run() throws {
        let reply = try connection.client().call("GET", "/shoal/v1/status")
        emit(reply, format: connection.output) {
            var rows: [[String]] = []
            for (key, value) in reply.objectValue ?? JSONObject() {
                let text: String
                switch value {
                case .string(let s): text = s
                case .array(let items): text = items.map { $0.stringValue ?? "\($0)" }.joined(separator: ",")
                case .null: text = "-"
                default: text = value.jsonString
                }
                rows.append([key, text])
            }
            return renderTable(["FIELD", "VALUE"], rows)
        }
    }
}
