import Foundation
import Store

// Pod addresses across hosts. Every node owns a range (its Node's spec.podCIDR); a pod's
// packets to another node's range go either through a VXLAN overlay the agent programs
// itself, as flannel's vxlan backend does — one VXLAN device per host, and for every other
// node a route to its range via that node's VTEP address, a permanent neighbour entry for
// the VTEP's MAC and a forwarding entry sending that MAC to the node's address (no multicast
// learning, so hosts on different subnets work) — or, with host-gw, over plain routes via
// the other nodes' addresses (hosts on one link; no encapsulation).
//
// The desired state is a pure function of the Node objects (`PodRoutes.plan`); applying it
// is one `ip -batch` run that replaces what is wanted and deletes what is not (`apply`).
// Changes come only when nodes join, leave or get their range, so one process per change
// costs nothing that matters (docs/agent.md says why not netlink).

public enum PodNetworkBackend: String, Sendable, CaseIterable {
    case vxlan
    case hostGateway = "host-gw"
}

/// Another node's range and where it is.
public struct PodRoute: Sendable, Equatable, Comparable {
    public var podCIDR: String
    public var nodeIP: String

    public init(podCIDR: String, nodeIP: String) {
        self.podCIDR = podCIDR
        self.nodeIP = nodeIP
    }

    public static func < (a: PodRoute, b: PodRoute) -> Bool { (a.podCIDR, a.nodeIP) < (b.podCIDR, b.nodeIP) }

    /// The VTEP's address on the overlay: the range's network address (flannel's choice),
    /// which no pod gets.
    public var vtepAddress: String { String(podCIDR.split(separator: "/")[0]) }

    /// The VTEP's MAC, derived from the node's address (locally administered, unicast), so
    /// no node has to publish it.
    public var vtepMAC: String { PodRoutes.vtepMAC(nodeIP: nodeIP) }
}

public enum PodRoutes {
    public static let vxlanDevice = "shoal.vxlan"
    /// VXLAN network id and UDP port (Linux's and flannel's 8472).
    public static let vxlanID = 1
    public static let vxlanPort = 8472
    /// 50 bytes of VXLAN headers off a 1500-byte link.
    public static let vxlanMTU = 1450

    /// The other nodes' routes: every node but this one with a range and an InternalIP.
    public static func plan(localNode: String, nodes: [Node]) -> [PodRoute] {
        nodes.compactMap { node -> PodRoute? in
            guard node.metadata.name != localNode, !node.spec.podCIDR.isEmpty, parseCIDR(node.spec.podCIDR) != nil,
                  let address = node.status.addresses.first(where: { $0.type == NodeAddress.internalIP })?.address,
                  parseIPv4(address) != nil else { return nil }
            return PodRoute(podCIDR: node.spec.podCIDR, nodeIP: address)
        }.sorted()
    }

    public static func vtepMAC(nodeIP: String) -> String {
        let bytes = parseIPv4(nodeIP) ?? [0, 0, 0, 0]
        return (["0e", "5e"] + bytes.map { String(format: "%02x", $0) }).joined(separator: ":")
    }

    /// What makes the network match `routes`, in order: `ip -batch` lines for the device,
    /// `bridge -batch` lines for its forwarding entries, then `ip -batch` lines for the
    /// neighbours and routes. `currentRoutes` and `currentMACs` are what the device has now:
    /// stale ones are deleted.
    public struct Commands: Sendable, Equatable {
        public var device: [String] = []
        public var forwarding: [String] = []
        public var routes: [String] = []
    }

    public static func commands(backend: PodNetworkBackend, localIP: String, localPodCIDR: String, routes: [PodRoute],
                                currentRoutes: [String], currentMACs: [String], deviceExists: Bool) -> Commands {
        var commands = Commands()
        let wanted = Set(routes.map(\.podCIDR))
        switch backend {
        case .vxlan:
            let local = PodRoute(podCIDR: localPodCIDR, nodeIP: localIP)
            if !deviceExists {
                commands.device.append("link add \(vxlanDevice) type vxlan id \(vxlanID) local \(localIP) dstport \(vxlanPort) nolearning")
            }
            commands.device.append("link set \(vxlanDevice) address \(local.vtepMAC) mtu \(vxlanMTU) up")
            commands.device.append("address replace \(local.vtepAddress)/32 dev \(vxlanDevice)")
            for route in routes {
                commands.forwarding.append("fdb replace \(route.vtepMAC) dev \(vxlanDevice) dst \(route.nodeIP) self permanent")
                commands.routes.append("neighbour replace \(route.vtepAddress) lladdr \(route.vtepMAC) dev \(vxlanDevice) nud permanent")
                commands.routes.append("route replace \(route.podCIDR) via \(route.vtepAddress) dev \(vxlanDevice) onlink")
            }
            let wantedMACs = Set(routes.map(\.vtepMAC))
            for mac in currentMACs.sorted() where mac.hasPrefix("0e:5e:") && !wantedMACs.contains(mac) {
                commands.forwarding.append("fdb del \(mac) dev \(vxlanDevice) self")
            }
        case .hostGateway:
            for route in routes { commands.routes.append("route replace \(route.podCIDR) via \(route.nodeIP)") }
        }
        for stale in currentRoutes.sorted() where !wanted.contains(stale) {
            commands.routes.append("route del \(stale)")
        }
        return commands
    }

    static func parseIPv4(_ text: String) -> [UInt8]? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        let bytes = parts.compactMap { UInt8($0) }
        return bytes.count == 4 ? bytes : nil
    }

    static func parseCIDR(_ text: String) -> (address: [UInt8], bits: Int)? {
        let parts = text.split(separator: "/")
        guard parts.count == 2, let address = parseIPv4(String(parts[0])), let bits = Int(parts[1]), (0...32).contains(bits) else { return nil }
        return (address, bits)
    }
}

/// Applies the routes on a worker thread (the member calls it off its loop).
public enum PodRouteApplier {
    /// Runs `ip` with the batch; nil on success, else its words.
    public static func apply(backend: PodNetworkBackend, localIP: String, localPodCIDR: String, routes: [PodRoute],
                             clusterCIDR: String) -> String? {
        let deviceExists = run(["/usr/sbin/ip", "link", "show", PodRoutes.vxlanDevice]).status == 0
        // Routes to pod ranges that this agent made earlier: via the overlay device, or
        // (host-gw) any route inside the cluster range that is not the local bridge's.
        let listing = run(["/usr/sbin/ip", "-o", "route", "show", "root", clusterCIDR]).output
        let current = listing.split(separator: "\n").compactMap { line -> String? in
            let words = line.split(separator: " ").map(String.init)
            guard let first = words.first, first != localPodCIDR, !words.contains("shoal0") else { return nil }
            return first
        }
        let macs = deviceExists
            ? run(["/sbin/bridge", "fdb", "show", "dev", PodRoutes.vxlanDevice]).output.split(separator: "\n").compactMap { $0.split(separator: " ").first.map(String.init) }
            : []
        let commands = PodRoutes.commands(backend: backend, localIP: localIP, localPodCIDR: localPodCIDR, routes: routes,
                                          currentRoutes: current, currentMACs: macs, deviceExists: deviceExists || backend == .hostGateway)
        if backend == .hostGateway, deviceExists { _ = run(["/usr/sbin/ip", "link", "del", PodRoutes.vxlanDevice]) }
        for (tool, lines) in [("/usr/sbin/ip", commands.device), ("/sbin/bridge", commands.forwarding), ("/usr/sbin/ip", commands.routes)]
        where !lines.isEmpty {
            let result = run([tool, "-force", "-batch", "-"], input: lines.joined(separator: "\n") + "\n")
            if result.status != 0 {
                return "\(tool) -batch failed: \(result.output.trimmingCharacters(in: .whitespacesAndNewlines))"
            }
        }
        return nil
    }

    /// Forwarding on in this namespace, and pods' traffic that leaves the cluster network
    /// masqueraded behind the node's address (one nftables table of shoal's own).
    public static func enableForwardingAndMasquerade(clusterCIDR: String) -> String? {
        // Already on is fine: a container's /proc/sys is read-only unless its runtime
        // unmasks it, and there the runtime sets forwarding (docker/compose.yaml's sysctls).
        let forwarding = "/proc/sys/net/ipv4/ip_forward"
        let current = (try? String(contentsOfFile: forwarding, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
        if current != "1" {
            do {
                try "1\n".write(toFile: forwarding, atomically: false, encoding: .utf8)
            } catch {
                return "cannot turn on forwarding in this network namespace (\(forwarding)): \(error)"
            }
        }
        let ruleset = """
        table ip shoal-pods
        delete table ip shoal-pods
        table ip shoal-pods {
            chain postrouting {
                type nat hook postrouting priority srcnat; policy accept;
                ip saddr \(clusterCIDR) ip daddr != \(clusterCIDR) masquerade
            }
        }

        """
        let result = run(["/usr/sbin/nft", "-f", "-"], input: ruleset)
        return result.status == 0 ? nil : "nft failed: \(result.output.trimmingCharacters(in: .whitespacesAndNewlines))"
    }

    static func run(_ command: [String], input: String? = nil) -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: command[0])
        process.arguments = Array(command.dropFirst())
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        let stdin = Pipe()
        process.standardInput = stdin
        do { try process.run() } catch { return (-1, "\(command[0]): \(error)") }
        if let input { stdin.fileHandleForWriting.write(Data(input.utf8)) }
        try? stdin.fileHandleForWriting.close()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, text)
    }
}
