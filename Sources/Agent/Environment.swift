import Store

// A container's environment, as kubelet makes it: envFrom sources first (ConfigMaps and
// Secrets, each key with the prefix), then env in order, each value able to refer to the
// variables before it as $(NAME) ($$ is a literal $), values from ConfigMap and Secret keys
// and from the pod's own fields. A missing non-optional source is an error the container
// waits on (CreateContainerConfigError), not a crash.

/// What the resolver reads from the store.
public protocol EnvironmentSources {
    func configMap(namespace: String, name: String) -> ConfigMap?
    func secret(namespace: String, name: String) -> Secret?
}

public enum Environment {
    public static func resolve(_ container: Container, pod: Pod, podIP: String, hostIP: String,
                               sources: EnvironmentSources) -> Result<[EnvEntry], EnvironmentError> {
        let namespace = pod.metadata.namespace
        var entries: [EnvEntry] = []
        var index: [String: Int] = [:]
        func set(_ name: String, _ value: String) {
            if let at = index[name] { entries[at].value = value } else {
                index[name] = entries.count
                entries.append(EnvEntry(name, value))
            }
        }

        for source in container.envFrom {
            if let reference = source.configMapRef {
                guard let map = sources.configMap(namespace: namespace, name: reference.name) else {
                    if reference.optional == true { continue }
                    return .failure(EnvironmentError("configmap \"\(reference.name)\" not found"))
                }
                for (key, value) in map.data.sorted(by: { $0.key < $1.key }) { set(source.prefix + key, value) }
            }
            if let reference = source.secretRef {
                guard let secret = sources.secret(namespace: namespace, name: reference.name) else {
                    if reference.optional == true { continue }
                    return .failure(EnvironmentError("secret \"\(reference.name)\" not found"))
                }
                for (key, value) in secretValues(secret).sorted(by: { $0.key < $1.key }) { set(source.prefix + key, value) }
            }
        }

        for variable in container.env {
            guard let from = variable.valueFrom else {
                set(variable.name, expand(variable.value, entries: entries, index: index))
                continue
            }
            if let selector = from.configMapKeyRef {
                guard let value = sources.configMap(namespace: namespace, name: selector.name)?.data[selector.key] else {
                    if selector.optional == true { continue }
                    return .failure(EnvironmentError("couldn't find key \(selector.key) in ConfigMap \(namespace)/\(selector.name)"))
                }
                set(variable.name, value)
            } else if let selector = from.secretKeyRef {
                guard let secret = sources.secret(namespace: namespace, name: selector.name), let value = secretValues(secret)[selector.key] else {
                    if selector.optional == true { continue }
                    return .failure(EnvironmentError("couldn't find key \(selector.key) in Secret \(namespace)/\(selector.name)"))
                }
                set(variable.name, value)
            } else if let field = from.fieldRef {
                guard let value = fieldValue(field.fieldPath, pod: pod, podIP: podIP, hostIP: hostIP) else {
                    return .failure(EnvironmentError("unsupported fieldPath \(field.fieldPath) for \(variable.name)"))
                }
                set(variable.name, value)
            } else if let resource = from.resourceFieldRef {
                let target = resource.containerName.isEmpty ? container : pod.spec.containers.first { $0.name == resource.containerName } ?? container
                guard let value = resourceValue(resource.resource, container: target, divisor: resource.divisor) else {
                    return .failure(EnvironmentError("unsupported resource \(resource.resource) for \(variable.name)"))
                }
                set(variable.name, value)
            }
        }
        return .success(entries)
    }

    static func secretValues(_ secret: Secret) -> [String: String] {
        var values = secret.data.mapValues { String(decoding: $0.bytes, as: UTF8.self) }
        for (key, value) in secret.stringData { values[key] = value }
        return values
    }

    /// $(NAME) of a variable defined before; $$ is a literal $; anything else stays as written.
    static func expand(_ text: String, entries: [EnvEntry], index: [String: Int]) -> String {
        guard text.contains("$") else { return text }
        var out = ""
        var rest = Substring(text)
        while let dollar = rest.firstIndex(of: "$") {
            out += rest[..<dollar]
            let after = rest[rest.index(after: dollar)...]
            if after.first == "$" {
                out += "$"
                rest = after.dropFirst()
            } else if after.first == "(", let close = after.firstIndex(of: ")") {
                let name = String(after[after.index(after: after.startIndex)..<close])
                if let at = index[name] { out += entries[at].value } else { out += "$(\(name))" }
                rest = after[after.index(after: close)...]
            } else {
                out += "$"
                rest = after
            }
        }
        return out + rest
    }

    static func fieldValue(_ path: String, pod: Pod, podIP: String, hostIP: String) -> String? {
        switch path {
        case "metadata.name": return pod.metadata.name
        case "metadata.namespace": return pod.metadata.namespace
        case "metadata.uid": return pod.metadata.uid
        case "spec.nodeName": return pod.spec.nodeName
        case "spec.serviceAccountName": return pod.spec.serviceAccountName
        case "status.podIP", "status.podIPs": return podIP
        case "status.hostIP", "status.hostIPs": return hostIP
        default:
            for (prefix, map) in [("metadata.labels['", pod.metadata.labels), ("metadata.annotations['", pod.metadata.annotations)]
            where path.hasPrefix(prefix) && path.hasSuffix("']") {
                return map[String(path.dropFirst(prefix.count).dropLast(2))] ?? ""
            }
            return nil
        }
    }

    static func resourceValue(_ resource: String, container: Container, divisor: Quantity) -> String? {
        let requirements = container.resources
        let quantity: Quantity?
        switch resource {
        case "limits.cpu": quantity = requirements.limits[ResourceRequirements.cpu]
        case "limits.memory": quantity = requirements.limits[ResourceRequirements.memory]
        case "requests.cpu": quantity = requirements.requests[ResourceRequirements.cpu]
        case "requests.memory": quantity = requirements.requests[ResourceRequirements.memory]
        default: return nil
        }
        let milli = quantity?.milliValue ?? 0
        let divisorMilli = max(1, (divisor.milliValue ?? 0) == 0 ? 1_000 : divisor.milliValue ?? 1_000)
        // Kubernetes rounds up (a 250m limit with the default divisor 1 reads as 1).
        return String((milli + divisorMilli - 1) / divisorMilli)
    }
}

public struct EnvironmentError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
