import JSON

/// The addresses behind a Service (core/v1 Endpoints), in the older shape: subsets of
/// addresses that share a set of ports. Kept for clients that still read it; shoal's own
/// service proxy reads EndpointSlices.
///
/// Departure from Kubernetes: subsets are stored as written; Kubernetes repacks them
/// (deduplicating and merging subsets with the same ports) in an order that depends on
/// hashes of Go values, which is not worth imitating.
public struct Endpoints: KindObject, Hashable {
    public var kind = ""
    public var apiVersion = ""
    public var metadata = ObjectMeta()
    public var subsets: [EndpointSubset] = []

    public init() {}

    public static let wireInfo = WireStructInfo<Endpoints>(
        "io.k8s.api.core.v1.Endpoints", "The addresses and ports behind a service, grouped in subsets.",
        [
            .omitEmpty("kind", nil, \.kind, "The kind: Endpoints."),
            .omitEmpty("apiVersion", nil, \.apiVersion, "The API version: v1."),
            .always("metadata", 1, \.metadata, "Standard object metadata; the name is the service's."),
            .omitEmpty("subsets", 2, \.subsets, "Groups of addresses that share the same ports.", semantics: .atomic),
        ])

    public mutating func applyDefaults() {
        for i in subsets.indices {
            for j in subsets[i].ports.indices where subsets[i].ports[j].protocol.isEmpty { subsets[i].ports[j].protocol = "TCP" }
        }
    }

    public func validate() -> [FieldError] {
        var errors: [FieldError] = []
        for (i, subset) in subsets.enumerated() {
            let path = FieldPath("subsets").index(i)
            if subset.addresses.isEmpty && subset.notReadyAddresses.isEmpty {
                errors.append(.required(path, "must specify `addresses` or `notReadyAddresses`"))
            }
            for (j, address) in subset.addresses.enumerated() {
                errors += address.validate(at: path.child("addresses").index(j))
            }
            for (j, address) in subset.notReadyAddresses.enumerated() {
                errors += address.validate(at: path.child("notReadyAddresses").index(j))
            }
            for (j, port) in subset.ports.enumerated() {
                errors += port.validate(at: path.child("ports").index(j), nameRequired: subset.ports.count > 1)
            }
        }
        return errors
    }

    /// Endpoints have no desired state apart from their data: the generation stays put.
    public func changesGeneration(from old: Endpoints) -> Bool { false }
}

public struct EndpointSubset: WireStruct, Hashable {
    public var addresses: [EndpointAddress] = []
    public var notReadyAddresses: [EndpointAddress] = []
    public var ports: [EndpointPort] = []
    public init() {}
    public static let wireInfo = WireStructInfo<EndpointSubset>(
        "io.k8s.api.core.v1.EndpointSubset", "Addresses that share a set of ports.",
        [
            .omitEmpty("addresses", 1, \.addresses, "Addresses ready to receive traffic.", semantics: .atomic),
            .omitEmpty("notReadyAddresses", 2, \.notReadyAddresses, "Addresses not ready yet (or no longer).",
                       semantics: .atomic),
            .omitEmpty("ports", 3, \.ports, "The ports of every address of the subset.", semantics: .atomic),
        ])
}

public struct EndpointAddress: WireStruct, Hashable {
    public var ip = ""
    public var hostname = ""
    public var nodeName: String?
    public var targetRef: ObjectReference?
    public init() {}
    public init(ip: String, nodeName: String? = nil, targetRef: ObjectReference? = nil) {
        self.ip = ip
        self.nodeName = nodeName
        self.targetRef = targetRef
    }
    public static let wireInfo = WireStructInfo<EndpointAddress>(
        "io.k8s.api.core.v1.EndpointAddress", "One address behind a service: usually a pod's IP.",
        [
            .always("ip", 1, \.ip, "The IP address (not loopback, link-local or multicast).", required: true),
            .omitEmpty("hostname", 3, \.hostname, "The address's DNS hostname, for headless services."),
            .optional("nodeName", 4, \.nodeName, "The node the address is on."),
            .optional("targetRef", 2, \.targetRef, "The object behind the address (a pod)."),
        ])

    func validate(at path: FieldPath) -> [FieldError] {
        var errors: [FieldError] = []
        if let error = NetworkRules.ipError(ip) { errors.append(.invalid(path.child("ip"), ip, error)) }
        if !hostname.isEmpty, let error = Names.dnsLabelError(hostname) {
            errors.append(.invalid(path.child("hostname"), hostname, error))
        }
        if let nodeName, let error = Names.dnsSubdomainError(nodeName) {
            errors.append(.invalid(path.child("nodeName"), nodeName, error))
        }
        errors += NetworkRules.specialIPErrors(ip).map { FieldError.invalid(path.child("ip"), ip, $0) }
        return errors
    }
}

public struct EndpointPort: WireStruct, Hashable {
    public var name = ""
    public var port: Int32 = 0
    public var `protocol` = ""
    public var appProtocol: String?
    public init() {}
    public init(name: String = "", port: Int32, protocol: String = "") {
        self.name = name
        self.port = port
        self.protocol = `protocol`
    }
    public static let wireInfo = WireStructInfo<EndpointPort>(
        "io.k8s.api.core.v1.EndpointPort", "One port of the addresses of a subset.",
        [
            .omitEmpty("name", 1, \.name, "The service port's name; required when there are several."),
            .always("port", 2, \.port, "The port number.", required: true),
            .omitEmpty("protocol", 3, \.protocol, "TCP (default), UDP or SCTP."),
            .optional("appProtocol", 4, \.appProtocol, "The application protocol."),
        ])

    func validate(at path: FieldPath, nameRequired: Bool) -> [FieldError] {
        var errors: [FieldError] = []
        if name.isEmpty {
            if nameRequired { errors.append(.required(path.child("name"))) }
        } else if let error = Names.dnsLabelError(name) {
            errors.append(.invalid(path.child("name"), name, error))
        }
        if let error = NetworkRules.portNumberError(Int64(port)) { errors.append(.invalid(path.child("port"), Int64(port), error)) }
        if `protocol`.isEmpty {
            errors.append(.required(path.child("protocol")))
        } else if !Service.protocols.contains(`protocol`) {
            errors.append(.notSupported(path.child("protocol"), `protocol`, Service.protocols))
        }
        if let appProtocol, let error = Names.qualifiedNameError(appProtocol) {
            errors.append(.invalid(path.child("appProtocol"), appProtocol, error))
        }
        return errors
    }
}

extension Kind {
    /// Endpoints: namespaced, named after their Service.
    public static let endpoints = Kind(
        Endpoints.self, name: "Endpoints", plural: "endpoints", namespaced: true, shortNames: ["ep"],
        sinceClusterVersion: 2, versions: [.storage(Endpoints.self, group: "", version: "v1", kind: "Endpoints")])
}
