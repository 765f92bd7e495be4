import Controllers
import JSON
import SimKit
import Store

// Commands of the controller scenario scripts (testdata/*.txt here; the file format is
// SimKit's, Sources/SimKit/Scenario.swift). Names are the objects' names in namespace
// "default"; `[...]` is optional.
//
//   node n1 [cpu=2] [memory=4Gi]   register a Ready node (its kubelet answers until `kill`)
//   deploy web replicas=4 image=app:1 [surge=25%] [unavailable=25%] [strategy=Recreate]
//          [min-ready=0]            create an apps/v1 Deployment (pods ask for 100m cpu)
//   set-image web app:2             change the template's image (`kubectl set image`)
//   scale web 6                     change replicas (`kubectl scale`)
//   pause web | resume web          `kubectl rollout pause|resume`
//   undo web [revision=N]           `kubectl rollout undo`: the template of revision N (the
//                                   one before the current by default) back in the Deployment
//   pass [n=1]                      n passes of every controller: each write, one per line
//   kubelets [ready=false]          the kubelets of live nodes start bound pods (Running and
//                                   Ready unless ready=false) and finish pods being deleted
//   settle                          passes and kubelets until neither does anything (at most
//                                   40 rounds; prints `settled after N rounds`)
//   kill n2 | revive n2             node n2 stops (starts again) being heard from
//   broken web:2                    containers of that image start but never become ready
//   advance 1500ms | advance 3s     the clock moves
//   pods                            every pod: name, node, phase, ready, owner
//   sets web                        the Deployment's ReplicaSets: revision, replicas, ready
//   rollout web                     its status as `kubectl rollout status` reads it
//
// OUTPUT of a pass, one line per write: `create pod P`, `bind pod P to N`, `delete pod P`,
// `evict pod P`, `create rs R replicas=K`, `scale rs R A->B`, `update rs R (annotations)`, `update deployment D`,
// `update node N taints=... podCIDR=...`, `status rs|deployment ...`, `status pod P Ready=False (...)`,
// `status node N Ready=...`; ` -> CODE` follows a write the store refused.

struct ControllerScenarioRunner {
    var world = ControllerWorld()

    mutating func run(_ line: String, lineNumber: Int) throws(ScenarioError) -> [String] {
        let words = line.split(separator: " ").map(String.init)
        guard let command = words.first else { throw ScenarioError(line: lineNumber, "empty command") }
        var positional: [String] = []
        var options: [String: String] = [:]
        for word in words.dropFirst() {
            if let eq = word.firstIndex(of: "=") {
                options[String(word[..<eq])] = String(word[word.index(after: eq)...])
            } else {
                positional.append(word)
            }
        }
        func argument(_ i: Int, _ what: String) throws(ScenarioError) -> String {
            guard i < positional.count else { throw ScenarioError(line: lineNumber, "\(command): missing \(what)") }
            return positional[i]
        }
        switch command {
        case "node":
            let name = try argument(0, "node name")
            return check(world.apply(Self.nodeWrite(name, cpu: options["cpu"] ?? "2", memory: options["memory"] ?? "4Gi")))
        case "deploy":
            let name = try argument(0, "deployment name")
            return check(world.apply(Self.deploymentWrite(name, options: options)))
        case "set-image":
            let name = try argument(0, "deployment name")
            let image = try argument(1, "image")
            return check(world.apply(Self.patch(name, ["spec": ["template": ["spec": ["containers": [["name": "app", "image": .string(image)]]]]]])))
        case "scale":
            let name = try argument(0, "deployment name")
            guard let replicas = Int64(try argument(1, "replicas")) else { throw ScenarioError(line: lineNumber, "scale: replicas must be a number") }
            return check(world.apply(Self.patch(name, ["spec": ["replicas": .int(replicas)]])))
        case "pause", "resume":
            let name = try argument(0, "deployment name")
            return check(world.apply(Self.patch(name, ["spec": ["paused": .bool(command == "pause")]])))
        case "undo":
            return try undo(try argument(0, "deployment name"), revision: options["revision"].flatMap { Int64($0) }, line: lineNumber)
        case "pass":
            let rounds = Int(options["n"] ?? "1") ?? 1
            var lines: [String] = []
            for _ in 0..<rounds {
                let pass = world.pass()
                lines += pass.writes.map { describe($0.0, $0.1, before: pass.before) }
            }
            return lines.isEmpty ? ["ok"] : lines
        case "kubelets":
            let lines = world.kubelets(ready: options["ready"] != "false")
            return lines.isEmpty ? ["ok"] : lines
        case "settle":
            var lines: [String] = []
            for round in 1...40 {
                let pass = world.pass()
                let writes = pass.writes.map { describe($0.0, $0.1, before: pass.before) }
                let actions = world.kubelets()
                lines += writes + actions
                if writes.isEmpty && actions.isEmpty { return lines + ["settled after \(round) rounds"] }
            }
            return lines + ["error: not settled after 40 rounds"]
        case "broken":
            world.brokenImages.insert(try argument(0, "image"))
            return ["ok"]
        case "kill":
            world.silence(try argument(0, "node name"))
            return ["ok"]
        case "revive":
            world.revive(try argument(0, "node name"))
            return ["ok"]
        case "advance":
            let text = try argument(0, "duration")
            let milliseconds: Int64?
            if text.hasSuffix("ms") { milliseconds = Int64(text.dropLast(2)) } else if text.hasSuffix("s") { milliseconds = Int64(text.dropLast()).map { $0 * 1_000 } } else { milliseconds = nil }
            guard let milliseconds else { throw ScenarioError(line: lineNumber, "advance: a duration like 1500ms or 3s") }
            world.advance(milliseconds: milliseconds)
            return ["ok"]
        case "pods":
            let pods = world.cache.pods.sorted { $0.key < $1.key }.map(\.value)
            return pods.isEmpty ? ["no pods"] : pods.map { pod in
                let node = pod.spec.nodeName.isEmpty ? "-" : pod.spec.nodeName
                let owner = pod.metadata.ownerReferences.first?.name ?? "-"
                return "\(pod.metadata.name) node=\(node) \(pod.isTerminating ? "Terminating" : pod.status.phase) ready=\(pod.isReady) rs=\(owner)"
            }
        case "sets":
            let name = try argument(0, "deployment name")
            guard let deployment = world.cache.deployments[ObjectKey(kind: .deployment, namespace: "default", name: name)] else {
                return ["error: no deployment \(name)"]
            }
            let sets = world.cache.replicaSets(controlledBy: deployment.metadata.uid)
                .sorted { (DeploymentController.revision(of: $0) ?? 0) < (DeploymentController.revision(of: $1) ?? 0) }
            return sets.isEmpty ? ["no sets"] : sets.map { set in
                let image = set.spec.template.spec.containers.first?.image ?? "-"
                return "\(set.metadata.name) revision=\(DeploymentController.revision(of: set) ?? 0) image=\(image) replicas=\(set.spec.replicas ?? 0) "
                    + "ready=\(set.status.readyReplicas) available=\(set.status.availableReplicas)"
            }
        case "rollout":
            let name = try argument(0, "deployment name")
            guard let deployment = world.cache.deployments[ObjectKey(kind: .deployment, namespace: "default", name: name)] else {
                return ["error: no deployment \(name)"]
            }
            return [Self.deploymentStatus(deployment)]
        default:
            throw ScenarioError(line: lineNumber, "unknown command \(command)")
        }
    }

    /// `kubectl rollout undo`: the template of the set with that revision (default: the
    /// highest below the current one), without its pod-template-hash label, in the Deployment.
    private mutating func undo(_ name: String, revision: Int64?, line: Int) throws(ScenarioError) -> [String] {
        guard let deployment = world.cache.deployments[ObjectKey(kind: .deployment, namespace: "default", name: name)] else {
            return ["error: no deployment \(name)"]
        }
        let sets = world.cache.replicaSets(controlledBy: deployment.metadata.uid)
        let current = deployment.metadata.annotations[DeploymentController.revisionAnnotation].flatMap { Int64($0) } ?? 0
        let target = revision ?? sets.compactMap(DeploymentController.revision(of:)).filter { $0 < current }.max()
        guard let target, let set = sets.first(where: { DeploymentController.revision(of: $0) == target }) else {
            return ["error: no revision to roll back to"]
        }
        var updated = deployment
        updated.spec.template = set.spec.template
        updated.spec.template.metadata.labels[DeploymentController.templateHashLabel] = nil
        return check(world.apply(TypedWrite(verb: .update, kind: "Deployment", apiVersion: "apps/v1", namespace: "default", name: name,
                                            body: updated.wireJSON, expectedResourceVersion: UInt64(deployment.metadata.resourceVersion))))
    }

    private func check(_ result: StoreResult) -> [String] {
        (200..<300).contains(result.httpStatus) ? ["ok"] : ["error: \(result.httpStatus) \(result)"]
    }

    // MARK: Writes the script makes

    static func nodeWrite(_ name: String, cpu: String, memory: String) -> TypedWrite {
        let resources: JSONValue = ["cpu": .string(cpu), "memory": .string(memory), "pods": "110"]
        let body: JSONValue = [
            "apiVersion": "v1", "kind": "Node", "metadata": ["name": .string(name)],
            "status": ["capacity": resources, "allocatable": resources,
                       "conditions": [["type": "Ready", "status": "True", "reason": "KubeletReady"]]],
        ]
        return TypedWrite(verb: .create, kind: "Node", apiVersion: "v1", name: name, body: body)
    }

    static func deploymentWrite(_ name: String, options: [String: String]) -> TypedWrite {
        func intOrPercent(_ text: String) -> JSONValue { text.hasSuffix("%") ? .string(text) : .int(Int64(text) ?? 0) }
        var strategy: JSONValue = ["type": "RollingUpdate", "rollingUpdate": [
            "maxSurge": intOrPercent(options["surge"] ?? "25%"), "maxUnavailable": intOrPercent(options["unavailable"] ?? "25%"),
        ]]
        if options["strategy"] == "Recreate" { strategy = ["type": "Recreate"] }
        let body: JSONValue = [
            "apiVersion": "apps/v1", "kind": "Deployment", "metadata": ["name": .string(name), "namespace": "default"],
            "spec": [
                "replicas": .int(Int64(options["replicas"] ?? "1") ?? 1),
                "minReadySeconds": .int(Int64(options["min-ready"] ?? "0") ?? 0),
                "selector": ["matchLabels": ["app": .string(name)]],
                "strategy": strategy,
                "template": ["metadata": ["labels": ["app": .string(name)]],
                             "spec": ["containers": [["name": "app", "image": .string(options["image"] ?? "app:1"),
                                                      "resources": ["requests": ["cpu": "100m"]]]]]],
            ],
        ]
        return TypedWrite(verb: .create, kind: "Deployment", apiVersion: "apps/v1", namespace: "default", body: body)
    }

    static func patch(_ name: String, _ patch: JSONValue) -> TypedWrite {
        TypedWrite(verb: .patch, kind: "Deployment", apiVersion: "apps/v1", namespace: "default", name: name, body: patch,
                   patchType: .strategic)
    }

    // MARK: Output

    private func describe(_ write: ControllerWrite, _ result: StoreResult, before: ClusterCache) -> String {
        let failure = ControllerWorld.failure(result)
        var stored: StoredObject?
        switch result {
        case .created(let object), .updated(let object): stored = object
        default: break
        }
        let name = write.write.name
        switch write.effect {
        case .createPod:
            return "create pod \(stored?.key.name ?? "?")" + failure
        case .deletePod:
            return "delete pod \(name)" + failure
        case .bind(let pod, let node):
            return "bind pod \(pod.name) to \(node)" + failure
        case .createReplicaSet:
            let set = stored.flatMap { ReplicaSet($0) }
            return "create rs \(stored?.key.name ?? "?") replicas=\(set?.spec.replicas ?? 0)" + failure
        case .update(let key):
            if write.write.verb == .delete { return "evict pod \(key.name)" + failure }
            switch key.kind {
            case .replicaSet:
                let replicas = write.write.body?[path: ["spec", "replicas"]]?.intValue
                let old = before.replicaSets[key]?.spec.replicas.map(Int64.init)
                if let replicas, let old, replicas != old { return "scale rs \(key.name) \(old)->\(replicas)" + failure }
                return "update rs \(key.name) (annotations)" + failure
            case .node:
                let node = stored.flatMap { Node($0) }
                let taints = node?.spec.taints.map { "\($0.key):\($0.effect)" }.joined(separator: ",") ?? ""
                let range = node.map { $0.spec.podCIDR.isEmpty ? "" : " podCIDR=\($0.spec.podCIDR)" } ?? ""
                return "update node \(key.name) taints=[\(taints)]\(range)" + failure
            default:
                return "update \(key.kind.name.lowercased()) \(key.name)" + failure
            }
        case .status(let key):
            switch key.kind {
            case .replicaSet:
                let set = stored.flatMap { ReplicaSet($0) }
                return "status rs \(key.name) replicas=\(set?.status.replicas ?? 0) ready=\(set?.status.readyReplicas ?? 0) "
                    + "available=\(set?.status.availableReplicas ?? 0)" + failure
            case .deployment:
                return "status " + (stored.flatMap { Deployment($0) }.map(Self.deploymentStatus) ?? "deployment \(key.name)") + failure
            case .pod:
                let pod = stored.flatMap { Pod($0) }
                let conditions = pod?.status.conditions.filter { $0.status != "True" }
                    .map { "\($0.type)=\($0.status) (\($0.reason))" }.joined(separator: " ") ?? ""
                return "status pod \(key.name) \(conditions)" + failure
            case .node:
                let node = stored.flatMap { Node($0) }
                return "status node \(key.name) Ready=\(node?.condition(NodeCondition.ready)?.status ?? "?")" + failure
            default:
                return "status \(key.kind.name.lowercased()) \(key.name)" + failure
            }
        }
    }

    /// What `kubectl rollout status` reads: revision, counts and conditions.
    static func deploymentStatus(_ deployment: Deployment) -> String {
        let status = deployment.status
        let revision = deployment.metadata.annotations[DeploymentController.revisionAnnotation] ?? "-"
        let conditions = status.conditions.map { "\($0.type)=\($0.status)/\($0.reason)" }.sorted().joined(separator: " ")
        return "deployment \(deployment.metadata.name) revision=\(revision) generation=\(deployment.metadata.generation) "
            + "observed=\(status.observedGeneration) replicas=\(status.replicas) updated=\(status.updatedReplicas) "
            + "ready=\(status.readyReplicas) available=\(status.availableReplicas) unavailable=\(status.unavailableReplicas)"
            + (deployment.spec.paused ? " paused" : "") + (conditions.isEmpty ? "" : " [\(conditions)]")
    }
}
