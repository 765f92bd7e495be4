import CNFTables

/// nftables in this process's network namespace: libnftables for rules (nft's syntax) and a
/// netlink socket for element batches; used by one thread at a time (the proxy applies its
/// syncs one after another on a helper thread).
public final class NFTables: @unchecked Sendable {
    private let context: OpaquePointer
    private let netlink: NetlinkElements
    private let conntrack: ConntrackFlows

    /// Why changes were refused, in nft's or the kernel's words (the whole transaction was).
    public struct Failure: Error, CustomStringConvertible, Sendable {
        public var description: String
    }

    public init() throws(Failure) {
        netlink = try NetlinkElements()
        conntrack = try ConntrackFlows()
        guard let context = nft_ctx_new(UInt32(NFT_CTX_DEFAULT)) else { throw Failure(description: "cannot create an nftables context") }
        self.context = context
        // Output and errors into buffers instead of the process's stdout and stderr.
        nft_ctx_buffer_output(context)
        nft_ctx_buffer_error(context)
    }

    deinit { nft_ctx_free(context) }

    /// Runs the commands (`nft -f` syntax) as one transaction; the listing text they print.
    @discardableResult
    public func run(_ commands: String) throws(Failure) -> String {
        let status = nft_run_cmd_from_buffer(context, commands)
        let output = nft_ctx_get_output_buffer(context).map { String(cString: $0) } ?? ""
        let errors = nft_ctx_get_error_buffer(context).map { String(cString: $0) } ?? ""
        guard status == 0 else { throw Failure(description: errors.isEmpty ? "nft failed (\(status))" : errors) }
        return output
    }

    /// Applies a delta in its three steps (`RulesetDelta`); a failed step leaves the table
    /// consistent but behind, and the caller rewrites it whole.
    public func apply(_ delta: RulesetDelta) throws(Failure) {
        if !delta.before.isEmpty { try run(delta.before.joined(separator: "\n") + "\n") }
        try netlink.apply(delta.elements, table: Ruleset.tableName)
        if !delta.after.isEmpty { try run(delta.after.joined(separator: "\n") + "\n") }
    }

    /// Deletes the conntrack entries that would keep traffic on endpoints that left: UDP
    /// flows translated to `udp`, unanswered TCP connection attempts translated to `tcp`
    /// (ConntrackFlows); how many.
    @discardableResult
    public func forgetFlows(udpTo udp: Set<ProxyEndpoint>, unansweredTCPTo tcp: Set<ProxyEndpoint>) throws(Failure) -> Int {
        try conntrack.forget(udpTo: udp, unansweredTCPTo: tcp)
    }
}
