import Store

/// The cluster's names, as Kubernetes' DNS specification gives them, built from the Services
/// and EndpointSlices in the store (and rebuilt when they change):
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
    /// Every name with a record, and every name above one (empty non-terminals: NODATA, not NXDOMAIN).
    private var names: Set<String> = []
    private var reverse: [String: String] = [:]

    public init(domain: String = "cluster.local") {
        self.domain = domain
        names.insert(domain)
    }

    public static func build(services: [Service], slices: [EndpointSlice], domain: String = "cluster.local") -> DNSZone {
        var zone = DNSZone(domain: domain)
        var slicesByService: [String: [EndpointSlice]] = [:]
        for slice in slices {
            guard let name = slice.metadata.labels[EndpointSlice.serviceNameLabel] else { continue }
            slicesByService[slice.metadata.namespace + "/" + name, default: []].append(slice)
        }
        for service in services where service.metadata.deletionTimestamp == nil && service.spec.type != "ExternalName" {
            let serviceName = "\(service.metadata.name).\(service.metadata.namespace).svc.\(domain)"
            zone.addName(serviceName)
            let slices = slicesByService[service.metadata.namespace + "/" + service.metadata.name] ?? []
            if service.isHeadless {
                var endpointAddresses: Set<UInt32> = []
                for slice in slices {
                    for endpoint in slice.endpoints where endpoint.conditions.ready != false {
                        for address in endpoint.addresses {
                            guard let ip = IPv4.parse(address) else { continue }
                            endpointAddresses.insert(ip)
                            let host = (endpoint.hostname ?? "").isEmpty ? address.replacing(".", with: "-") : endpoint.hostname!
                            zone.add(ip, to: "\(host).\(serviceName)")
                            for port in slice.ports {
                                guard let portName = port.name, !portName.isEmpty, let number = port.port else { continue }
                                let proto = (port.protocol ?? "TCP").lowercased()
                                zone.services["_\(portName)._\(proto).\(serviceName)", default: []].append((UInt16(truncatingIfNeeded: number), "\(host).\(serviceName)"))
                            }
                        }
                    }
                }
                zone.addresses[serviceName] = endpointAddresses.sorted()
            } else if let ip = IPv4.parse(service.spec.clusterIP) {
                zone.add(ip, to: serviceName)
                zone.reverse[reverseName(ip)] = serviceName
                for port in service.spec.ports where !port.name.isEmpty {
                    let proto = (port.protocol.isEmpty ? "TCP" : port.protocol).lowercased()
                    zone.services["_\(port.name)._\(proto).\(serviceName)", default: []].append((UInt16(truncatingIfNeeded: port.port), serviceName))
                }
            }
        }
        for name in zone.services.keys { zone.addName(name) }
        return zone
    }

    private mutating func add(_ ip: UInt32, to name: String) {
        addresses[name, default: []].append(ip)
        addName(name)
    }

    /// The name and the names above it, up to the domain.
    private mutating func addName(_ name: String) {
        var current = Substring(name)
        while current.count > domain.count {
            names.insert(String(current))
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
        var known = names.contains(name)
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
