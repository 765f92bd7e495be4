/// The kinds that arrive with cluster version 2 (and ConfigMap's typed form).
extension Kind {
    static let workloadKinds: [Kind] = [namespace, secret, deployment, replicaSet, pod, node, service, endpoints, endpointSlice, event, lease]
}
