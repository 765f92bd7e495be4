import JSON

/// A slice of the endpoints behind a Service (discovery.k8s.io/v1 EndpointSlice): up to 1000
/// endpoints of one address type, with the ports they share. A Service's slices carry the
/// label `kubernetes.io/service-name: <service>`; that label, not the slice's name, is how
/// the service proxy and DNS find them (a service may have several slices, named freely).
public struct EndpointSlice: KindObject, Hashable {
    public var kind = ""
    public var apiVersion = ""
    public var metadata = ObjectMeta()
    public var addressType = ""
    public var endpoints: [Endpoint] = []
    public var ports: [EndpointSlicePort] = []

    public init() {}

    /// The label naming the Service a slice belongs to.
    public static let serviceNameLabel = "kubernetes.io/service-name"
    /// The label naming who manages a slice (`endpointslice-controller.k8s.io` for the
    /// controller's own).
    public static let managedByLabel = "endpointslice.kubernetes.io/managed-by"
    /// Most endpoints in one slice.
    public static let endpointsMax = 1000
    /// Most addresses of one endpoint.
    public static let addressesMax = 100
    /// Most ports of one slice.
    public static let portsMax = 100
    /// Most zone hints of one endpoint.
    public static let zoneHintsMax = 8
    static let addressTypes = ["FQDN", "IPv4", "IPv6"]

    public static let wireInfo = WireStructInfo<EndpointSlice>(
        "io.k8s.api.discovery.v1.EndpointSlice", "Some of the endpoints behind a service, all of one address type.",
        [
            .omitEmpty("kind", nil, \.kind, "The kind: EndpointSlice."),
            .omitEmpty("apiVersion", nil, \.apiVersion, "The API version: discovery.k8s.io/v1."),
            .always("metadata", 1, \.metadata, "Standard object metadata; the service-name label links the slice to its service."),
            .always("addressType", 4, \.addressType, "IPv4, IPv6 or FQDN: the kind of every address. Fixed once set.",
                    required: true),
            .always("endpoints", 2, \.endpoints, "The endpoints, at most 1000.", required: true, semantics: .atomic),
            .always("ports", 3, \.ports, "The ports every endpoint serves; empty means all ports.", semantics: .atomic),
        ])

    public mutating func applyDefaults() {
        for i in ports.indices {
            if ports[i].name == nil { ports[i].name = "" }
            if ports[i].protocol == nil { ports[i].protocol = "TCP" }
        }
    }

    /// `deprecatedTopology` is a v1beta1 leftover that v1 writes may not set (Kubernetes
    /// ignores it silently).
    public mutating func prepareForCreate() { dropDeprecatedTopology() }
    public mutating func prepareForUpdate(from old: EndpointSlice) { dropDeprecatedTopology() }

    private mutating func dropDeprecatedTopology() {
        for i in endpoints.indices { endpoints[i].deprecatedTopology = [:] }
    }

    public func validate() -> [FieldError] {
        var errors: [FieldError] = []
        if addressType.isEmpty {
            errors.append(.required("addressType"))
        } else if !Self.addressTypes.contains(addressType) {
            errors.append(.notSupported("addressType", addressType, Self.addressTypes))
        }
        if endpoints.count > Self.endpointsMax {
            errors.append(Self.tooMany("endpoints", endpoints.count, Self.endpointsMax))
        } else {
            for (i, endpoint) in endpoints.enumerated() {
                errors += endpoint.validate(at: FieldPath("endpoints").index(i), addressType: addressType)
            }
        }
        if ports.count > Self.portsMax {
            errors.append(Self.tooMany("ports", ports.count, Self.portsMax))
        } else {
            var names: Set<String> = []
            for (i, port) in ports.enumerated() { errors += port.validate(at: FieldPath("ports").index(i), names: &names) }
        }
        return errors
    }

    public func validateUpdate(from old: EndpointSlice) -> [FieldError] {
        addressType == old.addressType ? [] : [.invalid("addressType", addressType, "field is immutable")]
    }

    /// `Too many: 1001: must have at most 1000 items`.
    static func tooMany(_ path: FieldPath, _ count: Int, _ max: Int) -> FieldError {
        FieldError(.tooMany, path, value: String(count), "must have at most \(max) items")
    }
}

/// One endpoint of a slice: usually a pod, with its addresses and readiness.
public struct Endpoint: WireStruct, Hashable {
    public var addresses: [String] = []
    public var conditions = EndpointConditions()
    public var hostname: String?
    public var targetRef: ObjectReference?
    public var deprecatedTopology: [String: String] = [:]
    public var nodeName: String?
    public var zone: String?
    public var hints: EndpointHints?

    public init() {}

    public static let wireInfo = WireStructInfo<Endpoint>(
        "io.k8s.api.discovery.v1.Endpoint", "One endpoint: its addresses, readiness and where it runs.",
        [
            .always("addresses", 1, \.addresses, "1 to 100 addresses of the slice's type; consumers may use only the first.",
                    required: true, semantics: ListSemantics(listType: "set")),
            .always("conditions", 2, \.conditions, "Whether the endpoint is ready, serving or terminating."),
            .optional("hostname", 3, \.hostname, "The endpoint's DNS hostname (a DNS label)."),
            .optional("targetRef", 4, \.targetRef, "The object behind the endpoint (a pod)."),
            .omitEmpty("deprecatedTopology", 5, \.deprecatedTopology, "A v1beta1 leftover; ignored on write."),
            .optional("nodeName", 6, \.nodeName, "The node the endpoint runs on."),
            .optional("zone", 7, \.zone, "The zone the endpoint runs in."),
            .optional("hints", 8, \.hints, "Hints on where the endpoint should be used from."),
        ])

    func validate(at path: FieldPath, addressType: String) -> [FieldError] {
        var errors: [FieldError] = []
        let addressesPath = path.child("addresses")
        if addresses.isEmpty {
            errors.append(.required(addressesPath, "must contain at least 1 address"))
        } else if addresses.count > EndpointSlice.addressesMax {
            errors.append(EndpointSlice.tooMany(addressesPath, addresses.count, EndpointSlice.addressesMax))
        }
        for (i, address) in addresses.enumerated() {
            let here = addressesPath.index(i)
            switch addressType {
            case "IPv4":
                if !NetworkRules.isIPv4(address) { errors.append(.invalid(here, address, "must be a valid IPv4 address")) }
                errors += NetworkRules.specialIPErrors(address).map { FieldError.invalid(here, address, $0) }
            case "IPv6":
                if !NetworkRules.isIPv6(address) { errors.append(.invalid(here, address, "must be a valid IPv6 address")) }
                errors += NetworkRules.specialIPErrors(address).map { FieldError.invalid(here, address, $0) }
            case "FQDN":
                errors += NetworkRules.fqdnErrors(address, at: here)
            default:
                break
            }
        }
        if let hostname, let error = Names.dnsLabelError(hostname) {
            errors.append(.invalid(path.child("hostname"), hostname, error))
        }
        if let nodeName, let error = Names.dnsSubdomainError(nodeName) {
            errors.append(.invalid(path.child("nodeName"), nodeName, error))
        }
        if let hints {
            let zonesPath = path.child("hints", "forZones")
            if hints.forZones.count > EndpointSlice.zoneHintsMax {
                errors.append(EndpointSlice.tooMany(zonesPath, hints.forZones.count, EndpointSlice.zoneHintsMax))
            } else {
                var seen: Set<String> = []
                for (i, zone) in hints.forZones.enumerated() {
                    let here = zonesPath.index(i).child("name")
                    if let error = Names.labelValueError(zone.name) { errors.append(.invalid(here, zone.name, error)) }
                    if !seen.insert(zone.name).inserted { errors.append(.duplicate(here, zone.name)) }
                }
            }
        }
        return errors
    }
}

public struct EndpointConditions: WireStruct, Hashable {
    public var ready: Bool?
    public var serving: Bool?
    public var terminating: Bool?
    public init() {}
    public init(ready: Bool?, serving: Bool? = nil, terminating: Bool? = nil) {
        self.ready = ready
        self.serving = serving
        self.terminating = terminating
    }
    public static let wireInfo = WireStructInfo<EndpointConditions>(
        "io.k8s.api.discovery.v1.EndpointConditions", "The state of an endpoint.",
        [
            .optional("ready", 1, \.ready, "Ready for traffic; absent means unknown (treat as ready)."),
            .optional("serving", 2, \.serving, "Serving, even while terminating (ready ignores termination)."),
            .optional("terminating", 3, \.terminating, "Going away."),
        ])
}

public struct EndpointHints: WireStruct, Hashable {
    public var forZones: [ForZone] = []
    public init() {}
    public static let wireInfo = WireStructInfo<EndpointHints>(
        "io.k8s.api.discovery.v1.EndpointHints", "Where an endpoint should be used from.",
        [.omitEmpty("forZones", 1, \.forZones, "Zones whose clients should use this endpoint.", semantics: .atomic)])
}

public struct ForZone: WireStruct, Hashable {
    public var name = ""
    public init() {}
    public static let wireInfo = WireStructInfo<ForZone>(
        "io.k8s.api.discovery.v1.ForZone", "A zone, in a hint.",
        [.always("name", 1, \.name, "The zone's name.", required: true)])
}

/// A port of an EndpointSlice (discovery/v1 EndpointPort: every field a pointer).
public struct EndpointSlicePort: WireStruct, Hashable {
    public var name: String?
    public var `protocol`: String?
    public var port: Int32?
    public var appProtocol: String?
    public init() {}
    public init(name: String? = nil, port: Int32?, protocol: String? = nil) {
        self.name = name
        self.port = port
        self.protocol = `protocol`
    }
    public static let wireInfo = WireStructInfo<EndpointSlicePort>(
        "io.k8s.api.discovery.v1.EndpointPort", "A port the endpoints of a slice serve.",
        [
            .optional("name", 1, \.name, "The service port's name (\"\" for an unnamed one)."),
            .optional("protocol", 2, \.protocol, "TCP (default), UDP or SCTP."),
            .optional("port", 3, \.port, "The port number; absent means all ports."),
            .optional("appProtocol", 4, \.appProtocol, "The application protocol."),
        ])

    func validate(at path: FieldPath, names: inout Set<String>) -> [FieldError] {
        var errors: [FieldError] = []
        let name = self.name ?? ""
        if !name.isEmpty, let error = Names.dnsLabelError(name) { errors.append(.invalid(path.child("name"), name, error)) }
        if !names.insert(name).inserted { errors.append(.duplicate(path.child("name"), name)) }
        if let proto = `protocol` {
            if !Service.protocols.contains(proto) { errors.append(.notSupported(path.child("protocol"), proto, Service.protocols)) }
        } else {
            errors.append(.required(path.child("protocol")))
        }
        if let port, let error = NetworkRules.portNumberError(Int64(port)) {
            errors.append(.invalid(path.child("port"), Int64(port), error))
        }
        if let appProtocol, let error = Names.qualifiedNameError(appProtocol) {
            errors.append(.invalid(path.child("appProtocol"), appProtocol, error))
        }
        return errors
    }
}

extension Kind {
    /// EndpointSlice: namespaced, DNS-subdomain names; a change to endpoints, ports or type
    /// moves the generation.
    public static let endpointSlice = Kind(
        EndpointSlice.self, name: "EndpointSlice", plural: "endpointslices", namespaced: true, sinceClusterVersion: 2,
        versions: [.storage(EndpointSlice.self, group: "discovery.k8s.io", version: "v1", kind: "EndpointSlice")])
}
