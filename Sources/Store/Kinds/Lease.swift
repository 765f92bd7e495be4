import JSON

/// A lease (coordination.k8s.io/v1 Lease): a named lock with a holder and an expiry that the
/// holder renews, used for leader election among controllers and for node heartbeats
/// (`kube-node-lease`). The store keeps no clock, so expiry is for readers to judge from
/// `renewTime` and `leaseDurationSeconds`.
///
/// `strategy` and `preferredHolder` (coordinated leader election, an alpha feature off by
/// default in Kubernetes 1.32, which drops them) are kept and checked as if it were on.
public struct Lease: KindObject, Hashable {
    public var kind = ""
    public var apiVersion = ""
    public var metadata = ObjectMeta()
    public var spec = LeaseSpec()

    public init() {}

    /// The strategies Kubernetes defines (others must be `domain/name`).
    public static let strategies = ["OldestEmulationVersion"]

    public static let wireInfo = WireStructInfo<Lease>(
        "io.k8s.api.coordination.v1.Lease", "A named lock with a holder that renews it before it expires.",
        [
            .omitEmpty("kind", nil, \.kind, "The kind: Lease."),
            .omitEmpty("apiVersion", nil, \.apiVersion, "The API version: coordination.k8s.io/v1."),
            .always("metadata", 1, \.metadata, "Standard object metadata."),
            .always("spec", 2, \.spec, "The holder and timing of the lease."),
        ])

    public func validate() -> [FieldError] {
        var errors: [FieldError] = []
        let path = FieldPath("spec")
        if let duration = spec.leaseDurationSeconds, duration <= 0 {
            errors.append(.invalid(path.child("leaseDurationSeconds"), Int64(duration), "must be greater than 0"))
        }
        if let transitions = spec.leaseTransitions, transitions < 0 {
            errors.append(.invalid(path.child("leaseTransitions"), Int64(transitions), "must be greater than or equal to 0"))
        }
        if let strategy = spec.strategy {
            let strategyPath = path.child("strategy")
            switch strategy.split(separator: "/", omittingEmptySubsequences: false).count {
            case 1:
                if !Self.strategies.contains(strategy) { errors.append(.notSupported(strategyPath, strategy, Self.strategies)) }
            case 2:
                if let error = Names.qualifiedNameError(strategy) { errors.append(.invalid(strategyPath, strategy, error)) }
            default:
                errors.append(.invalid(strategyPath, strategy, "must be a valid strategy name"))
            }
        }
        if let holder = spec.preferredHolder, !holder.isEmpty, spec.strategy?.isEmpty ?? true {
            errors.append(.forbidden(path.child("preferredHolder"), "may only be specified if `strategy` is defined"))
        }
        return errors
    }

    /// A lease's renewals are its whole life; the generation stays put.
    public func changesGeneration(from old: Lease) -> Bool { false }
}

public struct LeaseSpec: WireStruct, Hashable {
    public var holderIdentity: String?
    public var leaseDurationSeconds: Int32?
    public var acquireTime: MicroTime?
    public var renewTime: MicroTime?
    public var leaseTransitions: Int32?
    public var strategy: String?
    public var preferredHolder: String?

    public init() {}

    public static let wireInfo = WireStructInfo<LeaseSpec>(
        "io.k8s.api.coordination.v1.LeaseSpec", "Who holds a lease and until when.",
        [
            .optional("holderIdentity", 1, \.holderIdentity, "Who holds the lease."),
            .optional("leaseDurationSeconds", 2, \.leaseDurationSeconds,
                      "How long after renewTime others must wait before taking the lease (positive)."),
            .optional("acquireTime", 3, \.acquireTime, "When the current holder took the lease."),
            .optional("renewTime", 4, \.renewTime, "When the holder last renewed it."),
            .optional("leaseTransitions", 5, \.leaseTransitions, "How many times the lease changed holder (0 or more)."),
            .optional("strategy", 6, \.strategy, "How a coordinated leader election picks the next holder."),
            .optional("preferredHolder", 7, \.preferredHolder,
                      "The holder a coordinated election would like to hand the lease to (needs strategy)."),
        ])
}

extension Kind {
    /// Lease: namespaced, DNS-subdomain names.
    public static let lease = Kind(
        Lease.self, name: "Lease", plural: "leases", namespaced: true, sinceClusterVersion: 2,
        versions: [.storage(Lease.self, group: "coordination.k8s.io", version: "v1", kind: "Lease")])
}
