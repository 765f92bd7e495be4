import ArgumentParser
import Foundation
import JSON

/// `shoal kubeconfig`: a kubeconfig for kubectl with one cluster and context per member
/// (its API address), the cluster CA, and a credential: the API bearer token, or with
/// `--client-certificate` a new client certificate for `admin` in `system:masters`, signed
/// by the cluster CA. The current context is the member this command talked to.
struct KubeconfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kubeconfig",
        abstract: "Print a kubeconfig for kubectl: every member's API, the cluster CA, and a credential.",
        discussion: "For example: shoal kubeconfig > ~/.kube/config && kubectl get --raw /api")
    @OptionGroup var connection: ConnectionOptions

    @Flag(help: "Authenticate with a new client certificate (CN=admin, O=system:masters) instead of the bearer token.")
    var clientCertificate = false

    @Option(help: "The user entry's name.")
    var user: String = "admin"

    func run() throws {
        let client = try connection.client()
        let credentials = try client.call("GET", "/shoal/v1/credentials" + (clientCertificate ? "?clientCertificate=true" : ""))
        guard let ca = credentials["certificateAuthority"]?.stringValue else {
            throw CLIError("the agent sent no CA certificate")
        }
        let status = try client.call("GET", "/shoal/v1/status")
        let me = status["name"]?.stringValue ?? "shoal"
        // Every member's API from the leader's view; a member that knows no leader still
        // gives a kubeconfig for itself.
        var servers: [(name: String, url: String)] = []
        do {
            for row in try client.call("GET", "/shoal/v1/members").arrayValue ?? [] {
                guard let name = row["name"]?.stringValue, let api = row["api"]?.stringValue else { continue }
                servers.append((name, "https://\(api)"))
            }
        } catch {
            FileHandle.standardError.write(Data("shoal kubeconfig: the member list is not available (\(error)); writing this member only\n".utf8))
        }
        if !servers.contains(where: { $0.name == me }) { servers.insert((me, client.http.baseURL), at: 0) }
        var identity = Kubeconfig.User(name: user, token: client.token)
        if clientCertificate {
            guard let certificate = credentials["clientCertificate"]?.stringValue, let key = credentials["clientKey"]?.stringValue else {
                throw CLIError("the agent issued no client certificate")
            }
            identity = Kubeconfig.User(name: user, clientCertificatePEM: certificate, clientKeyPEM: key)
        }
        let config = Kubeconfig(clusters: servers.map { Kubeconfig.Cluster(name: $0.name, server: $0.url, certificateAuthorityPEM: ca) },
                                user: identity, currentContext: me)
        print(config.yaml, terminator: "")
    }
}

/// The parts of a kubeconfig (clientcmd's `Config`, v1) this CLI writes: one context per
/// cluster, all for one user.
struct Kubeconfig {
    struct Cluster {
        var name: String
        var server: String
        var certificateAuthorityPEM: String
    }

    struct User {
        var name: String
        var token: String?
        var clientCertificatePEM: String?
        var clientKeyPEM: String?

        init(name: String, token: String) {
            self.name = name
            self.token = token
        }

        init(name: String, clientCertificatePEM: String, clientKeyPEM: String) {
            self.name = name
            self.clientCertificatePEM = clientCertificatePEM
            self.clientKeyPEM = clientKeyPEM
        }
    }

    var clusters: [Cluster]
    var user: User
    var currentContext: String

    /// YAML as kubectl reads it; every scalar double-quoted (URLs, base64 and names need no
    /// further thought that way).
    var yaml: String {
        var out = "apiVersion: v1\nkind: Config\nclusters:\n"
        for cluster in clusters {
            out += "- name: \(Self.quoted(cluster.name))\n  cluster:\n"
            out += "    certificate-authority-data: \(Self.quoted(Self.base64(cluster.certificateAuthorityPEM)))\n"
            out += "    server: \(Self.quoted(cluster.server))\n"
        }
        out += "contexts:\n"
        for cluster in clusters {
            out += "- name: \(Self.quoted(cluster.name))\n  context:\n"
            out += "    cluster: \(Self.quoted(cluster.name))\n    user: \(Self.quoted(user.name))\n"
        }
        out += "current-context: \(Self.quoted(currentContext))\npreferences: {}\nusers:\n"
        out += "- name: \(Self.quoted(user.name))\n  user:\n"
        if let token = user.token { out += "    token: \(Self.quoted(token))\n" }
        if let certificate = user.clientCertificatePEM, let key = user.clientKeyPEM {
            out += "    client-certificate-data: \(Self.quoted(Self.base64(certificate)))\n"
            out += "    client-key-data: \(Self.quoted(Self.base64(key)))\n"
        }
        return out
    }

    static func base64(_ text: String) -> String { Data(text.utf8).base64EncodedString() }

    /// A YAML double-quoted scalar.
    static func quoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            default:
                if scalar.value < 0x20 {
                    out += "\\x" + String(scalar.value, radix: 16).leftPadded(2)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }
}
