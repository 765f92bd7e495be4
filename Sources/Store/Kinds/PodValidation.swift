/// Kubernetes' pod spec validation (ValidatePodSpec and what it calls), reporting every
/// problem with Kubernetes' field paths and messages. The parts: this file (the spec's own
/// fields), `+Container` (containers, ports, env, resources), `+Probe` (probes, lifecycle,
/// security contexts), `+Volumes`, `+Scheduling` (affinity, tolerations, spreading, DNS) and
/// `+Update` (what a pod update may change).
extension PodSpec {
    /// Field errors of this spec under `path` (`spec` for a pod, `spec.template.spec` for a
    /// workload's template).
    public func validate(at path: FieldPath) -> [FieldError] { validate(at: path, isPod: false) }

    /// `isPod`: the rules only pods get beyond templates' (image whitespace).
    func validate(at path: FieldPath, isPod: Bool) -> [FieldError] {
        var errors: [FieldError] = []
        let volumesByName = PodValidation.volumes(volumes, at: path.child("volumes"), errors: &errors)
        let context = PodValidation.ContainerContext(
            volumes: volumesByName, hostNetwork: hostNetwork, isPod: isPod,
            gracePeriodSeconds: terminationGracePeriodSeconds)
        if containers.isEmpty { errors.append(.required(path.child("containers"))) }
        var names: Set<String> = []
        var hostPorts: Set<String> = []
        for (i, container) in containers.enumerated() {
            let here = path.child("containers").index(i)
            errors += PodValidation.container(container, at: here, role: .main, context: context)
            if !container.name.isEmpty && !names.insert(container.name).inserted {
                errors.append(.duplicate(here.child("name"), container.name))
            }
            errors += PodValidation.uniqueHostPorts(container, at: here, seen: &hostPorts)
        }
        for (i, container) in initContainers.enumerated() {
            let here = path.child("initContainers").index(i)
            errors += PodValidation.container(container, at: here, role: .initial, context: context)
            if !container.name.isEmpty && !names.insert(container.name).inserted {
                errors.append(.duplicate(here.child("name"), container.name))
            }
            errors += PodValidation.uniqueHostPorts(container, at: here, seen: &hostPorts)
        }
        errors += PodValidation.oneOf(restartPolicy, ["Always", "OnFailure", "Never"], at: path.child("restartPolicy"))
        errors += PodValidation.oneOf(dnsPolicy, ["ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"],
                                      at: path.child("dnsPolicy"))
        errors += PodValidation.dnsConfig(dnsConfig, policy: dnsPolicy, at: path.child("dnsConfig"))
        errors += PodValidation.labels(nodeSelector, at: path.child("nodeSelector"))
        errors += PodValidation.subdomain(serviceAccountName, at: path.child("serviceAccountName"))
        errors += PodValidation.subdomain(nodeName, at: path.child("nodeName"))
        errors += PodValidation.subdomain(priorityClassName, at: path.child("priorityClassName"))
        if let securityContext {
            errors += PodValidation.podSecurityContext(securityContext, at: path.child("securityContext"))
        }
        for (field, value) in [("hostname", hostname), ("subdomain", subdomain)] where !value.isEmpty {
            if let error = Names.dnsLabelError(value) { errors.append(.invalid(path.child(field), value, error)) }
        }
        if let affinity { errors += PodValidation.affinity(affinity, at: path.child("affinity")) }
        errors += PodValidation.tolerations(tolerations, at: path.child("tolerations"))
        errors += PodValidation.hostAliases(hostAliases, at: path.child("hostAliases"))
        errors += PodValidation.topologySpread(topologySpreadConstraints, at: path.child("topologySpreadConstraints"))
        if let seconds = activeDeadlineSeconds, seconds < 1 || seconds > Int64(Int32.max) {
            errors.append(.invalid(path.child("activeDeadlineSeconds"), seconds, "must be between 1 and 2147483647, inclusive"))
        }
        if let seconds = terminationGracePeriodSeconds, seconds < 0 {
            errors.append(.invalid(path.child("terminationGracePeriodSeconds"), seconds, "must be greater than or equal to 0"))
        }
        for (i, gate) in readinessGates.enumerated() {
            if let error = Names.qualifiedNameError(gate.conditionType) {
                errors.append(.invalid(path.child("readinessGates").index(i).child("conditionType"), gate.conditionType, error))
            }
        }
        var gates: Set<String> = []
        for (i, gate) in schedulingGates.enumerated() {
            let here = path.child("schedulingGates").index(i).child("name")
            if let error = Names.qualifiedNameError(gate.name) { errors.append(.invalid(here, gate.name, error)) }
            if !gates.insert(gate.name).inserted { errors.append(.duplicate(here, gate.name)) }
        }
        errors += PodValidation.quantities(overhead, at: path.child("overhead"))
        if let preemptionPolicy {
            errors += PodValidation.oneOf(preemptionPolicy, ["Never", "PreemptLowerPriority"], at: path.child("preemptionPolicy"))
        }
        if let os { errors += PodValidation.oneOf(os.name, ["linux", "windows"], at: path.child("os", "name")) }
        return errors
    }
}

/// The checks pod validation is made of (shared with Node where they fit).
enum PodValidation {
    /// Label keys (qualified names) and values, reported at `path` as Kubernetes does
    /// (`metadata.labels: Invalid value: "key": ...`), keys in byte order.
    static func labels(_ labels: [String: String], at path: FieldPath) -> [FieldError] {
        var errors: [FieldError] = []
        for key in labels.keys.sorted(by: utf8Precedes) {
            if let error = Names.qualifiedNameError(key) { errors.append(.invalid(path, key, error)) }
            if let error = Names.labelValueError(labels[key]!) { errors.append(.invalid(path, labels[key]!, error)) }
        }
        return errors
    }

    /// Most bytes of annotation keys and values on one object (Kubernetes' 256 KiB).
    static let annotationsSizeMaxBytes = 256 * 1024

    /// Annotation keys (qualified names, any case) and their total size.
    static func annotations(_ annotations: [String: String], at path: FieldPath) -> [FieldError] {
        var errors: [FieldError] = []
        var bytes = 0
        for key in annotations.keys.sorted(by: utf8Precedes) {
            if let error = Names.qualifiedNameError(key.lowercased()) { errors.append(.invalid(path, key, error)) }
            bytes += key.utf8.count + annotations[key]!.utf8.count
        }
        if bytes > annotationsSizeMaxBytes { errors.append(.tooLong(path, maxBytes: annotationsSizeMaxBytes)) }
        return errors
    }

    /// `Required value` when empty, `Unsupported value` when not one of `supported`.
    static func oneOf(_ value: String, _ supported: [String], at path: FieldPath) -> [FieldError] {
        if value.isEmpty { return [.required(path)] }
        return supported.contains(value) ? [] : [.notSupported(path, value, supported)]
    }

    /// A DNS subdomain when not empty.
    static func subdomain(_ value: String, at path: FieldPath) -> [FieldError] {
        guard !value.isEmpty, let error = Names.dnsSubdomainError(value) else { return [] }
        return [.invalid(path, value, error)]
    }

    /// Resource amounts that must not be negative, keyed by resource name.
    static func quantities(_ amounts: [String: Quantity], at path: FieldPath) -> [FieldError] {
        var errors: [FieldError] = []
        for name in amounts.keys.sorted(by: utf8Precedes) where amounts[name]!.isNegative {
            errors.append(.invalid(path.key(name), amounts[name]!.description, "must be greater than or equal to 0"))
        }
        return errors
    }

    /// A port number 1-65535.
    static func portNumber(_ port: Int32, at path: FieldPath) -> [FieldError] {
        (1...65_535).contains(port) ? [] : [.invalid(path, Int64(port), "must be between 1 and 65535, inclusive")]
    }

    /// A port given as a number (1-65535) or as a port name.
    static func portNumberOrName(_ port: IntOrString, at path: FieldPath) -> [FieldError] {
        switch port {
        case .int(let number): return portNumber(number, at: path)
        case .string(let name): return ValidationSyntax.portNameErrors(name).map { .invalid(path, name, $0) }
        }
    }

    /// An IP address when not empty.
    static func ipAddress(_ value: String, at path: FieldPath) -> [FieldError] {
        guard !value.isEmpty, ValidationSyntax.ipFamily(value) == nil else { return [] }
        return [.invalid(path, value, ValidationSyntax.ipAddressMessage)]
    }
}
