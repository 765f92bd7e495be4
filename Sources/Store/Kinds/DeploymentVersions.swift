import JSON

/// The older versions Deployments are still served at, for manifests written against them
/// (kube-apiserver stopped serving them in 1.16; shoal keeps them so such manifests apply).
/// Each decodes into the apps/v1 shape with its own defaults first; the fields only they
/// had (`spec.rollbackTo`, from the removed rollback feature) are accepted and dropped.
enum DeploymentVersions {
    static let legacy: [ServedVersion] = [extensionsV1beta1, appsV1beta2, appsV1beta1]

    /// extensions/v1beta1: selector and labels from the template; a rolling update of one pod
    /// at a time (maxSurge 1, maxUnavailable 1); every old ReplicaSet kept and no progress
    /// deadline (both MaxInt32).
    static let extensionsV1beta1 = ServedVersion.alias(
        Deployment.self, group: "extensions", version: "v1beta1", kind: "Deployment",
        definition: "io.k8s.api.extensions.v1beta1.Deployment", orphansByDefault: true,
        prepare: dropRollbackTo,
        defaults: { deployment in
            selectorAndLabelsFromTemplate(&deployment)
            if deployment.spec.replicas == nil { deployment.spec.replicas = 1 }
            if deployment.spec.strategy.type.isEmpty { deployment.spec.strategy.type = DeploymentStrategy.rollingUpdate }
            if deployment.spec.strategy.type == DeploymentStrategy.rollingUpdate || deployment.spec.strategy.rollingUpdate != nil {
                var rolling = deployment.spec.strategy.rollingUpdate ?? RollingUpdateDeployment()
                if rolling.maxUnavailable == nil { rolling.maxUnavailable = .int(1) }
                if rolling.maxSurge == nil { rolling.maxSurge = .int(1) }
                deployment.spec.strategy.rollingUpdate = rolling
            }
            if deployment.spec.revisionHistoryLimit == nil { deployment.spec.revisionHistoryLimit = Int32.max }
            if deployment.spec.progressDeadlineSeconds == nil { deployment.spec.progressDeadlineSeconds = Int32.max }
        })

    /// apps/v1beta2: apps/v1's defaults (the selector is required).
    static let appsV1beta2 = ServedVersion.alias(
        Deployment.self, group: "apps", version: "v1beta2", kind: "Deployment",
        definition: "io.k8s.api.apps.v1beta2.Deployment", orphansByDefault: true,
        defaults: { _ in })

    /// apps/v1beta1: selector and labels from the template, two old ReplicaSets kept.
    static let appsV1beta1 = ServedVersion.alias(
        Deployment.self, group: "apps", version: "v1beta1", kind: "Deployment",
        definition: "io.k8s.api.apps.v1beta1.Deployment", orphansByDefault: true,
        prepare: dropRollbackTo,
        defaults: { deployment in
            selectorAndLabelsFromTemplate(&deployment)
            if deployment.spec.revisionHistoryLimit == nil { deployment.spec.revisionHistoryLimit = 2 }
        })

    static func selectorAndLabelsFromTemplate(_ deployment: inout Deployment) {
        let labels = deployment.spec.template.metadata.labels
        guard !labels.isEmpty else { return }
        if deployment.spec.selector == nil { deployment.spec.selector = LabelSelectorSpec(matchLabels: labels) }
        if deployment.metadata.labels.isEmpty { deployment.metadata.labels = labels }
    }

    /// `spec.rollbackTo` (a revision to roll back to) belongs to a feature Kubernetes removed;
    /// it is accepted and dropped, so old manifests that carry it still apply.
    @Sendable static func dropRollbackTo(_ members: inout JSONObject, _ context: inout DecodeContext) {
        guard var spec = members["spec"]?.objectValue, spec["rollbackTo"] != nil else { return }
        spec["rollbackTo"] = nil
        members["spec"] = .object(spec)
    }
}
