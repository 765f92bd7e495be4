import Transport

extension APIServer {
    /// How the API server speaks HTTPS (docs/tls.md): the context its connections are
    /// accepted with (the member's serving certificate; client certificates requested, not
    /// required, and verified against the cluster CA), and how it reaches the leader when it
    /// forwards a request (TLS that verifies the leader against the cluster CA and presents
    /// the member's certificate, so the leader takes the forwarded request as authenticated).
    ///
    /// A class: the member swaps `server` and `forwarding` when it renews its certificate;
    /// connections accepted or dialled later use the new ones. Loop thread only.
    public final class TLS {
        /// What accepted connections present and how they check client certificates.
        public var server: TLSContext
        /// How forwarded requests reach the leader.
        public var forwarding: StreamConnector
        /// Bounds of every accepted connection's TLS layer.
        public var limits: TLSStream.Limits
        /// Connections whose TLS failed, by `TLSError.Kind` (`/metrics`).
        public private(set) var failures: [TLSError.Kind: UInt64] = [:]

        public init(server: TLSContext, forwarding: StreamConnector, limits: TLSStream.Limits = TLSStream.Limits()) {
            self.server = server
            self.forwarding = forwarding
            self.limits = limits
        }

        func noteFailure(_ error: TLSError) {
            failures[error.kind, default: 0] += 1
        }

        /// Appends `shoal_api_tls_failures_total` for the member's `/metrics`.
        public func writeMetrics(into metrics: inout MetricsText) {
            let samples = failures.keys.sorted { $0.rawValue < $1.rawValue }.map {
                (labels: [("kind", $0.rawValue)], value: Double(failures[$0]!))
            }
            metrics.counter("shoal_api_tls_failures_total",
                            help: "API connections whose TLS failed (handshake timeout, bad certificate, plain HTTP, garbage).",
                            samples: samples)
        }
    }

    /// How forwarded requests reach the leader: as the clients reach this member.
    var forwardingConnector: StreamConnector { tls?.forwarding ?? .plain }
}
