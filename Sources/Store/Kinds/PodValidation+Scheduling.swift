/// Scheduling and name resolution rules: affinity, tolerations, topology spreading, DNS
/// settings and host aliases.
extension PodValidation {
    static let tolerationOperators = ["Equal", "Exists"]
    static let spreadActions = ["DoNotSchedule", "ScheduleAnyway"]
    static let inclusionPolicies = ["Honor", "Ignore"]
    /// Most name servers and search domains a pod's resolver takes.
    static let nameserversMax = 3
    static let searchesMax = 32

    static func tolerations(_ tolerations: [Toleration], at path: FieldPath) -> [FieldError] {
        var errors: [FieldError] = []
        for (i, toleration) in tolerations.enumerated() {
            let here = path.index(i)
            if !toleration.key.isEmpty, let error = Names.qualifiedNameError(toleration.key) {
                errors.append(.invalid(here.child("key"), toleration.key, error))
            }
            if toleration.key.isEmpty && toleration.operator != "Exists" {
                errors.append(.invalid(here.child("operator"), toleration.operator,
                                       "operator must be Exists when `key` is empty, which means \"match all values and all keys\""))
            }
            switch toleration.operator {
            case "", "Equal":
                if let error = Names.labelValueError(toleration.value) {
                    errors.append(.invalid(here.child("value"), toleration.value, error))
                }
            case "Exists":
                if !toleration.value.isEmpty {
                    errors.append(.invalid(here.child("operator"), toleration.value, "value must be empty when `operator` is 'Exists'"))
                }
            default:
                errors.append(.notSupported(here.child("operator"), toleration.operator, tolerationOperators))
            }
            if toleration.tolerationSeconds != nil && toleration.effect != Taint.noExecute {
                errors.append(.invalid(here.child("effect"), toleration.effect,
                                       "effect must be 'NoExecute' when `tolerationSeconds` is set"))
            }
            if !toleration.effect.isEmpty && !Taint.effects.contains(toleration.effect) {
                errors.append(.notSupported(here.child("effect"), toleration.effect, Taint.effects))
            }
        }
        return errors
    }

    static func affinity(_ affinity: Affinity, at path: FieldPath) -> [FieldError] {
        var errors: [FieldError] = []
        if let node = affinity.nodeAffinity {
            let here = path.child("nodeAffinity")
            if let required = node.requiredDuringSchedulingIgnoredDuringExecution {
                errors += nodeSelector(required, at: here.child("requiredDuringSchedulingIgnoredDuringExecution"))
            }
            for (i, term) in node.preferredDuringSchedulingIgnoredDuringExecution.enumerated() {
                let termPath = here.child("preferredDuringSchedulingIgnoredDuringExecution").index(i)
                errors += weight(term.weight, at: termPath.child("weight"))
                errors += nodeSelectorTerm(term.preference, at: termPath.child("preference"))
            }
        }
        for (field, terms) in [("podAffinity", affinity.podAffinity.map { ($0.requiredDuringSchedulingIgnoredDuringExecution,
                                                                            $0.preferredDuringSchedulingIgnoredDuringExecution) }),
                               ("podAntiAffinity", affinity.podAntiAffinity.map { ($0.requiredDuringSchedulingIgnoredDuringExecution,
                                                                                    $0.preferredDuringSchedulingIgnoredDuringExecution) })] {
            guard let (required, preferred) = terms else { continue }
            let here = path.child(field)
            for (i, term) in required.enumerated() {
                errors += podAffinityTerm(term, at: here.child("requiredDuringSchedulingIgnoredDuringExecution").index(i))
            }
            for (i, term) in preferred.enumerated() {
                let termPath = here.child("preferredDuringSchedulingIgnoredDuringExecution").index(i)
                errors += weight(term.weight, at: termPath.child("weight"))
                errors += podAffinityTerm(term.podAffinityTerm, at: termPath.child("podAffinityTerm"))
            }
        }
        return errors
    }

    private static func weight(_ weight: Int32, at path: FieldPath) -> [FieldError] {
        (1...100).contains(weight) ? [] : [.invalid(path, Int64(weight), "must be in the range 1-100")]
    }

    static func nodeSelector(_ selector: NodeSelector, at path: FieldPath) -> [FieldError] {
        let terms = path.child("nodeSelectorTerms")
        if selector.nodeSelectorTerms.isEmpty { return [.required(terms, "must have at least one node selector term")] }
        var errors: [FieldError] = []
        for (i, term) in selector.nodeSelectorTerms.enumerated() { errors += nodeSelectorTerm(term, at: terms.index(i)) }
        return errors
    }

    static func nodeSelectorTerm(_ term: NodeSelectorTerm, at path: FieldPath) -> [FieldError] {
        var errors: [FieldError] = []
        for (i, requirement) in term.matchExpressions.enumerated() {
            let here = path.child("matchExpressions").index(i)
            errors += nodeSelectorRequirement(requirement, at: here)
            if let error = Names.qualifiedNameError(requirement.key) { errors.append(.invalid(here.child("key"), requirement.key, error)) }
        }
        for (i, requirement) in term.matchFields.enumerated() {
            let here = path.child("matchFields").index(i)
            if requirement.key != "metadata.name" {
                errors.append(.invalid(here.child("key"), requirement.key, "not a valid field selector key"))
            } else if !["In", "NotIn"].contains(requirement.operator) {
                errors.append(.invalid(here.child("operator"), requirement.operator, "not a valid selector operator"))
            } else if requirement.values.count != 1 {
                errors.append(.required(here.child("values"), "must be only one value when `operator` is 'In' or 'NotIn' for node field selector"))
            }
        }
        return errors
    }

    private static func nodeSelectorRequirement(_ r: NodeSelectorRequirement, at path: FieldPath) -> [FieldError] {
        switch r.operator {
        case "In", "NotIn":
            if r.values.isEmpty { return [.required(path.child("values"), "must be specified when `operator` is 'In' or 'NotIn'")] }
        case "Exists", "DoesNotExist":
            if !r.values.isEmpty { return [.forbidden(path.child("values"), "may not be specified when `operator` is 'Exists' or 'DoesNotExist'")] }
        case "Gt", "Lt":
            if r.values.count != 1 { return [.required(path.child("values"), "must be specified single value when `operator` is 'Lt' or 'Gt'")] }
        default:
            return [.invalid(path.child("operator"), r.operator, "not a valid selector operator")]
        }
        return []
    }

    private static func podAffinityTerm(_ term: PodAffinityTerm, at path: FieldPath) -> [FieldError] {
        var errors: [FieldError] = []
        if let selector = term.labelSelector { _ = selector.selector(at: path.child("labelSelector"), errors: &errors) }
        if let selector = term.namespaceSelector { _ = selector.selector(at: path.child("namespaceSelector"), errors: &errors) }
        for (i, namespace) in term.namespaces.enumerated() {
            if let error = Names.dnsLabelError(namespace) { errors.append(.invalid(path.child("namespaces").index(i), namespace, error)) }
        }
        if term.topologyKey.isEmpty {
            errors.append(.required(path.child("topologyKey"), "can not be empty"))
        } else if let error = Names.qualifiedNameError(term.topologyKey) {
            errors.append(.invalid(path.child("topologyKey"), term.topologyKey, error))
        }
        return errors
    }

    static func topologySpread(_ constraints: [TopologySpreadConstraint], at path: FieldPath) -> [FieldError] {
        var errors: [FieldError] = []
        var seen: Set<String> = []
        for (i, c) in constraints.enumerated() {
            let here = path.index(i)
            if c.maxSkew <= 0 { errors.append(.invalid(here.child("maxSkew"), Int64(c.maxSkew), "must be greater than zero")) }
            if c.topologyKey.isEmpty {
                errors.append(.required(here.child("topologyKey"), "can not be empty"))
            } else if let error = Names.qualifiedNameError(c.topologyKey) {
                errors.append(.invalid(here.child("topologyKey"), c.topologyKey, error))
            }
            if c.whenUnsatisfiable.isEmpty || spreadActions.contains(c.whenUnsatisfiable) {
                if !seen.insert("\(c.topologyKey)/\(c.whenUnsatisfiable)").inserted {
                    errors.append(.duplicate(here, "{\(c.topologyKey), \(c.whenUnsatisfiable)}"))
                }
            }
            if !spreadActions.contains(c.whenUnsatisfiable) {
                errors.append(.notSupported(here.child("whenUnsatisfiable"), c.whenUnsatisfiable, spreadActions))
            }
            if let minDomains = c.minDomains {
                if minDomains <= 0 {
                    errors.append(.invalid(here.child("minDomains"), Int64(minDomains), "must be greater than 0"))
                } else if c.whenUnsatisfiable != "DoNotSchedule" {
                    errors.append(.invalid(here.child("minDomains"), Int64(minDomains),
                                           "can only use minDomains if whenUnsatisfiable=DoNotSchedule, not \(c.whenUnsatisfiable)"))
                }
            }
            if let policy = c.nodeAffinityPolicy { errors += oneOf(policy, inclusionPolicies, at: here.child("nodeAffinityPolicy")) }
            if let policy = c.nodeTaintsPolicy { errors += oneOf(policy, inclusionPolicies, at: here.child("nodeTaintsPolicy")) }
            if let selector = c.labelSelector { _ = selector.selector(at: here.child("labelSelector"), errors: &errors) }
        }
        return errors
    }

    static func dnsConfig(_ config: PodDNSConfig?, policy: String, at path: FieldPath) -> [FieldError] {
        guard let config else {
            return policy == "None" ? [.required(path, "must provide `dnsConfig` when `dnsPolicy` is None")] : []
        }
        var errors: [FieldError] = []
        if config.nameservers.count > nameserversMax {
            errors.append(.invalid(path.child("nameservers"), config.nameservers.joined(separator: " "),
                                   "must not have more than \(nameserversMax) nameservers"))
        }
        for (i, server) in config.nameservers.enumerated() where ValidationSyntax.ipFamily(server) == nil {
            errors.append(.invalid(path.child("nameservers").index(i), server, "must be valid IP address"))
        }
        if policy == "None" && config.nameservers.isEmpty {
            errors.append(.required(path.child("nameservers"), "must provide at least one DNS nameserver when `dnsPolicy` is None"))
        }
        if config.searches.count > searchesMax {
            errors.append(.invalid(path.child("searches"), config.searches.joined(separator: " "),
                                   "must not have more than \(searchesMax) search paths"))
        }
        for (i, search) in config.searches.enumerated() {
            let domain = search.hasSuffix(".") ? String(search.dropLast()) : search
            if let error = Names.dnsSubdomainError(domain) { errors.append(.invalid(path.child("searches").index(i), search, error)) }
        }
        for (i, option) in config.options.enumerated() where option.name.isEmpty {
            errors.append(.required(path.child("options").index(i).child("name"), "must not be empty"))
        }
        return errors
    }

    static func hostAliases(_ aliases: [HostAlias], at path: FieldPath) -> [FieldError] {
        var errors: [FieldError] = []
        for (i, alias) in aliases.enumerated() {
            let here = path.index(i)
            if alias.ip.isEmpty {
                errors.append(.required(here.child("ip")))
            } else if ValidationSyntax.ipFamily(alias.ip) == nil {
                errors.append(.invalid(here.child("ip"), alias.ip, "must be valid IP address"))
            }
            for (j, hostname) in alias.hostnames.enumerated() {
                if let error = Names.dnsSubdomainError(hostname) {
                    errors.append(.invalid(here.child("hostnames").index(j), hostname, error))
                }
            }
        }
        return errors
    }
}
