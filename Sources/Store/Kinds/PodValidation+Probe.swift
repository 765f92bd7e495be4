/// Probe, lifecycle hook and security context rules.
extension PodValidation {
    enum ProbeKind {
        case liveness
        case readiness
        case startup
    }

    static func probe(_ probe: Probe, _ kind: ProbeKind, at path: FieldPath) -> [FieldError] {
        var errors = probeHandler(probe.handler, at: path)
        for (field, value) in [("initialDelaySeconds", probe.initialDelaySeconds), ("timeoutSeconds", probe.timeoutSeconds),
                               ("periodSeconds", probe.periodSeconds), ("successThreshold", probe.successThreshold),
                               ("failureThreshold", probe.failureThreshold)] where value < 0 {
            errors.append(.invalid(path.child(field), Int64(value), "must be greater than or equal to 0"))
        }
        if kind != .readiness && probe.successThreshold != 1 {
            errors.append(.invalid(path.child("successThreshold"), Int64(probe.successThreshold), "must be 1"))
        }
        if let seconds = probe.terminationGracePeriodSeconds {
            if kind == .readiness {
                errors.append(.invalid(path.child("terminationGracePeriodSeconds"), seconds, "must not be set for readinessProbes"))
            } else if seconds <= 0 {
                errors.append(.invalid(path.child("terminationGracePeriodSeconds"), seconds, "must be greater than 0"))
            }
        }
        return errors
    }

    /// Exactly one handler, and that handler's own rules.
    static func probeHandler(_ handler: ProbeHandler, at path: FieldPath) -> [FieldError] {
        var errors = exactlyOneHandler(handler.setMembers, at: path)
        if let exec = handler.exec, exec.command.isEmpty { errors.append(.required(path.child("exec", "command"))) }
        if let get = handler.httpGet { errors += httpGet(get, at: path.child("httpGet")) }
        if let tcp = handler.tcpSocket { errors += portNumberOrName(tcp.port, at: path.child("tcpSocket", "port")) }
        if let grpc = handler.grpc { errors += portNumber(grpc.port, at: path.child("grpc", "port")) }
        return errors
    }

    static func lifecycleHandler(_ handler: LifecycleHandler, at path: FieldPath, gracePeriod: Int64?) -> [FieldError] {
        var errors = exactlyOneHandler(handler.setMembers, at: path)
        if let exec = handler.exec, exec.command.isEmpty { errors.append(.required(path.child("exec", "command"))) }
        if let get = handler.httpGet { errors += httpGet(get, at: path.child("httpGet")) }
        if let tcp = handler.tcpSocket { errors += portNumberOrName(tcp.port, at: path.child("tcpSocket", "port")) }
        if let sleep = handler.sleep, let grace = gracePeriod, sleep.seconds <= 0 || sleep.seconds > grace {
            errors.append(.invalid(path.child("sleep", "seconds"), sleep.seconds,
                                   "must be greater than 0 and less than terminationGracePeriodSeconds (\(grace))"))
        }
        return errors
    }

    private static func exactlyOneHandler(_ members: [String], at path: FieldPath) -> [FieldError] {
        if members.isEmpty { return [.required(path, "must specify a handler type")] }
        return members.dropFirst().map { .forbidden(path.child($0), "may not specify more than 1 handler type") }
    }

    private static func httpGet(_ get: HTTPGetAction, at path: FieldPath) -> [FieldError] {
        var errors: [FieldError] = []
        if get.path.isEmpty { errors.append(.required(path.child("path"))) }
        errors += portNumberOrName(get.port, at: path.child("port"))
        if !["HTTP", "HTTPS"].contains(get.scheme) { errors.append(.notSupported(path.child("scheme"), get.scheme, ["HTTP", "HTTPS"])) }
        for (i, header) in get.httpHeaders.enumerated() {
            if let error = ValidationSyntax.httpHeaderNameError(header.name) {
                errors.append(.invalid(path.child("httpHeaders").index(i).child("name"), header.name, error))
            }
        }
        return errors
    }

    // MARK: Security contexts

    /// User and group IDs Kubernetes accepts.
    static func id(_ value: Int64?, at path: FieldPath) -> [FieldError] {
        guard let value, value < 0 || value > Int64(Int32.max) else { return [] }
        return [.invalid(path, value, "must be between 0 and 2147483647, inclusive")]
    }

    static func securityContext(_ sc: SecurityContext, at path: FieldPath) -> [FieldError] {
        var errors = id(sc.runAsUser, at: path.child("runAsUser")) + id(sc.runAsGroup, at: path.child("runAsGroup"))
        if sc.allowPrivilegeEscalation == false {
            if sc.privileged == true {
                errors.append(FieldError(.invalid, path, value: "SecurityContext",
                                         "cannot set `allowPrivilegeEscalation` to false and `privileged` to true"))
            }
            if sc.capabilities?.add.contains("CAP_SYS_ADMIN") == true || sc.capabilities?.add.contains("SYS_ADMIN") == true {
                errors.append(FieldError(.invalid, path, value: "SecurityContext",
                                         "cannot set `allowPrivilegeEscalation` to false and `capabilities.Add` CAP_SYS_ADMIN"))
            }
        }
        if let procMount = sc.procMount {
            errors += oneOf(procMount, ["Default", "Unmasked"], at: path.child("procMount"))
        }
        if let profile = sc.seccompProfile { errors += seccomp(profile, at: path.child("seccompProfile")) }
        if let profile = sc.appArmorProfile {
            errors += localProfile(type: profile.type, localhost: profile.localhostProfile, kind: "AppArmor",
                                   at: path.child("appArmorProfile"))
        }
        return errors
    }

    static func podSecurityContext(_ sc: PodSecurityContext, at path: FieldPath) -> [FieldError] {
        var errors = id(sc.runAsUser, at: path.child("runAsUser")) + id(sc.runAsGroup, at: path.child("runAsGroup"))
            + id(sc.fsGroup, at: path.child("fsGroup"))
        for (i, group) in sc.supplementalGroups.enumerated() { errors += id(group, at: path.child("supplementalGroups").index(i)) }
        if let policy = sc.fsGroupChangePolicy {
            errors += oneOf(policy, ["Always", "OnRootMismatch"], at: path.child("fsGroupChangePolicy"))
        }
        if let policy = sc.supplementalGroupsPolicy {
            errors += oneOf(policy, ["Merge", "Strict"], at: path.child("supplementalGroupsPolicy"))
        }
        var sysctls: Set<String> = []
        for (i, sysctl) in sc.sysctls.enumerated() {
            let here = path.child("sysctls").index(i).child("name")
            if sysctl.name.isEmpty {
                errors.append(.required(here))
            } else if !isSysctlName(sysctl.name) {
                errors.append(.invalid(here, sysctl.name,
                                       "must have at most 253 characters and match regex ^([a-z0-9]([-_a-z0-9]*[a-z0-9])?[\\./])*[a-z0-9]([-_a-z0-9]*[a-z0-9])?$"))
            }
            if !sysctls.insert(sysctl.name).inserted { errors.append(.duplicate(here, sysctl.name)) }
        }
        if let profile = sc.seccompProfile { errors += seccomp(profile, at: path.child("seccompProfile")) }
        if let profile = sc.appArmorProfile {
            errors += localProfile(type: profile.type, localhost: profile.localhostProfile, kind: "AppArmor",
                                   at: path.child("appArmorProfile"))
        }
        return errors
    }

    private static func seccomp(_ profile: SeccompProfile, at path: FieldPath) -> [FieldError] {
        localProfile(type: profile.type, localhost: profile.localhostProfile, kind: "seccomp", at: path)
    }

    /// A seccomp or AppArmor profile: a known type, and a local profile exactly for Localhost.
    private static func localProfile(type: String, localhost: String?, kind: String, at path: FieldPath) -> [FieldError] {
        var errors = oneOf(type, SeccompProfile.types, at: path.child("type"))
        if type == "Localhost" && (localhost ?? "").isEmpty {
            errors.append(.required(path.child("localhostProfile"), "must be set when \(kind) type is Localhost"))
        } else if type != "Localhost", let localhost {
            errors.append(.invalid(path.child("localhostProfile"), localhost, "can only be set when \(kind) type is Localhost"))
        }
        return errors
    }

    /// Dot- or slash-separated lowercase segments of letters, digits, '-' and '_'.
    private static func isSysctlName(_ name: String) -> Bool {
        guard name.utf8.count <= 253 else { return false }
        return name.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "." || $0 == "/" }).allSatisfy { part in
            let bytes = Array(part.utf8)
            guard let first = bytes.first, let last = bytes.last else { return false }
            return ValidationSyntax.isLowerAlphanumeric(first) && ValidationSyntax.isLowerAlphanumeric(last)
                && bytes.allSatisfy { ValidationSyntax.isLowerAlphanumeric($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") }
        }
    }
}
