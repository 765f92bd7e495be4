import JSON
import Store

/// Rolls a Deployment out through ReplicaSets, as Kubernetes' deployment controller does: one
/// ReplicaSet per pod template (named by the template's hash), RollingUpdate within
/// maxSurge/maxUnavailable or Recreate, revisions and history, pause, and the status and
/// conditions `kubectl rollout status|history|undo` read. Pure: the runner passes the
/// deployment, the sets it controls, their pods, and what is in flight.
public enum DeploymentController {
    public static let revisionAnnotation = "deployment.kubernetes.io/revision"
    public static let desiredReplicasAnnotation = "deployment.kubernetes.io/desired-replicas"
    public static let maxReplicasAnnotation = "deployment.kubernetes.io/max-replicas"
    public static let templateHashLabel = "pod-template-hash"
    /// Annotations of the Deployment that are not copied to its ReplicaSets.
    static let notCopied: Set<String> = ["kubectl.kubernetes.io/last-applied-configuration", revisionAnnotation,
                                         desiredReplicasAnnotation, maxReplicasAnnotation, "deployment.kubernetes.io/revision-history"]

    /// What is in flight for one Deployment: a ReplicaSet create, and writes to its sets.
    public struct Expectations: Hashable, Sendable {
        public var creatingSet = false
        public var writingSets: Set<String> = []
        /// A write of the Deployment's own metadata (its revision annotation).
        public var writingDeployment = false
        public init() {}
        public var isEmpty: Bool { !creatingSet && writingSets.isEmpty && !writingDeployment }
    }

    public static func reconcile(_ deployment: Deployment, sets: [ReplicaSet], pods: [String: [Pod]],
                                 expectations: Expectations, now: MetaTime) -> [ControllerWrite] {
        guard deployment.metadata.deletionTimestamp == nil, expectations.isEmpty else { return [] }
        let hash = templateHash(deployment.spec.template, collisionCount: deployment.status.collisionCount ?? 0)
        let newSet = sets.first { matches($0, deployment) }
        let old = sets.filter { $0.metadata.uid != newSet?.metadata.uid }
        var writes: [ControllerWrite] = []
        let replicas = deployment.spec.replicas ?? 1
        let maxRevision = old.compactMap { revision(of: $0) }.max() ?? 0

        if deployment.spec.paused {
            // Paused: no rollout, but `kubectl scale` still resizes what runs (as Kubernetes does).
            let scaling = scaleWhilePaused(deployment, sets: sets, newSet: newSet)
            if !scaling.isEmpty { return scaling }
            return statusWrite(deployment, sets: sets, newSet: newSet, now: now, progressed: false, event: nil).map { [$0] } ?? []
        }
        guard let newSet else {
            // A set of this name that is not ours or another template: Kubernetes counts a
            // collision and hashes again.
            writes.append(createSet(deployment, hash: hash, revision: maxRevision + 1,
                                    replicas: initialReplicas(deployment, old: old, pods: pods)))
            return writes
        }
        // The set of the current template, brought to the newest revision (a rollback to an
        // old template reuses its set) and to the deployment's annotations.
        let newRevision = revision(of: newSet).flatMap { $0 > maxRevision ? $0 : nil } ?? maxRevision + 1
        if let synced = syncedAnnotations(newSet, deployment, revision: newRevision) {
            return [update(synced)]
        }
        // The Deployment carries its current revision too (kubectl rollout undo patches
        // the annotations it finds there).
        if deployment.metadata.annotations[revisionAnnotation] != String(newRevision) {
            var annotated = deployment
            annotated.metadata.annotations[revisionAnnotation] = String(newRevision)
            let write = TypedWrite(verb: .update, kind: "Deployment", apiVersion: "apps/v1", namespace: deployment.metadata.namespace,
                                   name: deployment.metadata.name, body: annotated.wireJSON,
                                   expectedResourceVersion: UInt64(deployment.metadata.resourceVersion))
            return [ControllerWrite(write, .update(ObjectKey(kind: .deployment, namespace: deployment.metadata.namespace, name: deployment.metadata.name)))]
        }
        var progressed = false
        switch deployment.spec.strategy.type {
        case DeploymentStrategy.recreate:
            let oldActive = old.filter { ($0.spec.replicas ?? 0) > 0 }
            if !oldActive.isEmpty {
                writes += oldActive.map { scaled($0, to: 0, deployment) }
                progressed = true
            } else if old.allSatisfy({ oldPodsGone(pods[$0.metadata.uid] ?? []) }) && (newSet.spec.replicas ?? 0) != replicas {
                writes.append(scaled(newSet, to: replicas, deployment))
                progressed = true
            }
        default:
            let (maxSurge, maxUnavailable) = rollingBounds(deployment)
            // Scale the new set up within the surge, or down to the count.
            let newReplicas = newSet.spec.replicas ?? 0
            if newReplicas > replicas {
                writes.append(scaled(newSet, to: replicas, deployment))
                progressed = true
            } else if newReplicas < replicas {
                let total = sets.reduce(Int32(0)) { $0 + occupied($1, pods) }
                let room = replicas + maxSurge - total
                if room > 0 {
                    writes.append(scaled(newSet, to: newReplicas + min(room, replicas - newReplicas), deployment))
                    progressed = true
                }
            }
            // Scale old sets down while keeping replicas - maxUnavailable available.
            let oldTotal = old.reduce(Int32(0)) { $0 + ($1.spec.replicas ?? 0) }
            if writes.isEmpty && oldTotal > 0 {
                let downs = scaleDownOld(old, newSet: newSet, deployment: deployment, replicas: replicas, maxUnavailable: maxUnavailable)
                writes += downs
                progressed = progressed || !downs.isEmpty
            }
        }
        if writes.isEmpty { writes += cleanUpHistory(deployment, old: old) }
        if let status = statusWrite(deployment, sets: sets, newSet: newSet, now: now, progressed: progressed, event: nil) { writes.append(status) }
        return writes
    }

    // MARK: Templates and revisions

    /// Kubernetes' pod-template-hash: a 32-bit FNV-1a of the template (and the collision
    /// count), written in its safe alphabet (no vowels, no look-alikes).
    public static func templateHash(_ template: PodTemplateSpec, collisionCount: Int32) -> String {
        var hash: UInt32 = 0x811c_9dc5
        var bytes = template.wireJSON.serialized()
        if collisionCount > 0 { bytes += Array(String(collisionCount).utf8) }
        for byte in bytes {
            hash ^= UInt32(byte)
            hash &*= 0x0100_0193
        }
        let alphabet = Array("bcdfghjklmnpqrstvwxz2456789".utf8)
        return String(decoding: String(hash).utf8.map { alphabet[Int($0) % alphabet.count] }, as: UTF8.self)
    }

    /// Whether the set runs the deployment's template (its hash label aside).
    public static func matches(_ set: ReplicaSet, _ deployment: Deployment) -> Bool {
        var template = set.spec.template
        template.metadata.labels[templateHashLabel] = nil
        return template == deployment.spec.template
    }

    public static func revision(of set: ReplicaSet) -> Int64? {
        set.metadata.annotations[revisionAnnotation].flatMap { Int64($0) }
    }

    // MARK: Writes

    static func createSet(_ deployment: Deployment, hash: String, revision: Int64, replicas: Int32) -> ControllerWrite {
        var set = ReplicaSet()
        set.kind = "ReplicaSet"
        set.apiVersion = "apps/v1"
        set.metadata.name = "\(deployment.metadata.name)-\(hash)"
        set.metadata.namespace = deployment.metadata.namespace
        set.metadata.labels = deployment.spec.template.metadata.labels.merging([templateHashLabel: hash]) { _, new in new }
        set.metadata.annotations = annotations(for: deployment, revision: revision)
        set.metadata.ownerReferences = [OwnerReference(apiVersion: "apps/v1", kind: "Deployment", name: deployment.metadata.name,
                                                       uid: deployment.metadata.uid, controller: true, blockOwnerDeletion: true)]
        set.spec.replicas = replicas
        set.spec.minReadySeconds = deployment.spec.minReadySeconds
        var selector = deployment.spec.selector ?? LabelSelectorSpec()
        selector.matchLabels[templateHashLabel] = hash
        set.spec.selector = selector
        set.spec.template = deployment.spec.template
        set.spec.template.metadata.labels[templateHashLabel] = hash
        let write = TypedWrite(verb: .create, kind: "ReplicaSet", apiVersion: "apps/v1", namespace: deployment.metadata.namespace,
                               body: set.wireJSON)
        return ControllerWrite(write, .createReplicaSet(owner: deployment.metadata.uid),
                               event: EventRecord(.normal, "ScalingReplicaSet", "Scaled up replica set \(set.metadata.name) from 0 to \(replicas)",
                                                  component: "deployment-controller",
                                                  about: EventRecord.reference("Deployment", apiVersion: "apps/v1", deployment.metadata)))
    }

    /// The deployment's annotations a set carries, with its revision and the counts.
    static func annotations(for deployment: Deployment, revision: Int64) -> [String: String] {
        var result = deployment.metadata.annotations.filter { !notCopied.contains($0.key) }
        result[revisionAnnotation] = String(revision)
        let replicas = deployment.spec.replicas ?? 1
        result[desiredReplicasAnnotation] = String(replicas)
        result[maxReplicasAnnotation] = String(replicas + rollingBounds(deployment).maxSurge)
        return result
    }

    /// The new set with the revision and the deployment's annotations, if they differ.
    static func syncedAnnotations(_ set: ReplicaSet, _ deployment: Deployment, revision: Int64) -> ReplicaSet? {
        var wanted = set.metadata.annotations.filter { notCopied.contains($0.key) || deployment.metadata.annotations[$0.key] != nil }
        for (key, value) in annotations(for: deployment, revision: revision) { wanted[key] = value }
        guard wanted != set.metadata.annotations else { return nil }
        var updated = set
        updated.metadata.annotations = wanted
        return updated
    }

    /// The sets of a paused Deployment resized to its replicas, when they were sized for
    /// another count (their desired-replicas annotation says which): one active set takes the
    /// count; several (paused mid-rollout) share the change in proportion to their sizes, the
    /// rest going to the largest — Kubernetes' proportional scaling.
    static func scaleWhilePaused(_ deployment: Deployment, sets: [ReplicaSet], newSet: ReplicaSet?) -> [ControllerWrite] {
        let replicas = deployment.spec.replicas ?? 1
        let active = sets.filter { ($0.spec.replicas ?? 0) > 0 }
        guard active.contains(where: { $0.metadata.annotations[desiredReplicasAnnotation] != String(replicas) }) || active.isEmpty else {
            return []
        }
        if active.count <= 1 {
            let newest = sets.max { (revision(of: $0) ?? 0) < (revision(of: $1) ?? 0) }
            guard let target = active.first ?? newSet ?? newest, (target.spec.replicas ?? 0) != replicas else { return [] }
            return [scaled(target, to: replicas, deployment)]
        }
        let allowed = deployment.spec.strategy.type == DeploymentStrategy.recreate ? replicas : replicas + rollingBounds(deployment).maxSurge
        let total = active.reduce(Int32(0)) { $0 + ($1.spec.replicas ?? 0) }
        let delta = allowed - total
        guard delta != 0, total > 0 else { return [] }
        // Largest first (newest first among equals): the rounding remainder goes to the first.
        let ordered = active.sorted {
            ($0.spec.replicas ?? 0) != ($1.spec.replicas ?? 0) ? ($0.spec.replicas ?? 0) > ($1.spec.replicas ?? 0)
                : (revision(of: $0) ?? 0) > (revision(of: $1) ?? 0)
        }
        var shares = ordered.map { Int32((Int64($0.spec.replicas ?? 0) * Int64(delta)) / Int64(total)) }
        shares[0] += delta - shares.reduce(0, +)
        return zip(ordered, shares).compactMap { set, share in
            share == 0 ? nil : scaled(set, to: (set.spec.replicas ?? 0) + share, deployment)
        }
    }

    static func scaled(_ set: ReplicaSet, to replicas: Int32, _ deployment: Deployment) -> ControllerWrite {
        var updated = set
        updated.spec.replicas = max(0, replicas)
        updated.metadata.annotations[desiredReplicasAnnotation] = String(deployment.spec.replicas ?? 1)
        updated.metadata.annotations[maxReplicasAnnotation] = String((deployment.spec.replicas ?? 1) + rollingBounds(deployment).maxSurge)
        var write = update(updated)
        let from = set.spec.replicas ?? 0
        write.event = EventRecord(.normal, "ScalingReplicaSet",
                                  "Scaled \(replicas > from ? "up" : "down") replica set \(set.metadata.name) from \(from) to \(max(0, replicas))",
                                  component: "deployment-controller",
                                  about: EventRecord.reference("Deployment", apiVersion: "apps/v1", deployment.metadata))
        return write
    }

    /// Writes a set's spec and metadata over the version read.
    static func update(_ set: ReplicaSet) -> ControllerWrite {
        let write = TypedWrite(verb: .update, kind: "ReplicaSet", apiVersion: "apps/v1", namespace: set.metadata.namespace,
                               name: set.metadata.name, body: set.wireJSON, expectedResourceVersion: UInt64(set.metadata.resourceVersion))
        return ControllerWrite(write, .update(ObjectKey(kind: .replicaSet, namespace: set.metadata.namespace, name: set.metadata.name)))
    }

    // MARK: Rolling update arithmetic

    /// maxSurge and maxUnavailable as pod counts: percentages of replicas, the surge rounded
    /// up and the unavailability down; both zero would stall, so unavailability becomes 1.
    public static func rollingBounds(_ deployment: Deployment) -> (maxSurge: Int32, maxUnavailable: Int32) {
        guard deployment.spec.strategy.type != DeploymentStrategy.recreate else { return (0, deployment.spec.replicas ?? 1) }
        let replicas = deployment.spec.replicas ?? 1
        let rolling = deployment.spec.strategy.rollingUpdate
        let surge = resolve(rolling?.maxSurge ?? .string("25%"), of: replicas, roundUp: true)
        var unavailable = resolve(rolling?.maxUnavailable ?? .string("25%"), of: replicas, roundUp: false)
        if surge == 0 && unavailable == 0 { unavailable = 1 }
        return (surge, min(unavailable, replicas))
    }

    static func resolve(_ value: IntOrString, of total: Int32, roundUp: Bool) -> Int32 {
        switch value {
        case .int(let count): return max(0, count)
        case .string(let text):
            guard text.hasSuffix("%"), let percent = Int64(text.dropLast()) else { return 0 }
            let scaled = Int64(total) * percent
            return Int32(roundUp ? (scaled + 99) / 100 : scaled / 100)
        }
    }

    /// The replicas a new set starts with: none for RollingUpdate (it grows within the surge),
    /// none for Recreate (it grows once the old pods are gone).
    static func initialReplicas(_ deployment: Deployment, old: [ReplicaSet], pods: [String: [Pod]] = [:]) -> Int32 {
        guard deployment.spec.strategy.type != DeploymentStrategy.recreate else { return 0 }
        let replicas = deployment.spec.replicas ?? 1
        let (maxSurge, _) = rollingBounds(deployment)
        let total = old.reduce(Int32(0)) { $0 + occupied($1, pods) }
        return max(0, min(replicas, replicas + maxSurge - total))
    }

    /// What a set takes of the surge: its replicas, or its active pods while it still has more
    /// (a set scaled down deletes its surplus in its own pass, which may come later: counting
    /// only replicas let the new set grow while those pods still ran — the simulator saw 6
    /// pods for 3 replicas and a surge of 1).
    static func occupied(_ set: ReplicaSet, _ pods: [String: [Pod]]) -> Int32 {
        let active = Int32(pods[set.metadata.uid]?.filter(ReplicaSetController.isActive).count ?? 0)
        return max(set.spec.replicas ?? 0, active)
    }

    /// Old sets scaled down, oldest first: first their unavailable pods (they do not count
    /// toward availability), then available ones down to replicas - maxUnavailable available.
    static func scaleDownOld(_ old: [ReplicaSet], newSet: ReplicaSet, deployment: Deployment, replicas: Int32,
                             maxUnavailable: Int32) -> [ControllerWrite] {
        let all = old + [newSet]
        let total = all.reduce(Int32(0)) { $0 + ($1.spec.replicas ?? 0) }
        let minAvailable = replicas - maxUnavailable
        let newUnavailable = max(0, (newSet.spec.replicas ?? 0) - newSet.status.availableReplicas)
        var budget = total - minAvailable - newUnavailable
        guard budget > 0 else { return [] }
        let ordered = old.filter { ($0.spec.replicas ?? 0) > 0 }.sorted { (revision(of: $0) ?? 0, $0.metadata.name) < (revision(of: $1) ?? 0, $1.metadata.name) }
        var targets: [String: Int32] = [:]
        for set in ordered where budget > 0 {
            let current = set.spec.replicas ?? 0
            let unhealthy = max(0, current - set.status.availableReplicas)
            let cut = min(unhealthy, budget)
            if cut > 0 {
                targets[set.metadata.uid] = current - cut
                budget -= cut
            }
        }
        let available = all.reduce(Int32(0)) { $0 + $1.status.availableReplicas }
        var surplus = min(available - minAvailable, budget)
        for set in ordered where surplus > 0 {
            let current = targets[set.metadata.uid] ?? set.spec.replicas ?? 0
            let cut = min(current, surplus)
            if cut > 0 {
                targets[set.metadata.uid] = current - cut
                surplus -= cut
            }
        }
        return ordered.compactMap { set in targets[set.metadata.uid].map { scaled(set, to: $0, deployment) } }
    }

    /// No pod of an old set still runs or is stopping (Recreate waits for this).
    static func oldPodsGone(_ pods: [Pod]) -> Bool { pods.allSatisfy(\.isTerminal) }

    /// Old sets scaled to zero beyond `revisionHistoryLimit`, oldest first, deleted.
    static func cleanUpHistory(_ deployment: Deployment, old: [ReplicaSet]) -> [ControllerWrite] {
        let limit = Int(deployment.spec.revisionHistoryLimit ?? 10)
        let idle = old.filter { ($0.spec.replicas ?? 0) == 0 && $0.status.replicas == 0 && $0.metadata.deletionTimestamp == nil }
            .sorted { (revision(of: $0) ?? 0, $0.metadata.name) < (revision(of: $1) ?? 0, $1.metadata.name) }
        guard idle.count > limit else { return [] }
        return idle.prefix(idle.count - limit).map { set in
            let write = TypedWrite(verb: .delete, kind: "ReplicaSet", apiVersion: "apps/v1", namespace: set.metadata.namespace,
                                   name: set.metadata.name, expectedUID: set.metadata.uid)
            return ControllerWrite(write, .update(ObjectKey(kind: .replicaSet, namespace: set.metadata.namespace, name: set.metadata.name)))
        }
    }

    // MARK: Status

    /// The status `kubectl rollout status` reads, written when it changed, over the version read.
    static func statusWrite(_ deployment: Deployment, sets: [ReplicaSet], newSet: ReplicaSet?, now: MetaTime,
                            progressed: Bool, event: String?) -> ControllerWrite? {
        let replicas = deployment.spec.replicas ?? 1
        var status = deployment.status
        status.observedGeneration = deployment.metadata.generation
        status.replicas = sets.reduce(0) { $0 + $1.status.replicas }
        status.updatedReplicas = newSet?.status.replicas ?? 0
        status.readyReplicas = sets.reduce(0) { $0 + $1.status.readyReplicas }
        status.availableReplicas = sets.reduce(0) { $0 + $1.status.availableReplicas }
        status.unavailableReplicas = max(0, sets.reduce(Int32(0)) { $0 + ($1.spec.replicas ?? 0) } - status.availableReplicas)
        let (_, maxUnavailable) = rollingBounds(deployment)
        if status.availableReplicas >= replicas - maxUnavailable {
            set(&status, DeploymentCondition(type: "Available", status: "True", reason: "MinimumReplicasAvailable",
                                             message: "Deployment has minimum availability.", now: now))
        } else {
            set(&status, DeploymentCondition(type: "Available", status: "False", reason: "MinimumReplicasUnavailable",
                                             message: "Deployment does not have minimum availability.", now: now))
        }
        let setName = newSet.map { "ReplicaSet \"\($0.metadata.name)\"" } ?? "ReplicaSet"
        let complete = newSet != nil && status.updatedReplicas == replicas && status.replicas == replicas
            && status.availableReplicas == replicas
        let previous = deployment.status.condition("Progressing")
        if deployment.spec.paused {
            set(&status, DeploymentCondition(type: "Progressing", status: "Unknown", reason: "DeploymentPaused",
                                             message: "Deployment is paused", now: now))
        } else if complete {
            set(&status, DeploymentCondition(type: "Progressing", status: "True", reason: "NewReplicaSetAvailable",
                                             message: "\(setName) has successfully progressed.", now: now))
        } else if progressed || previous == nil || previous?.reason == "DeploymentPaused" || countsMoved(deployment.status, status) {
            set(&status, DeploymentCondition(type: "Progressing", status: "True", reason: "ReplicaSetUpdated",
                                             message: "\(setName) is progressing.", now: now), touch: true)
        } else if let previous, previous.reason != "ProgressDeadlineExceeded", let deadline = deployment.spec.progressDeadlineSeconds,
                  let since = previous.lastUpdateTime, now.unixSeconds - since.unixSeconds > Int64(deadline) {
            set(&status, DeploymentCondition(type: "Progressing", status: "False", reason: "ProgressDeadlineExceeded",
                                             message: "\(setName) has timed out progressing.", now: now))
        }
        guard status != deployment.status, let version = UInt64(deployment.metadata.resourceVersion) else { return nil }
        var updated = deployment
        updated.status = status
        let write = TypedWrite(verb: .update, kind: "Deployment", apiVersion: "apps/v1", namespace: deployment.metadata.namespace,
                               name: deployment.metadata.name, subresource: .status, body: updated.wireJSON, expectedResourceVersion: version)
        return ControllerWrite(write, .status(ObjectKey(kind: .deployment, namespace: deployment.metadata.namespace, name: deployment.metadata.name)))
    }

    /// Pods moved since the last status: the rollout is progressing.
    static func countsMoved(_ old: DeploymentStatus, _ new: DeploymentStatus) -> Bool {
        old.updatedReplicas != new.updatedReplicas || old.availableReplicas != new.availableReplicas
            || old.readyReplicas != new.readyReplicas || old.replicas != new.replicas
    }

    /// Replaces a condition; its transition time moves only when its status changes, its
    /// update time when anything changes (or when `touch` says progress was made).
    static func set(_ status: inout DeploymentStatus, _ condition: DeploymentCondition, touch: Bool = false) {
        var condition = condition
        if let old = status.condition(condition.type) {
            if old.status == condition.status { condition.lastTransitionTime = old.lastTransitionTime }
            if old.status == condition.status && old.reason == condition.reason && old.message == condition.message && !touch {
                return
            }
        }
        status.conditions.removeAll { $0.type == condition.type }
        status.conditions.append(condition)
        status.conditions.sort { ($0.type == "Available" ? 0 : 1) < ($1.type == "Available" ? 0 : 1) }
    }
}
