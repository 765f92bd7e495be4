import Store

/// The cluster's names, as Kubernetes' DNS specification gives them, built from the Services
/// and EndpointSlices in the store (and updated service by service when they change):
///
/// - `<service>.<ns>.svc.<domain>` A: the ClusterIP; for a headless service, every ready
///   endpoint's address;
/// - `<hostname>.<service>.<ns>.svc.<domain>` A for a headless service's endpoints (their
///   hostname, else their address with dashes);
/// - `_<port>._<proto>.<service>.<ns>.svc.<domain>` SRV for each named port;
/// - `<a-b-c-d>.<ns>.pod.<domain>` A: the address in the name;
/// - PTR for ClusterIPs (`d.c.b.a.in-addr.arpa`).
///
/// `answer` is pure: the server asks it, and forwards what it does not own.
public struct DNSZone: Sendable {
    /// The cluster domain ("cluster.local").
    public let domain: String
    /// Seconds clients may keep an answer (CoreDNS's kubernetes plugin default).
    public static let ttlSeconds: UInt32 = 5

    private var addresses: [String: [UInt32]] = [:]
    private var services: [String: [(port: UInt16, target: String)]] = [:]
    /// Every name with a record, and every name above one (empty non-terminals: NODATA, not
    /// NXDOMAIN), with how many record names are at or below it.
    private var names: [String: Int] = [:]
    private var reverse: [String: String] = [:]
    /// What each service ("namespace/name") put in, so that a change to one service takes out
    /// its records and puts in the new ones without touching the others.
    private var contributions: [String: Records] = [:]

    /// One service's records.
    struct Records: Sendable {
        var addresses: [String: [UInt32]] = [:]
        var services: [String: [(port: UInt16, target: String)]] = [:]
        var reverse: [String: String] = [:]
    }

    public init(domain: String = "cluster.local") {
        self.domain = domain
    }

    public static func build(services: [Service], slices: [EndpointSlice], domain: String = "cluster.local") -> DNSZone {
        var zone = DNSZone(domain: domain)
        var slicesByService: [String: [EndpointSlice]] = [:]
        for slice in slices {
            guard let name = slice.metadata.labels[EndpointSlice.serviceNameLabel] else { continue }
            slicesByService[slice.metadata.namespace + "/" + name, default: []].append(slice)
        }
        for service in services {
            let key = service.metadata.namespace + "/" + service.metadata.name
            zone.update(key, service: service, slices: slicesByService[key] ?? [])
        }
        return zone
    }

    /// Replaces the records of the service `key` ("namespace/name") with those of `service`
    /// and its `slices` (nil: the service is gone). Costs the size of the one service.
    public mutating func update(_ key: String, service: Service?, slices: [EndpointSlice]) {
        if let old = contributions.removeValue(forKey: key) {
            for name in old.addresses.keys { addresses[name] = nil; removeName(name) }
            for name in old.services.keys { services[name] = nil; removeName(name) }
            for (name, target) in old.reverse where reverse[name] == target { reverse[name] = nil }
        }
        guard let service, let records = records(service, slices: slices) else { return }
        for (name, ips) in records.addresses { addresses[name] = ips; addName(name) }
        for (name, entries) in records.services { services[name] = entries; addName(name) }
        for (name, target) in records.reverse { reverse[name] = target }
        contributions[key] = records
    }

    private func records(_ service: Service, slices: [EndpointSlice]) -> Records? {
        guard service.metadata.deletionTimestamp == nil && service.spec.type != "ExternalName" else { return nil }
        var records = Records()
        let serviceName = "\(service.metadata.name).\(service.metadata.namespace).svc.\(domain)"
        records.addresses[serviceName] = []
        if service.isHeadless {
            var endpointAddresses: Set<UInt32> = []
            for slice in slices {
                for endpoint in slice.endpoints where endpoint.conditions.ready != false {
                    for address in endpoint.addresses {
                        guard let ip = IPv4.parse(address) else { continue }
                        endpointAddresses.insert(ip)
                        let host = (endpoint.hostname ?? "").isEmpty ? address.replacing(".", with: "-") : endpoint.hostname!
                        records.addresses["\(host).\(serviceName)", default: []].append(ip)
                        for port in slice.ports {
                            guard let portName = port.name, !portName.isEmpty, let number = port.port else { continue }
                            let proto = (port.protocol ?? "TCP").lowercased()
                            records.services["_\(portName)._\(proto).\(serviceName)", default: []].append((UInt16(truncatingIfNeeded: number), "\(host).\(serviceName)"))
                        }
                    }
                }
            }
            records.addresses[serviceName] = endpointAddresses.sorted()
        } else if let ip = IPv4.parse(service.spec.clusterIP) {
            records.addresses[serviceName] = [ip]
            records.reverse[Self.reverseName(ip)] = serviceName
            for port in service.spec.ports where !port.name.isEmpty {
                let proto = (port.protocol.isEmpty ? "TCP" : port.protocol).lowercased()
                records.services["_\(port.name)._\(proto).\(serviceName)", default: []].append((UInt16(truncatingIfNeeded: port.port), serviceName))
            }
        }
        return records
    }

    /// Everything the zone holds, one line per record or name, sorted (tests compare zones).
    var contents: [String] {
        addresses.map { "A \($0.key) \($0.value)" } + services.map { "SRV \($0.key) \($0.value.map { "\($0.port) \($0.target)" })" }
            + reverse.map { "PTR \($0.key) \($0.value)" } + names.map { "NAME \($0.key) \($0.value)" }
    }

    /// Counts the name and the names above it, up to the domain.
    private mutating func addName(_ name: String) {
        forEachName(name) { names[$0, default: 0] += 1 }
    }

    private mutating func removeName(_ name: String) {
        forEachName(name) { above in
            let count = (names[above] ?? 0) - 1
            names[above] = count > 0 ? count : nil
        }
    }

    private func forEachName(_ name: String, _ body: (String) -> Void) {
        var current = Substring(name)
        while current.count > domain.count {
            body(String(current))
            guard let dot = current.firstIndex(of: ".") else { break }
            current = current[current.index(after: dot)...]
        }
    }

    static func reverseName(_ ip: UInt32) -> String {
        "\(ip & 0xFF).\((ip >> 8) & 0xFF).\((ip >> 16) & 0xFF).\(ip >> 24).in-addr.arpa"
    }

    /// Whether the cluster answers for `name` (else it is forwarded).
    public func owns(_ name: String) -> Bool {
        name == domain || name.hasSuffix("." + domain) || reverse[name] != nil
    }

    /// The answer for a query the zone owns; nil for one it does not (to be forwarded).
    public func answer(_ query: DNSQuery) -> DNSAnswer? {
        let name = query.name
        guard owns(name) else { return nil }
        guard query.questionClass == 1 || query.questionClass == 255 else { return DNSAnswer(code: .refused) }
        let ttl = Self.ttlSeconds
        if let target = reverse[name] {
            return DNSAnswer(code: .noError, answers: query.type == DNSType.ptr.rawValue || query.type == DNSType.any.rawValue
                             ? [.ptr(name: name, target: target, ttl: ttl)] : [])
        }
        var known = name == domain || names[name] != nil
        var found = addresses[name] ?? []
        if found.isEmpty, let podAddress = podRecordAddress(name) {
            found = [podAddress]
            known = true
        }
        guard known else { return DNSAnswer(code: .nameError) }
        switch query.type {
        case DNSType.a.rawValue, DNSType.any.rawValue:
            var answer = DNSAnswer(code: .noError, answers: found.map { .a(name: name, address: $0, ttl: ttl) })
            if query.type == DNSType.any.rawValue { answer.answers += srvRecords(name) }
            return answer
        case DNSType.srv.rawValue:
            let records = srvRecords(name)
            let targets = Set(records.compactMap { if case .srv(_, _, _, _, let target, _) = $0 { return target } else { return nil } })
            let extra = targets.sorted().flatMap { target in (addresses[target] ?? []).map { DNSRecord.a(name: target, address: $0, ttl: ttl) } }
            return DNSAnswer(code: .noError, answers: records, additional: extra)
        default:
            return DNSAnswer(code: .noError)  // the name exists; no record of this type (NODATA)
        }
    }

    private func srvRecords(_ name: String) -> [DNSRecord] {
        let entries = services[name] ?? []
        let weight = UInt16(100 / max(1, entries.count))
        return entries.map { .srv(name: name, priority: 0, weight: weight, port: $0.port, target: $0.target, ttl: Self.ttlSeconds) }
    }

    /// `a-b-c-d.<ns>.pod.<domain>` → a.b.c.d.
    private func podRecordAddress(_ name: String) -> UInt32? {
        let labels = name.split(separator: ".")
        let domainLabels = domain.split(separator: ".").count
        guard labels.count == 3 + domainLabels, labels[2] == "pod" else { return nil }
        return IPv4.parse(String(labels[0]).replacing("-", with: "."))
    }
}
