/// Kubernetes' Service validation (ValidateService, ValidateServiceUpdate and the status
/// rules), with its field paths and messages. What depends on other Services (free IPs and
/// ports) is checked by the allocator in `admit`, after these rules pass.
extension Service {
    static let types = ["ClusterIP", "ExternalName", "LoadBalancer", "NodePort"]
    static let protocols = ["SCTP", "TCP", "UDP"]
    static let affinities = ["ClientIP", "None"]
    static let trafficPolicies = ["Cluster", "Local"]
    static let familyPolicies = ["PreferDualStack", "RequireDualStack", "SingleStack"]
    static let families = ["IPv4", "IPv6"]
    static let trafficDistributions = ["PreferClose"]

    public func validate() -> [FieldError] {
        var errors = nameErrors()
        let specPath = FieldPath("spec")
        if spec.type.isEmpty {
            errors.append(.required(specPath.child("type")))
        } else if !Self.types.contains(spec.type) {
            errors.append(.notSupported(specPath.child("type"), spec.type, Self.types))
        }
        errors += clusterIPErrors()
        errors += portErrors()
        if spec.type == Self.typeExternalName {
            let name = spec.externalName.hasSuffix(".") ? String(spec.externalName.dropLast()) : spec.externalName
            if name.isEmpty {
                errors.append(.required(specPath.child("externalName")))
            } else if let error = Names.dnsSubdomainError(name) {
                errors.append(.invalid(specPath.child("externalName"), name, error))
            }
        }
        for key in spec.selector.keys.sorted(by: utf8Precedes) {
            if let error = Names.qualifiedNameError(key) { errors.append(.invalid(specPath.child("selector"), key, error)) }
            if let error = Names.labelValueError(spec.selector[key]!) {
                errors.append(.invalid(specPath.child("selector"), spec.selector[key]!, error))
            }
        }
        errors += affinityErrors()
        errors += trafficErrors()
        errors += loadBalancerErrors()
        errors += ipFamilyErrors()
        for (i, ip) in spec.externalIPs.enumerated() {
            let path = specPath.child("externalIPs").index(i)
            if let error = NetworkRules.ipError(ip) {
                errors.append(.invalid(path, ip, error))
            } else {
                errors += NetworkRules.specialIPErrors(ip).map { FieldError.invalid(path, ip, $0) }
            }
        }
        errors += statusErrors()
        return errors
    }

    /// Service names are DNS-1035 labels: the kind's name rule (a DNS-1123 label) lets a
    /// leading digit through, so that case is caught here.
    private func nameErrors() -> [FieldError] {
        let name = metadata.name
        guard !name.isEmpty, Names.dnsLabelError(name) == nil, let error = NetworkRules.dns1035LabelError(name) else { return [] }
        return [.invalid("metadata.name", name, error)]
    }

    private func clusterIPErrors() -> [FieldError] {
        var errors: [FieldError] = []
        let ipPath = FieldPath("spec.clusterIP")
        let listPath = FieldPath("spec.clusterIPs")
        if spec.type == Self.typeExternalName {
            if !spec.clusterIP.isEmpty || !spec.clusterIPs.isEmpty {
                errors.append(.forbidden(ipPath, "may not be set for ExternalName services"))
            }
            return errors
        }
        if isHeadless && (spec.type == Self.typeNodePort || spec.type == Self.typeLoadBalancer) {
            errors.append(.invalid(ipPath, spec.clusterIP, "may not be set to 'None' for \(spec.type) services"))
        }
        if spec.clusterIP.isEmpty && !spec.clusterIPs.isEmpty {
            errors.append(FieldError(.invalid, listPath, value: NetworkRules.goStringList(spec.clusterIPs),
                                     "must be empty when `clusterIP` is not specified"))
        } else if !spec.clusterIP.isEmpty && !spec.clusterIPs.isEmpty && spec.clusterIP != spec.clusterIPs[0] {
            errors.append(FieldError(.invalid, listPath, value: NetworkRules.goStringList(spec.clusterIPs),
                                     "first value must match `clusterIP`"))
        }
        for (i, ip) in spec.clusterIPs.enumerated() {
            let path = listPath.index(i)
            if ip == Self.headlessClusterIP {
                if i > 0 || spec.clusterIPs.count > 1 {
                    errors.append(FieldError(.invalid, listPath, value: NetworkRules.goStringList(spec.clusterIPs),
                                             "'None' must be the first and only value"))
                }
            } else if !NetworkRules.isIP(ip) {
                errors.append(.invalid(path, ip, "must be empty, 'None', or a valid IP address"))
            } else if NetworkRules.isIPv6(ip) {
                errors.append(.invalid(path, ip, "IPv6 is not configured on this cluster"))
            } else if i > 0 {
                errors.append(.invalid(path, ip, "this cluster is not configured for dual-stack services"))
            }
        }
        return errors
    }

    private func portErrors() -> [FieldError] {
        var errors: [FieldError] = []
        let portsPath = FieldPath("spec.ports")
        if spec.ports.isEmpty && !isHeadless && spec.type != Self.typeExternalName {
            errors.append(.required(portsPath))
        }
        var names: Set<String> = []
        var portKeys: Set<String> = []
        var nodePortKeys: Set<String> = []
        for (i, port) in spec.ports.enumerated() {
            let path = portsPath.index(i)
            if spec.ports.count > 1 && port.name.isEmpty {
                errors.append(.required(path.child("name")))
            } else if !port.name.isEmpty {
                if let error = Names.dnsLabelError(port.name) { errors.append(.invalid(path.child("name"), port.name, error)) }
                if !names.insert(port.name).inserted { errors.append(.duplicate(path.child("name"), port.name)) }
            }
            if let error = NetworkRules.portNumberError(Int64(port.port)) {
                errors.append(.invalid(path.child("port"), Int64(port.port), error))
            }
            if port.protocol.isEmpty {
                errors.append(.required(path.child("protocol")))
            } else if !Self.protocols.contains(port.protocol) {
                errors.append(.notSupported(path.child("protocol"), port.protocol, Self.protocols))
            }
            switch port.targetPort {
            case .int(let number):
                if let error = NetworkRules.portNumberError(Int64(number)) {
                    errors.append(.invalid(path.child("targetPort"), Int64(number), error))
                }
            case .string(let name):
                errors += NetworkRules.portNameErrors(name).map { FieldError.invalid(path.child("targetPort"), name, $0) }
            }
            if let appProtocol = port.appProtocol, let error = Names.qualifiedNameError(appProtocol) {
                errors.append(.invalid(path.child("appProtocol"), appProtocol, error))
            }
            if !portKeys.insert("\(port.port)/\(port.protocol)").inserted {
                errors.append(FieldError(.duplicate, path, value: Self.goPortKey(port: port.port, protocol: port.protocol)))
            }
            if port.nodePort != 0 {
                if spec.type == Self.typeClusterIP {
                    errors.append(.forbidden(path.child("nodePort"), "may not be used when `type` is 'ClusterIP'"))
                } else if spec.type == Self.typeExternalName {
                    errors.append(.forbidden(path.child("nodePort"), "may not be used when `type` is 'ExternalName'"))
                }
                if !nodePortKeys.insert("\(port.nodePort)/\(port.protocol)").inserted {
                    errors.append(FieldError(.duplicate, path.child("nodePort"), value: String(port.nodePort)))
                }
            }
        }
        return errors
    }

    /// The partial port Kubernetes prints (Go's `%#v`) for a duplicate port and protocol.
    static func goPortKey(port: Int32, protocol: String) -> String {
        "core.ServicePort{Name:\"\", Protocol:\(FieldError.quote(`protocol`)), AppProtocol:(*string)(nil), Port:\(port), "
            + "TargetPort:intstr.IntOrString{Type:0, IntVal:0, StrVal:\"\"}, NodePort:0}"
    }

    private func affinityErrors() -> [FieldError] {
        var errors: [FieldError] = []
        let path = FieldPath("spec.sessionAffinity")
        let configPath = FieldPath("spec.sessionAffinityConfig")
        if spec.sessionAffinity.isEmpty {
            errors.append(.required(path))
        } else if !Self.affinities.contains(spec.sessionAffinity) {
            errors.append(.notSupported(path, spec.sessionAffinity, Self.affinities))
        }
        if spec.sessionAffinity == "ClientIP" {
            if let timeout = spec.sessionAffinityConfig?.clientIP?.timeoutSeconds {
                if timeout <= 0 || timeout > Self.clientIPTimeoutMaxSeconds {
                    errors.append(.invalid(configPath.child("clientIP", "timeoutSeconds"), Int64(timeout),
                                           "must be greater than 0 and less than \(Self.clientIPTimeoutMaxSeconds)"))
                }
            } else {
                errors.append(.required(configPath, "when session affinity type is ClientIP"))
            }
        } else if spec.sessionAffinity == "None" && spec.sessionAffinityConfig != nil {
            errors.append(.forbidden(configPath, "must not be set when session affinity is None"))
        }
        return errors
    }

    private func trafficErrors() -> [FieldError] {
        var errors: [FieldError] = []
        let spec = FieldPath("spec")
        let external = spec.child("externalTrafficPolicy")
        if !isExternallyAccessible {
            if !self.spec.externalTrafficPolicy.isEmpty {
                errors.append(.invalid(external, self.spec.externalTrafficPolicy, "may only be set for externally-accessible services"))
            }
        } else if self.spec.externalTrafficPolicy.isEmpty {
            errors.append(.required(external))
        } else if !Self.trafficPolicies.contains(self.spec.externalTrafficPolicy) {
            errors.append(.notSupported(external, self.spec.externalTrafficPolicy, Self.trafficPolicies))
        }
        let healthCheck = self.spec.healthCheckNodePort
        if !needsHealthCheckNodePort && healthCheck != 0 {
            errors.append(.invalid(spec.child("healthCheckNodePort"), Int64(healthCheck),
                                   "may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` is 'Local'"))
        } else if healthCheck != 0, let error = NetworkRules.portNumberError(Int64(healthCheck)) {
            errors.append(.invalid(spec.child("healthCheckNodePort"), Int64(healthCheck), error))
        }
        if let policy = self.spec.internalTrafficPolicy {
            if !Self.trafficPolicies.contains(policy) {
                errors.append(.notSupported(spec.child("internalTrafficPolicy"), policy, Self.trafficPolicies))
            }
        } else if needsClusterIP {
            errors.append(.required(spec.child("internalTrafficPolicy")))
        }
        if let distribution = self.spec.trafficDistribution, !Self.trafficDistributions.contains(distribution) {
            errors.append(.notSupported(spec.child("trafficDistribution"), distribution, Self.trafficDistributions))
        }
        return errors
    }

    private func loadBalancerErrors() -> [FieldError] {
        var errors: [FieldError] = []
        let spec = FieldPath("spec")
        let isLoadBalancer = self.spec.type == Self.typeLoadBalancer
        if !isLoadBalancer {
            if self.spec.allocateLoadBalancerNodePorts != nil {
                errors.append(.forbidden(spec.child("allocateLoadBalancerNodePorts"), "may only be used when `type` is 'LoadBalancer'"))
            }
            if self.spec.loadBalancerClass != nil {
                errors.append(.forbidden(spec.child("loadBalancerClass"), "may only be used when service type is 'LoadBalancer'"))
            }
            if !self.spec.loadBalancerSourceRanges.isEmpty {
                errors.append(.forbidden(spec.child("loadBalancerSourceRanges"), "may only be used when `type` is 'LoadBalancer'"))
            }
        } else if self.spec.allocateLoadBalancerNodePorts == nil {
            errors.append(.required(spec.child("allocateLoadBalancerNodePorts")))
        }
        if let lbClass = self.spec.loadBalancerClass, let error = Names.qualifiedNameError(lbClass) {
            errors.append(.invalid(spec.child("loadBalancerClass"), lbClass, error))
        }
        for (i, range) in self.spec.loadBalancerSourceRanges.enumerated() {
            if let error = NetworkRules.cidrError(range.trimmingSpaces) {
                errors.append(.invalid(spec.child("loadBalancerSourceRanges").index(i), range, error))
            }
        }
        if !self.spec.loadBalancerIP.isEmpty, let error = NetworkRules.ipError(self.spec.loadBalancerIP) {
            errors.append(.invalid(spec.child("loadBalancerIP"), self.spec.loadBalancerIP, error))
        }
        return errors
    }

    private func ipFamilyErrors() -> [FieldError] {
        var errors: [FieldError] = []
        let policyPath = FieldPath("spec.ipFamilyPolicy")
        let familiesPath = FieldPath("spec.ipFamilies")
        if !needsClusterIP {
            if spec.ipFamilyPolicy != nil { errors.append(.forbidden(policyPath, "may not be set for ExternalName services")) }
            if !spec.ipFamilies.isEmpty { errors.append(.forbidden(familiesPath, "may not be set for ExternalName services")) }
            return errors
        }
        // Headless services without a selector allocate nothing, so any family is allowed.
        let headlessSelectorless = isHeadless && spec.selector.isEmpty
        if let policy = spec.ipFamilyPolicy {
            if !Self.familyPolicies.contains(policy) {
                errors.append(.notSupported(policyPath, policy, Self.familyPolicies))
            } else if policy == "RequireDualStack" && !headlessSelectorless {
                errors.append(.invalid(policyPath, policy, "this cluster is not configured for dual-stack services"))
            } else if policy == "SingleStack" && spec.ipFamilies.count > 1 {
                errors.append(.invalid(policyPath, policy, "must be 'RequireDualStack' or 'PreferDualStack' when multiple IP families are specified"))
            }
        }
        if spec.ipFamilies.count > 2 {
            errors.append(FieldError(.invalid, familiesPath, value: NetworkRules.goStringList(spec.ipFamilies),
                                     "may specify no more than two IP families"))
        }
        var seen: Set<String> = []
        for (i, family) in spec.ipFamilies.enumerated() {
            let path = familiesPath.index(i)
            if !Self.families.contains(family) {
                errors.append(.notSupported(path, family, Self.families))
            } else if !seen.insert(family).inserted {
                errors.append(.duplicate(path, family))
            } else if family != Self.clusterIPFamily && !headlessSelectorless {
                errors.append(.invalid(path, family, "not configured on this cluster"))
            }
        }
        return errors
    }

    private func statusErrors() -> [FieldError] {
        var errors: [FieldError] = []
        let ingressPath = FieldPath("status.loadBalancer.ingress")
        for (i, ingress) in status.loadBalancer.ingress.enumerated() {
            let path = ingressPath.index(i)
            if !ingress.ip.isEmpty, let error = NetworkRules.ipError(ingress.ip) {
                errors.append(.invalid(path.child("ip"), ingress.ip, error))
            }
            if let mode = ingress.ipMode {
                if ingress.ip.isEmpty {
                    errors.append(.required(path.child("ip"), "must be specified when `ipMode` is set"))
                }
                if !["Proxy", "VIP"].contains(mode) { errors.append(.notSupported(path.child("ipMode"), mode, ["Proxy", "VIP"])) }
            }
            if !ingress.hostname.isEmpty {
                if let error = Names.dnsSubdomainError(ingress.hostname) {
                    errors.append(.invalid(path.child("hostname"), ingress.hostname, error))
                } else if NetworkRules.isIP(ingress.hostname) {
                    errors.append(.invalid(path.child("hostname"), ingress.hostname, "must be a DNS name, not an IP address"))
                }
            }
        }
        return errors
    }

    /// On update: the cluster IPs may not change once set, except when the service becomes or
    /// stops being an ExternalName service, or stays headless.
    public func validateUpdate(from old: Service) -> [FieldError] {
        if spec.type == Self.typeExternalName || old.spec.type == Self.typeExternalName { return [] }
        if isHeadless && old.isHeadless { return [] }
        let listPath = FieldPath("spec.clusterIPs")
        let rendered = NetworkRules.goStringList(spec.clusterIPs)
        var errors: [FieldError] = []
        if spec.clusterIPs.isEmpty && !old.spec.clusterIPs.isEmpty {
            errors.append(FieldError(.invalid, listPath.index(0), value: rendered, "primary clusterIP can not be unset"))
        }
        for (i, ip) in old.spec.clusterIPs.enumerated() where i < spec.clusterIPs.count && spec.clusterIPs[i] != ip {
            errors.append(FieldError(.invalid, listPath.index(i), value: rendered, "may not change once set"))
        }
        return errors
    }
}

extension String {
    /// The text without leading and trailing spaces (load balancer source ranges may carry them).
    fileprivate var trimmingSpaces: String {
        String(String(drop { $0 == " " }.reversed()).drop { $0 == " " }.reversed())
    }
}
