import Foundation

// The node's pod network, as CNI sees it: a bridge in the host's network namespace whose
// address is the first of the node's pod range, each pod a veth on it with an address from
// the range (host-local IPAM, its allocations under the member's data directory), the
// loopback, and host ports (portmap). The agent writes the config once the leader gave the
// node its range; containerd's CRI plugin picks it up from the directory and calls the
// plugins from Debian's containernetworking-plugins.

public struct PodNetworkSettings: Sendable, Equatable {
    /// The node's range, e.g. "10.244.1.0/24".
    public var podCIDR: String
    public var bridgeName = "shoal0"
    /// Where host-local keeps its allocations (per member, so hosts on one machine do not share).
    public var ipamDataDirectory: String
    public var mtu = 1450

    public init(podCIDR: String, ipamDataDirectory: String) {
        self.podCIDR = podCIDR
        self.ipamDataDirectory = ipamDataDirectory
    }

    static let networkName = "shoal"
    public static let configFileName = "10-shoal.conflist"

    /// The conflist (CNI 0.4.0, what containerd 1.6 and Debian's plugins speak). Masquerade
    /// is left to the agent's own rules: the bridge plugin's would also rewrite traffic to
    /// other nodes' pods, which must keep its source address.
    public var configText: String {
        """
        {
          "cniVersion": "0.4.0",
          "name": "\(Self.networkName)",
          "plugins": [
            {
              "type": "bridge",
              "bridge": "\(bridgeName)",
              "isGateway": true,
              "ipMasq": false,
              "hairpinMode": true,
              "mtu": \(mtu),
              "ipam": {
                "type": "host-local",
                "dataDir": "\(ipamDataDirectory)",
                "ranges": [[{ "subnet": "\(podCIDR)" }]],
                "routes": [{ "dst": "0.0.0.0/0" }]
              }
            },
            { "type": "portmap", "capabilities": { "portMappings": true }, "snat": true }
          ]
        }

        """
    }

    /// Writes the config into `directory` (atomically) when it differs; true when it wrote.
    @discardableResult
    public func write(into directory: String) throws -> Bool {
        let path = "\(directory)/\(Self.configFileName)"
        if (try? String(contentsOfFile: path, encoding: .utf8)) == configText { return false }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: ipamDataDirectory, withIntermediateDirectories: true)
        try configText.write(toFile: path, atomically: true, encoding: .utf8)
        return true
    }
}
