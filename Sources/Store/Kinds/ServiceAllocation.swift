import JSON

/// Cluster IPs and node ports for Services, chosen while the write is applied, identically on
/// every member.
///
/// Kubernetes draws free values at random; the store may not, so the choice starts from a
/// point mixed from the entry's index and the service's namespace and name, and probes
/// forward to the next free value. Like Kubernetes (KEP-3070, KEP-3668), each range has a
/// low band that dynamic choices use only once the rest is full, so explicitly requested
/// values there (10.96.0.10 for DNS, a chosen node port) rarely collide with chosen ones.
///
/// What is in use comes from `StoreIndexes` (derived from stored Services), so a deleted
/// Service's values are free as soon as it is gone, and an update may keep its own. Values
/// the update leaves unchanged are not checked again (the range could have moved since).
public enum ServiceAllocation {
    /// The service network: every cluster IP is in it.
    public static let networkCIDR = "10.96.0.0/12"
    /// Its first address and prefix length.
    public static let networkBase: UInt32 = 0x0A60_0000
    public static let networkPrefixLength = 12
    /// The `kubernetes` Service's address (the API), allocated only when asked for.
    public static let kubernetesServiceIP = "10.96.0.1"
    /// The cluster DNS Service's address, allocated only when asked for.
    public static let dnsServiceIP = "10.96.0.10"
    /// The node port range, inclusive.
    public static let nodePortFirst: Int32 = 30_000
    public static let nodePortLast: Int32 = 32_767
    /// Size of the low band of each range that dynamic choices leave for last (Kubernetes'
    /// sizing: a sixteenth of the IP range, 16...256; a thirty-second of the ports, 16...128).
    public static let clusterIPLowBandAddresses: UInt64 = 256
    public static let nodePortLowBandPorts: UInt64 = 86

    /// The usable addresses: the network without its network and broadcast addresses.
    static var firstAddress: UInt32 { networkBase + 1 }
    static var lastAddress: UInt32 { networkBase + (UInt32(1) << UInt32(32 - networkPrefixLength)) - 2 }
    static let reservedAddresses: Set<UInt32> = [IPv4.parse(kubernetesServiceIP)!, IPv4.parse(dnsServiceIP)!]

    /// Whether `address` may be a cluster IP.
    public static func inNetwork(_ address: UInt32) -> Bool { address >= firstAddress && address <= lastAddress }

    /// The first free value probing from a point `seed` picks, trying `bands` (first value,
    /// count) in order; nil when every value of every band is taken.
    public static func probe(seed: UInt64, bands: [(first: UInt64, count: UInt64)], isFree: (UInt64) -> Bool) -> UInt64? {
        for band in bands where band.count > 0 {
            let offset = seed % band.count
            for step in 0..<band.count {
                let candidate = band.first + (offset + step) % band.count
                if isFree(candidate) { return candidate }
            }
        }
        return nil
    }

    /// A well-mixed 64-bit value from the entry's index, the service's key and a salt (which
    /// port): FNV-1a over the key, then SplitMix64's finalizer.
    public static func seed(index: UInt64, namespace: String, name: String, salt: UInt64 = 0) -> UInt64 {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in namespace.utf8 + [UInt8(ascii: "/")] + name.utf8 { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 }
        var z = hash ^ (index &* 0x9E37_79B9_7F4A_7C15) ^ (salt &* 0xD6E8_FEB8_6659_FD93)
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    static let notInNetworkMessage = "provided IP is not in the valid range. The range of valid IPs is \(networkCIDR)"
    static let notInPortRangeMessage = "provided port is not in the valid range. The range of valid ports is \(nodePortFirst)-\(nodePortLast)"
    static let allocatedIPMessage = "provided IP is already allocated"
    static let allocatedPortMessage = "provided port is already allocated"
}

extension Service {
    /// Allocates what the service needs and is missing (a cluster IP, node ports, a health
    /// check node port) and checks that what it asks for is in range and free.
    public mutating func admit(in store: Store, replacing old: Service?, index: UInt64) -> [FieldError] {
        let key = ObjectKey(kind: .service, namespace: metadata.namespace, name: metadata.name)
        var errors = allocateClusterIP(store, key: key, old: old, index: index)
        errors += allocateNodePorts(store, key: key, old: old, index: index)
        return errors
    }

    private mutating func allocateClusterIP(_ store: Store, key: ObjectKey, old: Service?, index: UInt64) -> [FieldError] {
        guard needsClusterIP, !isHeadless else { return [] }
        let inUse = store.indexes.clusterIPs
        let path = FieldPath("spec.clusterIPs").index(0)
        if spec.clusterIPs.isEmpty {
            let low = UInt64(ServiceAllocation.firstAddress)
            let lowCount = ServiceAllocation.clusterIPLowBandAddresses
            let high = low + lowCount
            let highCount = UInt64(ServiceAllocation.lastAddress) + 1 - high
            let seed = ServiceAllocation.seed(index: index, namespace: key.namespace, name: key.name)
            guard let chosen = ServiceAllocation.probe(seed: seed, bands: [(high, highCount), (low, lowCount)], isFree: { value in
                let address = UInt32(value)
                return inUse[address] == nil && !ServiceAllocation.reservedAddresses.contains(address)
            }) else {
                return [.invalid(path, "", "failed to allocate a service IP: range is full")]
            }
            let text = IPv4.format(UInt32(chosen))
            spec.clusterIP = text
            spec.clusterIPs = [text]
            return []
        }
        var errors: [FieldError] = []
        for (i, text) in spec.clusterIPs.enumerated() {
            if let old, i < old.spec.clusterIPs.count, old.spec.clusterIPs[i] == text { continue }
            guard let address = IPv4.parse(text) else { continue }
            let here = FieldPath("spec.clusterIPs").index(i)
            if !ServiceAllocation.inNetwork(address) {
                errors.append(.invalid(here, text, ServiceAllocation.notInNetworkMessage))
            } else if let owner = inUse[address], owner != key {
                errors.append(.invalid(here, text, ServiceAllocation.allocatedIPMessage))
            }
        }
        return errors
    }

    private mutating func allocateNodePorts(_ store: Store, key: ObjectKey, old: Service?, index: UInt64) -> [FieldError] {
        let wantsPorts = needsNodePorts && !spec.ports.isEmpty
        let explicit = spec.ports.contains { $0.nodePort != 0 } || spec.healthCheckNodePort != 0
        guard wantsPorts || needsHealthCheckNodePort || explicit else { return [] }
        let inUse = store.indexes.nodePorts
        let healthChecks = Self.healthCheckNodePorts(in: store, except: key)
        var owned = Set(old?.spec.ports.map(\.nodePort) ?? [])
        if let old, old.spec.healthCheckNodePort != 0 { owned.insert(old.spec.healthCheckNodePort) }
        owned.remove(0)
        var taken: Set<Int32> = []
        var errors: [FieldError] = []

        func check(_ port: Int32, at path: FieldPath) {
            if owned.contains(port) { return }
            if port < ServiceAllocation.nodePortFirst || port > ServiceAllocation.nodePortLast {
                errors.append(.invalid(path, Int64(port), ServiceAllocation.notInPortRangeMessage))
            } else if (inUse[port].map { $0 != key } ?? false) || healthChecks.contains(port) {
                errors.append(.invalid(path, Int64(port), ServiceAllocation.allocatedPortMessage))
            }
        }
        func choose(salt: UInt64) -> Int32? {
            let low = UInt64(ServiceAllocation.nodePortFirst)
            let lowCount = ServiceAllocation.nodePortLowBandPorts
            let highCount = UInt64(ServiceAllocation.nodePortLast) + 1 - low - lowCount
            let seed = ServiceAllocation.seed(index: index, namespace: key.namespace, name: key.name, salt: salt)
            return ServiceAllocation.probe(seed: seed, bands: [(low + lowCount, highCount), (low, lowCount)]) { value in
                let port = Int32(value)
                return !taken.contains(port) && !healthChecks.contains(port) && (inUse[port].map { $0 == key } ?? true)
            }.map { Int32($0) }
        }

        for (i, port) in spec.ports.enumerated() where port.nodePort != 0 {
            check(port.nodePort, at: FieldPath("spec.ports").index(i).child("nodePort"))
            taken.insert(port.nodePort)
        }
        if wantsPorts {
            for i in spec.ports.indices where spec.ports[i].nodePort == 0 {
                guard let chosen = choose(salt: UInt64(i) + 1) else {
                    errors.append(.invalid(FieldPath("spec.ports").index(i).child("nodePort"), 0,
                                           "failed to allocate a node port: range is full"))
                    break
                }
                spec.ports[i].nodePort = chosen
                taken.insert(chosen)
            }
        }
        let healthPath = FieldPath("spec.healthCheckNodePort")
        if spec.healthCheckNodePort != 0 {
            if taken.contains(spec.healthCheckNodePort) {
                errors.append(.invalid(healthPath, Int64(spec.healthCheckNodePort), ServiceAllocation.allocatedPortMessage))
            } else {
                check(spec.healthCheckNodePort, at: healthPath)
            }
        } else if needsHealthCheckNodePort {
            if let chosen = choose(salt: 0) {
                spec.healthCheckNodePort = chosen
            } else {
                errors.append(.invalid(healthPath, 0, "failed to allocate a node port: range is full"))
            }
        }
        return errors
    }

    /// Health check node ports of the other Services. `StoreIndexes` does not track them, so
    /// they are read from the stored Services (only for services that use node ports).
    static func healthCheckNodePorts(in store: Store, except key: ObjectKey) -> Set<Int32> {
        var ports: Set<Int32> = []
        for object in store.list(.service).items where object.key != key {
            if let port = object.json["spec"]?["healthCheckNodePort"]?.intValue, let narrow = Int32(exactly: port), narrow != 0 {
                ports.insert(narrow)
            }
        }
        return ports
    }
}
