import JSON
import Store

extension TablePrinter {
    /// Nodes: Name, Status (Ready, NotReady or Unknown, then ",SchedulingDisabled" when
    /// cordoned), Roles, Age, Version; with `-o wide` Internal-IP, External-IP, OS-Image,
    /// Kernel-Version and Container-Runtime.
    static let node = TablePrinter.typed(
        Node.self,
        columns: [
            .name,
            TableColumn("Status", "Ready, NotReady or Unknown, and SchedulingDisabled when cordoned."),
            TableColumn("Roles", "The roles its node-role.kubernetes.io labels give it."),
            .age,
            TableColumn("Version", "The node agent's version."),
            TableColumn("Internal-IP", priority: 1, "The node's first internal address."),
            TableColumn("External-IP", priority: 1, "The node's first external address."),
            TableColumn("OS-Image", priority: 1, "The operating system's name."),
            TableColumn("Kernel-Version", priority: 1, "The kernel release."),
            TableColumn("Container-Runtime", priority: 1, "The container runtime and its version."),
        ],
        cells: { node, object, now in
            let info = node.status.nodeInfo
            return [
                .string(object.key.name),
                .string(TableCells.nodeStatus(node)),
                .string(TableCells.nodeRoles(node.metadata.labels)),
                TableCells.age(of: object, now: now),
                .string(info.kubeletVersion),
                .string(node.address(NodeAddress.internalIP) ?? TableCells.none),
                .string(node.address(NodeAddress.externalIP) ?? TableCells.none),
                .string(TableCells.or(info.osImage, TableCells.unknown)),
                .string(TableCells.or(info.kernelVersion, TableCells.unknown)),
                .string(TableCells.or(info.containerRuntimeVersion, TableCells.unknown)),
            ]
        })

    /// Events (core/v1; events.k8s.io reads the same stored form): Last Seen, Type, Reason,
    /// Object ("pod/web-1"), Message; with `-o wide` also Subobject, Source, First Seen,
    /// Count and Name, in kube-apiserver's column order.
    static let event = TablePrinter.typed(
        Event.self,
        columns: [
            TableColumn("Last Seen", "How long ago it last happened."),
            TableColumn("Type", "Normal or Warning."),
            TableColumn("Reason", "Why, in CamelCase."),
            TableColumn("Object", "The object it is about, as kind/name."),
            TableColumn("Subobject", priority: 1, "The part of the object (e.g. a container's field path)."),
            TableColumn("Source", priority: 1, "Who reported it (component, host)."),
            TableColumn("Message", "What happened, for people."),
            TableColumn("First Seen", priority: 1, "How long ago it first happened."),
            // Declared as a string, sent as an integer: as kube-apiserver does.
            TableColumn("Count", priority: 1, "How many times it happened."),
            TableColumn("Name", format: "name", priority: 1, "The event's name."),
        ],
        cells: { event, object, now in
            let firstSeen = event.firstTimestamp != nil
                ? TableCells.age(event.firstTimestamp, now: now) : TableCells.age(event.eventTime, now: now)
            var lastSeen = event.lastTimestamp != nil ? TableCells.age(event.lastTimestamp, now: now) : firstSeen
            var count = event.count == 0 ? 1 : event.count
            if let series = event.series {
                lastSeen = TableCells.age(series.lastObservedTime, now: now)
                count = series.count
            }
            let kind = event.involvedObject.kind.lowercased()
            let target = event.involvedObject.name.isEmpty ? kind : "\(kind)/\(event.involvedObject.name)"
            let component = TableCells.or(event.source.component, event.reportingComponent)
            let instance = TableCells.or(event.source.host, event.reportingInstance)
            return [
                .string(lastSeen),
                .string(event.type),
                .string(event.reason),
                .string(target),
                .string(event.involvedObject.fieldPath),
                .string(instance.isEmpty ? component : "\(component), \(instance)"),
                .string(TableCells.trimmed(event.message)),
                .string(firstSeen),
                .int(Int64(count)),
                .string(object.key.name),
            ]
        })

    /// Leases: Name, Holder, Age.
    static let lease = TablePrinter.typed(
        Lease.self,
        columns: [.name, TableColumn("Holder", "Who holds the lease."), .age],
        cells: { lease, object, now in
            [.string(object.key.name), .string(lease.spec.holderIdentity ?? ""), TableCells.age(of: object, now: now)]
        })
}

extension TableCells {
    /// The label whose value is a node's role, and the prefix of keys that name one.
    static let nodeRoleLabel = "kubernetes.io/role"
    static let nodeRolePrefix = "node-role.kubernetes.io/"

    /// Ready or NotReady from the Ready condition (Unknown without one), then
    /// SchedulingDisabled when the node is cordoned, joined by ",".
    static func nodeStatus(_ node: Node) -> String {
        var parts: [String] = []
        if let ready = node.condition(NodeCondition.ready) {
            parts.append(ready.status == "True" ? "Ready" : "NotReady")
        } else {
            parts.append("Unknown")
        }
        if node.spec.unschedulable { parts.append("SchedulingDisabled") }
        return parts.joined(separator: ",")
    }

    /// A node's roles, from `node-role.kubernetes.io/<role>` keys and the
    /// `kubernetes.io/role` value, sorted, once each, joined by ","; "<none>" without any.
    static func nodeRoles(_ labels: [String: String]) -> String {
        var roles: Set<String> = []
        for (key, value) in labels {
            if key.hasPrefix(nodeRolePrefix) {
                let role = String(key.dropFirst(nodeRolePrefix.count))
                if !role.isEmpty { roles.insert(role) }
            } else if key == nodeRoleLabel && !value.isEmpty {
                roles.insert(value)
            }
        }
        return or(roles.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }.joined(separator: ","), none)
    }

    /// `text` without leading and trailing whitespace (spaces, tabs, newlines).
    static func trimmed(_ text: String) -> String {
        let isSpace: (Character) -> Bool = { $0.isWhitespace }
        guard let first = text.firstIndex(where: { !isSpace($0) }), let last = text.lastIndex(where: { !isSpace($0) }) else { return "" }
        return String(text[first...last])
    }
}
