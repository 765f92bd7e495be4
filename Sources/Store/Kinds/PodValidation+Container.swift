/// Container rules: names, images, policies, ports, environment, mounts and resources.
extension PodValidation {
    /// Which list a container is in: some rules differ for init containers.
    enum ContainerRole {
        case main
        case initial
    }

    /// What container rules need from the rest of the spec.
    struct ContainerContext {
        /// The pod's volumes by name (valid names only).
        let volumes: [String: Volume]
        let hostNetwork: Bool
        let isPod: Bool
        let gracePeriodSeconds: Int64?
    }

    static let pullPolicies = ["Always", "IfNotPresent", "Never"]
    static let terminationMessagePolicies = ["File", "FallbackToLogsOnError"]
    static let protocols = ["SCTP", "TCP", "UDP"]

    static func container(_ c: Container, at path: FieldPath, role: ContainerRole, context: ContainerContext) -> [FieldError] {
        var errors: [FieldError] = []
        if c.name.isEmpty {
            errors.append(.required(path.child("name")))
        } else if let error = Names.dnsLabelError(c.name) {
            errors.append(.invalid(path.child("name"), c.name, error))
        }
        if c.image.isEmpty {
            errors.append(.required(path.child("image")))
        } else if context.isPod, let first = c.image.unicodeScalars.first, let last = c.image.unicodeScalars.last,
                  isSpace(first) || isSpace(last) {
            errors.append(.invalid(path.child("image"), c.image, "must not have leading or trailing whitespace"))
        }
        errors += oneOf(c.imagePullPolicy, pullPolicies, at: path.child("imagePullPolicy"))
        errors += oneOf(c.terminationMessagePolicy, terminationMessagePolicies, at: path.child("terminationMessagePolicy"))
        let sidecar = role == .initial && c.restartPolicy == "Always"
        if let policy = c.restartPolicy {
            if role == .main {
                errors.append(.forbidden(path.child("restartPolicy"), "may not be set for non-init containers"))
            } else if policy != "Always" {
                errors.append(.notSupported(path.child("restartPolicy"), policy, ["Always"]))
            }
        }
        errors += ports(c.ports, at: path.child("ports"), hostNetwork: context.hostNetwork)
        for (i, variable) in c.env.enumerated() { errors += env(variable, at: path.child("env").index(i)) }
        for (i, source) in c.envFrom.enumerated() { errors += envFrom(source, at: path.child("envFrom").index(i)) }
        errors += volumeMounts(c, at: path, volumes: context.volumes)
        errors += resources(c.resources, at: path.child("resources"))
        if role == .initial && !sidecar {
            for (name, set) in [("lifecycle", c.lifecycle != nil), ("livenessProbe", c.livenessProbe != nil),
                                ("readinessProbe", c.readinessProbe != nil), ("startupProbe", c.startupProbe != nil)] where set {
                errors.append(.forbidden(path.child(name), "may not be set for init containers without restartPolicy=Always"))
            }
        } else {
            if let probe = c.livenessProbe { errors += self.probe(probe, .liveness, at: path.child("livenessProbe")) }
            if let probe = c.readinessProbe { errors += self.probe(probe, .readiness, at: path.child("readinessProbe")) }
            if let probe = c.startupProbe { errors += self.probe(probe, .startup, at: path.child("startupProbe")) }
            if let lifecycle = c.lifecycle {
                if let hook = lifecycle.postStart {
                    errors += lifecycleHandler(hook, at: path.child("lifecycle", "postStart"), gracePeriod: context.gracePeriodSeconds)
                }
                if let hook = lifecycle.preStop {
                    errors += lifecycleHandler(hook, at: path.child("lifecycle", "preStop"), gracePeriod: context.gracePeriodSeconds)
                }
            }
        }
        if let securityContext = c.securityContext {
            errors += self.securityContext(securityContext, at: path.child("securityContext"))
        }
        return errors
    }

    private static func isSpace(_ scalar: Unicode.Scalar) -> Bool { scalar.properties.isWhitespace }

    // MARK: Ports

    static func ports(_ ports: [ContainerPort], at path: FieldPath, hostNetwork: Bool) -> [FieldError] {
        var errors: [FieldError] = []
        var names: Set<String> = []
        for (i, port) in ports.enumerated() {
            let here = path.index(i)
            if !port.name.isEmpty {
                errors += ValidationSyntax.portNameErrors(port.name).map { .invalid(here.child("name"), port.name, $0) }
                if !names.insert(port.name).inserted { errors.append(.duplicate(here.child("name"), port.name)) }
            }
            if port.containerPort == 0 {
                errors.append(.required(here.child("containerPort")))
            } else {
                errors += portNumber(port.containerPort, at: here.child("containerPort"))
            }
            if port.hostPort != 0 { errors += portNumber(port.hostPort, at: here.child("hostPort")) }
            if hostNetwork && port.hostPort != port.containerPort {
                errors.append(.invalid(here.child("hostPort"), Int64(port.hostPort), "must match `containerPort` when `hostNetwork` is true"))
            }
            errors += oneOf(port.protocol, protocols, at: here.child("protocol"))
            errors += ipAddress(port.hostIP, at: here.child("hostIP"))
        }
        return errors
    }

    /// Two containers of a pod may not take the same host port (per protocol and address).
    static func uniqueHostPorts(_ c: Container, at path: FieldPath, seen: inout Set<String>) -> [FieldError] {
        var errors: [FieldError] = []
        for (i, port) in c.ports.enumerated() where port.hostPort != 0 {
            let key = "\(port.protocol)/\(port.hostIP)/\(port.hostPort)"
            if !seen.insert(key).inserted { errors.append(.duplicate(path.child("ports").index(i).child("hostPort"), key)) }
        }
        return errors
    }

    // MARK: Environment

    /// The pod fields an environment variable may read (`metadata.labels['k']` and
    /// `metadata.annotations['k']` besides), as Kubernetes lists them.
    static let envFieldPaths = ["metadata.name", "metadata.namespace", "metadata.uid", "spec.nodeName",
                                "spec.serviceAccountName", "status.hostIP", "status.hostIPs", "status.podIP", "status.podIPs"]
    /// The container resources an environment variable may read.
    static let envResources = ["limits.cpu", "limits.ephemeral-storage", "limits.memory",
                               "requests.cpu", "requests.ephemeral-storage", "requests.memory"]

    static func env(_ variable: EnvVar, at path: FieldPath) -> [FieldError] {
        var errors: [FieldError] = []
        if variable.name.isEmpty {
            errors.append(.required(path.child("name")))
        } else if let error = ValidationSyntax.envVarNameError(variable.name) {
            errors.append(.invalid(path.child("name"), variable.name, error))
        }
        guard let source = variable.valueFrom else { return errors }
        let here = path.child("valueFrom")
        let count = [source.fieldRef != nil, source.resourceFieldRef != nil, source.configMapKeyRef != nil,
                     source.secretKeyRef != nil].filter { $0 }.count
        if count == 0 {
            errors.append(.invalid(here, "", "must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`"))
        } else if count > 1 {
            errors.append(.invalid(here, "", "may not have more than one field specified at a time"))
        }
        if !variable.value.isEmpty && count > 0 {
            errors.append(.invalid(here, "", "may not be specified when `value` is not empty"))
        }
        if let ref = source.fieldRef { errors += fieldRef(ref, at: here.child("fieldRef")) }
        if let ref = source.resourceFieldRef { errors += resourceFieldRef(ref, at: here.child("resourceFieldRef")) }
        if let ref = source.configMapKeyRef {
            errors += keyReference(name: ref.name, key: ref.key, at: here.child("configMapKeyRef"))
        }
        if let ref = source.secretKeyRef {
            errors += keyReference(name: ref.name, key: ref.key, at: here.child("secretKeyRef"))
        }
        return errors
    }

    private static func fieldRef(_ ref: ObjectFieldSelector, at path: FieldPath) -> [FieldError] {
        var errors: [FieldError] = []
        if ref.apiVersion.isEmpty { errors.append(.required(path.child("apiVersion"))) }
        let fieldPath = ref.fieldPath
        if fieldPath.isEmpty { return errors + [.required(path.child("fieldPath"))] }
        for prefix in ["metadata.labels", "metadata.annotations"] where fieldPath.hasPrefix(prefix + "['") && fieldPath.hasSuffix("']") {
            let key = String(fieldPath.dropFirst(prefix.count + 2).dropLast(2))
            if let error = Names.qualifiedNameError(key) { errors.append(.invalid(path.child("fieldPath"), key, error)) }
            return errors
        }
        if !envFieldPaths.contains(fieldPath) {
            errors.append(.notSupported(path.child("fieldPath"), fieldPath, envFieldPaths.sorted(by: utf8Precedes)))
        }
        return errors
    }

    private static func resourceFieldRef(_ ref: ResourceFieldSelector, at path: FieldPath) -> [FieldError] {
        if ref.resource.isEmpty { return [.required(path.child("resource"))] }
        guard envResources.contains(ref.resource) else {
            return [.notSupported(path.child("resource"), ref.resource, envResources)]
        }
        guard ref.divisor != Quantity(units: 0) else { return [] }
        if ref.resource.hasSuffix(".cpu") {
            let allowed = ["1m", "1"].compactMap(Quantity.init)
            if !allowed.contains(ref.divisor) {
                return [.invalid(path.child("divisor"), ref.divisor.description, "only divisor's values 1m and 1 are supported with the cpu resource")]
            }
        } else {
            let units = ["1", "1k", "1M", "1G", "1T", "1P", "1E", "1Ki", "1Mi", "1Gi", "1Ti", "1Pi", "1Ei"]
            if !units.compactMap(Quantity.init).contains(ref.divisor) {
                let resource = ref.resource.hasSuffix(".memory") ? "memory" : "local ephemeral storage"
                return [.invalid(path.child("divisor"), ref.divisor.description,
                                 "only divisor's values \(units.joined(separator: ", ")) are supported with the \(resource) resource")]
            }
        }
        return []
    }

    /// A ConfigMap or Secret name and a key of it.
    static func keyReference(name: String, key: String, at path: FieldPath) -> [FieldError] {
        var errors: [FieldError] = []
        if name.isEmpty { errors.append(.required(path.child("name"))) } else { errors += subdomain(name, at: path.child("name")) }
        if key.isEmpty {
            errors.append(.required(path.child("key")))
        } else if let error = Names.configKeyError(key) {
            errors.append(.invalid(path.child("key"), key, error))
        }
        return errors
    }

    static func envFrom(_ source: EnvFromSource, at path: FieldPath) -> [FieldError] {
        var errors: [FieldError] = []
        if !source.prefix.isEmpty, let error = ValidationSyntax.envVarNameError(source.prefix) {
            errors.append(.invalid(path.child("prefix"), source.prefix, error))
        }
        switch (source.configMapRef, source.secretRef) {
        case (nil, nil):
            errors.append(.invalid(path, "", "must specify one of: `configMapRef` or `secretRef`"))
        case (.some, .some):
            errors.append(.invalid(path, "", "may not have more than one field specified at a time"))
        default:
            break
        }
        for (field, name) in [("configMapRef", source.configMapRef?.name), ("secretRef", source.secretRef?.name)] {
            guard let name else { continue }
            if name.isEmpty { errors.append(.required(path.child(field, "name"))) } else { errors += subdomain(name, at: path.child(field, "name")) }
        }
        return errors
    }

    // MARK: Resources

    /// The resource names containers may use without a domain (hugepages-<size> besides).
    static let standardContainerResources = ["cpu", "memory", "ephemeral-storage"]

    static func resources(_ r: ResourceRequirements, at path: FieldPath) -> [FieldError] {
        var errors: [FieldError] = []
        for name in r.limits.keys.sorted(by: utf8Precedes) {
            errors += resourceAmount(name, r.limits[name]!, at: path.child("limits").key(name))
        }
        for name in r.requests.keys.sorted(by: utf8Precedes) {
            let request = r.requests[name]!
            errors += resourceAmount(name, request, at: path.child("requests").key(name))
            if let limit = r.limits[name] {
                if request != limit && !overcommitAllowed(name) {
                    errors.append(.invalid(path.child("requests"), request.description, "must be equal to \(name) limit of \(limit)"))
                } else if request > limit {
                    errors.append(.invalid(path.child("requests"), request.description,
                                           "must be less than or equal to \(name) limit of \(limit)"))
                }
            } else if !overcommitAllowed(name) {
                errors.append(.required(path.child("limits"), "Limit must be set for non overcommitable resources"))
            }
        }
        return errors
    }

    /// Whether requests may be below limits: only for the standard resources (not hugepages
    /// or extended resources, which are handed out whole).
    static func overcommitAllowed(_ name: String) -> Bool { standardContainerResources.contains(name) }

    private static func resourceAmount(_ name: String, _ amount: Quantity, at path: FieldPath) -> [FieldError] {
        var errors: [FieldError] = []
        if let error = Names.qualifiedNameError(name) {
            errors.append(.invalid(path, name, error))
        } else if !isContainerResourceName(name) {
            errors.append(.invalid(path, name, "must be a standard resource for containers"))
        }
        if amount.isNegative {
            errors.append(.invalid(path, amount.description, "must be greater than or equal to 0"))
        } else if name.contains("/") && amount.exponent < 0 {
            errors.append(.invalid(path, amount.description, "must be an integer"))
        }
        return errors
    }

    /// cpu, memory, ephemeral-storage, hugepages-<size>, or an extended resource in a domain
    /// other than kubernetes.io.
    static func isContainerResourceName(_ name: String) -> Bool {
        if standardContainerResources.contains(name) || name.hasPrefix("hugepages-") { return true }
        guard let slash = name.firstIndex(of: "/") else { return false }
        let domain = name[..<slash]
        return domain != "kubernetes.io" && !domain.hasSuffix(".kubernetes.io") && !name.hasPrefix("requests.")
    }
}
