import JSON
import Store

extension TablePrinter {
    /// Deployments: Name, Ready ("ready/desired"), Up-to-date, Available, Age; with
    /// `-o wide` the template's Containers and Images and the Selector.
    static let deployment = TablePrinter.typed(
        Deployment.self,
        columns: [
            .name,
            TableColumn("Ready", "Ready pods of the desired number."),
            // Declared as strings, sent as integers: as kube-apiserver does.
            TableColumn("Up-to-date", "Pods running the current template."),
            TableColumn("Available", "Pods ready for at least minReadySeconds."),
            .age,
            TableColumn.containers,
            TableColumn.images,
            TableColumn.selector,
        ],
        cells: { deployment, object, now in
            [
                .string(object.key.name),
                .string("\(deployment.status.readyReplicas)/\(deployment.desiredReplicas)"),
                .int(Int64(deployment.status.updatedReplicas)),
                .int(Int64(deployment.status.availableReplicas)),
                TableCells.age(of: object, now: now),
            ] + TableCells.template(deployment.spec.template, selector: deployment.spec.selector)
        })

    /// ReplicaSets: Name, Desired, Current, Ready, Age; with `-o wide` Containers, Images and
    /// Selector (with its pod-template-hash).
    static let replicaSet = TablePrinter.typed(
        ReplicaSet.self,
        columns: [
            .name,
            TableColumn("Desired", type: "integer", "Pods wanted (spec.replicas)."),
            TableColumn("Current", type: "integer", "Pods that exist (status.replicas)."),
            TableColumn("Ready", type: "integer", "Pods that are ready."),
            .age,
            TableColumn.containers,
            TableColumn.images,
            TableColumn.selector,
        ],
        cells: { replicaSet, object, now in
            [
                .string(object.key.name),
                .int(Int64(replicaSet.desiredReplicas)),
                .int(Int64(replicaSet.status.replicas)),
                .int(Int64(replicaSet.status.readyReplicas)),
                TableCells.age(of: object, now: now),
            ] + TableCells.template(replicaSet.spec.template, selector: replicaSet.spec.selector)
        })
}

extension TableColumn {
    /// The wide columns of controllers of pods.
    static let containers = TableColumn("Containers", priority: 1, "The pod template's container names.")
    static let images = TableColumn("Images", priority: 1, "The pod template's container images.")
    static let selector = TableColumn("Selector", priority: 1, "The label selector of the pods.")
}

extension TableCells {
    /// Containers, Images and Selector of a controller of pods.
    static func template(_ template: PodTemplateSpec, selector spec: LabelSelectorSpec?) -> [JSONValue] {
        [
            .string(template.spec.containers.map(\.name).joined(separator: ",")),
            .string(template.spec.containers.map(\.image).joined(separator: ",")),
            .string(selector(spec)),
        ]
    }
}
