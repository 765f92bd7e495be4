/// What a container asks for and may use at most (core/v1 ResourceRequirements), as
/// resource name → amount: `cpu` in cores ("500m"), `memory` in bytes ("128Mi"),
/// `ephemeral-storage`, `hugepages-<size>`, and domain-qualified extended resources.
public struct ResourceRequirements: WireStruct, Hashable {
    public var limits: [String: Quantity] = [:]
    public var requests: [String: Quantity] = [:]
    public var claims: [ResourceClaim] = []

    public init() {}

    public init(requests: [String: Quantity] = [:], limits: [String: Quantity] = [:]) {
        self.requests = requests
        self.limits = limits
    }

    public static let wireInfo = WireStructInfo<ResourceRequirements>(
        "io.k8s.api.core.v1.ResourceRequirements", "Resources a container asks for (requests) and may use at most (limits).",
        [
            .omitEmpty("limits", 1, \.limits, "The most of each resource the container may use."),
            .omitEmpty("requests", 2, \.requests,
                       "What the container needs, which the scheduler reserves on its node (default: the limits)."),
            .omitEmpty("claims", 3, \.claims, "Which of the pod's resource claims the container uses (alpha).",
                       semantics: ListSemantics(listType: "map", mapKeys: ["name"])),
        ])

    /// The resource names: CPU in cores, memory in bytes.
    public static let cpu = "cpu"
    public static let memory = "memory"
    public static let ephemeralStorage = "ephemeral-storage"
    /// Node capacity only: how many pods a node takes.
    public static let pods = "pods"
}

/// Names one of the pod's resource claims for a container (core/v1 ResourceClaim).
public struct ResourceClaim: WireStruct, Hashable {
    public var name = ""
    public var request = ""
    public init() {}
    public static let wireInfo = WireStructInfo<ResourceClaim>(
        "io.k8s.api.core.v1.ResourceClaim", "A resource claim of the pod that a container uses.",
        [
            .always("name", 1, \.name, "The claim's name in the pod's resourceClaims."),
            .omitEmpty("request", 2, \.request, "One request of the claim, when not all of it."),
        ])
}

extension Dictionary where Key == String, Value == Quantity {
    /// Every amount rounded up to thousandths, as Kubernetes stores resource lists ("0.0001"
    /// becomes "1m"); amounts that are already whole thousandths keep their spelling.
    mutating func roundUpToMilli() {
        for (name, amount) in self where amount.exponent < -3 {
            if let milli = amount.scaled(to: -3) { self[name] = Quantity(milliUnits: milli) }
        }
    }

    /// The amount of `name` in thousandths (CPU millicores), or 0 when absent.
    func milli(_ name: String) -> Int64 { self[name]?.milliValue ?? 0 }

    /// The amount of `name` in whole units (bytes), or 0 when absent.
    func units(_ name: String) -> Int64 { self[name]?.value ?? 0 }
}
