import JSON
import Store

extension TablePrinter {
    /// Services: Name, Type, Cluster-IP, External-IP, Port(s) ("80:30080/TCP"), Age; with
    /// `-o wide` the Selector.
    static let service = TablePrinter.typed(
        Service.self,
        columns: [
            .name,
            TableColumn("Type", "ClusterIP, NodePort, LoadBalancer or ExternalName."),
            TableColumn("Cluster-IP", "The service's virtual address (None: headless)."),
            TableColumn("External-IP", "Addresses outside the cluster: external IPs, load balancer ingress, or the external name."),
            TableColumn("Port(s)", "Ports as port[:nodePort]/protocol."),
            .age,
            TableColumn("Selector", priority: 1, "The labels of the pods behind the service."),
        ],
        cells: { service, object, now in
            [
                .string(object.key.name),
                .string(service.spec.type),
                .string(TableCells.or(service.spec.clusterIPs.first ?? service.spec.clusterIP, TableCells.none)),
                .string(TableCells.externalIP(service)),
                .string(TableCells.or(service.spec.ports.map(TableCells.port).joined(separator: ","), TableCells.none)),
                TableCells.age(of: object, now: now),
                .string(TableCells.labels(service.spec.selector)),
            ]
        })

    /// Endpoints: Name, Endpoints ("10.0.0.1:80,10.0.0.2:80 + 3 more..."), Age.
    static let endpoints = TablePrinter.typed(
        Endpoints.self,
        columns: [.name, TableColumn("Endpoints", "Ready addresses with their ports (the first three)."), .age],
        cells: { endpoints, object, now in
            [.string(object.key.name), .string(TableCells.endpoints(endpoints)), TableCells.age(of: object, now: now)]
        })

    /// EndpointSlices: Name, AddressType, Ports, Endpoints (the first three of each), Age.
    static let endpointSlice = TablePrinter.typed(
        EndpointSlice.self,
        columns: [
            .name,
            TableColumn("AddressType", "IPv4, IPv6 or FQDN."),
            TableColumn("Ports", "The slice's port numbers (the first three)."),
            TableColumn("Endpoints", "The slice's addresses (the first three)."),
            .age,
        ],
        cells: { slice, object, now in
            let ports = slice.ports.prefix(TableCells.listedMax).map { port in
                port.port.map(String.init) ?? port.name ?? "*"
            }
            let addresses = slice.endpoints.lazy.flatMap(\.addresses)
            return [
                .string(object.key.name),
                .string(slice.addressType),
                .string(TableCells.limited(Array(ports), total: slice.ports.count, empty: TableCells.unset)),
                .string(TableCells.limited(Array(addresses.prefix(TableCells.listedMax)), total: addresses.count, empty: TableCells.unset)),
                TableCells.age(of: object, now: now),
            ]
        })
}

extension TableCells {
    /// How many addresses or ports a list cell shows before " + N more...".
    static let listedMax = 3

    /// `port/PROTOCOL`, or `port:nodePort/PROTOCOL` with a node port.
    static func port(_ port: ServicePort) -> String {
        port.nodePort > 0 ? "\(port.port):\(port.nodePort)/\(port.protocol)" : "\(port.port)/\(port.protocol)"
    }

    /// A service's External-IP cell: its external IPs ("<none>") for ClusterIP and NodePort;
    /// the load balancer's ingress addresses (sorted, once each) and the external IPs, or
    /// "<pending>", for LoadBalancer; the external name for ExternalName.
    static func externalIP(_ service: Service) -> String {
        switch service.spec.type {
        case Service.typeClusterIP, Service.typeNodePort:
            return or(service.spec.externalIPs.joined(separator: ","), none)
        case Service.typeLoadBalancer:
            let ingress = Set(service.status.loadBalancer.ingress.compactMap { entry -> String? in
                if !entry.ip.isEmpty { return entry.ip }
                return entry.hostname.isEmpty ? nil : entry.hostname
            }).sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
            let all = ingress + service.spec.externalIPs
            return all.isEmpty ? "<pending>" : all.joined(separator: ",")
        case Service.typeExternalName:
            return service.spec.externalName
        default:
            return unknown
        }
    }

    /// An Endpoints' cell: `address:port` for every ready address and port (addresses alone
    /// in subsets without ports), the first three, then " + N more..."; "<none>" without
    /// subsets.
    static func endpoints(_ endpoints: Endpoints) -> String {
        guard !endpoints.subsets.isEmpty else { return none }
        var shown: [String] = []
        var total = 0
        for subset in endpoints.subsets {
            if subset.ports.isEmpty {
                total += subset.addresses.count
                for address in subset.addresses where shown.count < listedMax { shown.append(address.ip) }
                continue
            }
            for port in subset.ports {
                total += subset.addresses.count
                for address in subset.addresses where shown.count < listedMax {
                    shown.append(hostPort(address.ip, port.port))
                }
            }
        }
        return limited(shown, total: total, empty: "")
    }

    /// `host:port`, with an IPv6 address in brackets.
    static func hostPort(_ host: String, _ port: Int32) -> String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }
}
