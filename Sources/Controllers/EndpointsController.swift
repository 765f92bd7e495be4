import Store

/// Keeps each Service's Endpoints and EndpointSlice (named after the Service) listing the
/// pods its selector picks, as Kubernetes' endpoints and endpointslice controllers do: ready
/// pods as ready addresses, the others (or, with `publishNotReadyAddresses`, all) apart,
/// terminating ones marked so in the slice; a named `targetPort` resolved per pod by its
/// container port's name. Services without a selector are left to whoever writes their
/// endpoints (the leader's `kubernetes` Service among them).
public enum EndpointsController {
    public static let serviceNameLabel = "kubernetes.io/service-name"
    public static let managedByLabel = "endpointslice.kubernetes.io/managed-by"
    public static let managedBy = "endpointslice-controller.k8s.io"

    /// The writes that bring the service's Endpoints and EndpointSlice to what its pods say.
    public static func reconcile(_ service: Service, pods: [Pod], endpoints: Endpoints?, slice: EndpointSlice?) -> [ControllerWrite] {
        guard !service.spec.selector.isEmpty, service.metadata.deletionTimestamp == nil else { return [] }
        let selected = pods.filter { pod in
            !pod.isTerminal && !pod.status.podIP.isEmpty && service.spec.selector.allSatisfy { pod.metadata.labels[$0.key] == $0.value }
        }.sorted { $0.metadata.name < $1.metadata.name }
        var writes: [ControllerWrite] = []
        let wantedEndpoints = endpointsObject(service, selected)
        if endpoints.map({ $0.subsets != wantedEndpoints.subsets || $0.metadata.labels != wantedEndpoints.metadata.labels }) ?? true {
            writes.append(write(wantedEndpoints, kind: .endpoints, current: endpoints?.metadata))
        }
        let wantedSlice = sliceObject(service, selected)
        if slice.map({ $0.endpoints != wantedSlice.endpoints || $0.ports != wantedSlice.ports || $0.metadata.labels != wantedSlice.metadata.labels }) ?? true {
            writes.append(write(wantedSlice, kind: .endpointSlice, current: slice?.metadata))
        }
        return writes
    }

    /// The port a service port reaches on this pod: a number, or the pod's container port
    /// of that name (nil: the pod has none, and is left out of that port).
    static func targetPort(_ port: ServicePort, on pod: Pod) -> Int32? {
        switch port.targetPort {
        case .int(let number): return number == 0 ? port.port : number
        case .string(let name):
            if let number = Int32(name) { return number }
            return pod.spec.containers.flatMap(\.ports).first { $0.name == name }?.containerPort
        }
    }

    static func reference(_ pod: Pod) -> ObjectReference {
        var reference = ObjectReference()
        reference.kind = "Pod"
        reference.namespace = pod.metadata.namespace
        reference.name = pod.metadata.name
        reference.uid = pod.metadata.uid
        return reference
    }

    static func isReady(_ pod: Pod, _ service: Service) -> Bool {
        !pod.isTerminating && (pod.isReady || service.spec.publishNotReadyAddresses)
    }

    static func endpointsObject(_ service: Service, _ pods: [Pod]) -> Endpoints {
        var object = Endpoints()
        object.kind = "Endpoints"
        object.apiVersion = "v1"
        object.metadata.name = service.metadata.name
        object.metadata.namespace = service.metadata.namespace
        object.metadata.labels = service.metadata.labels
        // One subset per distinct port list (pods resolving named ports differently).
        var subsets: [[EndpointPort]: EndpointSubset] = [:]
        var order: [[EndpointPort]] = []
        for pod in pods where !pod.isTerminating || service.spec.publishNotReadyAddresses {
            let ports = service.spec.ports.compactMap { port -> EndpointPort? in
                guard let number = targetPort(port, on: pod) else { return nil }
                var endpointPort = EndpointPort()
                endpointPort.name = port.name
                endpointPort.port = number
                endpointPort.protocol = port.protocol.isEmpty ? "TCP" : port.protocol
                endpointPort.appProtocol = port.appProtocol
                return endpointPort
            }
            guard !ports.isEmpty else { continue }
            var address = EndpointAddress()
            address.ip = pod.status.podIP
            address.nodeName = pod.spec.nodeName.isEmpty ? nil : pod.spec.nodeName
            address.targetRef = reference(pod)
            if subsets[ports] == nil {
                subsets[ports] = EndpointSubset()
                subsets[ports]!.ports = ports
                order.append(ports)
            }
            if isReady(pod, service) { subsets[ports]!.addresses.append(address) } else { subsets[ports]!.notReadyAddresses.append(address) }
        }
        object.subsets = order.map { subsets[$0]! }
        return object
    }

    static func sliceObject(_ service: Service, _ pods: [Pod]) -> EndpointSlice {
        var slice = EndpointSlice()
        slice.kind = "EndpointSlice"
        slice.apiVersion = "discovery.k8s.io/v1"
        slice.metadata.name = service.metadata.name
        slice.metadata.namespace = service.metadata.namespace
        slice.metadata.labels = service.metadata.labels.merging([serviceNameLabel: service.metadata.name, managedByLabel: managedBy]) { _, new in new }
        slice.addressType = "IPv4"
        slice.ports = service.spec.ports.map { port in
            var slicePort = EndpointSlicePort()
            slicePort.name = port.name
            slicePort.protocol = port.protocol.isEmpty ? "TCP" : port.protocol
            slicePort.appProtocol = port.appProtocol
            // A named target port may differ per pod; the slice then carries the first pod's.
            slicePort.port = pods.lazy.compactMap { targetPort(port, on: $0) }.first ?? { if case .int(let n) = port.targetPort, n != 0 { return n } else { return port.port } }()
            return slicePort
        }
        slice.endpoints = pods.map { pod in
            var endpoint = Endpoint()
            endpoint.addresses = [pod.status.podIP]
            endpoint.conditions.ready = isReady(pod, service)
            endpoint.conditions.serving = pod.isReady || service.spec.publishNotReadyAddresses
            endpoint.conditions.terminating = pod.isTerminating
            endpoint.nodeName = pod.spec.nodeName.isEmpty ? nil : pod.spec.nodeName
            endpoint.targetRef = reference(pod)
            return endpoint
        }
        return slice
    }

    /// Creates the object, or replaces it over the version read.
    static func write<T: KindObject>(_ object: T, kind: Kind, current: ObjectMeta?) -> ControllerWrite {
        let key = ObjectKey(kind: kind, namespace: object.metadata.namespace, name: object.metadata.name)
        var body = object
        let write: TypedWrite
        if let current {
            body.metadata.resourceVersion = current.resourceVersion
            body.metadata.uid = current.uid
            write = TypedWrite(verb: .update, kind: kind.name, apiVersion: kind.apiVersion, namespace: key.namespace, name: key.name,
                               body: body.wireJSON, expectedResourceVersion: UInt64(current.resourceVersion))
        } else {
            write = TypedWrite(verb: .create, kind: kind.name, apiVersion: kind.apiVersion, namespace: key.namespace, name: key.name,
                               body: body.wireJSON)
        }
        return ControllerWrite(write, .update(key))
    }
}
