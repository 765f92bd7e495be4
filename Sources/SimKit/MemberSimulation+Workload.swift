import API
import JSON
import RaftCore
import Server
import Store

/// Clients of the member simulation: ConfigMap creates, patches and deletes through random
/// members, and linearizable reads — with what each answer promises written down, so the
/// checks can hold the cluster to it (Kubernetes' contract: 2xx applied, 503 not applied,
/// 504 unknown).
final class SimWorkload {
    enum Outcome { case inFlight, applied, notApplied, unknown }

    struct Name {
        var create: Outcome = .inFlight
        var uid = ""
        /// Outcome of a delete, if one was sent.
        var delete: Outcome?
    }

    /// Every name a create was sent for (each name is created once).
    var names: [String: Name] = [:]
    var nextName = 0
    /// Operations waiting for an answer, by the member run they were sent to.
    var pending: [UInt64: (member: UInt64, run: UInt64, name: String?, isDelete: Bool)] = [:]
    var nextOperation: UInt64 = 1
    /// ReplicaSets created (they only grow: see `scaleReplicaSet`).
    var replicaSets: [String] = []
    var replicaSetCreates = 0
    /// At most this many sets, of at most `replicasMax` pods: they fit the simulated nodes.
    static let replicaSetsMax = 3
    static let replicasMax: Int64 = 4
    /// The Deployment: created once, then given new images (rollouts).
    var deploymentCreated = false
    var deploymentImages = 0
    /// It once had all its pods ready (from then on its availability is checked).
    var deploymentWasAvailable = false
    /// Nodes seen tainted unreachable (traced once each).
    var taintedNodes: Set<String> = []

    static let namespace = "default"

    /// Sends one operation now and then (a mean of `operationIntervalMilliseconds` apart),
    /// through a random running member, once the cluster runs the typed API.
    func maybeIssue(in world: MemberSimulation) {
        guard world.random.below(world.options.operationIntervalMilliseconds) == 0 else { return }
        let running = world.ids.filter { world.members[$0]!.isUp }
        guard !running.isEmpty else { return }
        let target = running[Int(world.random.below(UInt64(running.count)))]
        guard let member = world.members[target]!.member, member.store.clusterVersion >= 2 else { return }
        let roll = world.random.below(100)
        if roll < 2 {
            if !deploymentCreated { return createDeployment(through: target, in: world) }
            return rollDeployment(through: target, in: world)
        }
        if roll < 5 {
            if replicaSetCreates < Self.replicaSetsMax {
                replicaSetCreates += 1
                return createReplicaSet(through: target, in: world)
            }
            if !replicaSets.isEmpty { return scaleReplicaSet(replicaSets[Int(world.random.below(UInt64(replicaSets.count)))], through: target, in: world) }
        }
        let created = names.keys.filter { names[$0]!.create == .applied && names[$0]!.delete == nil }.sorted()
        if roll < 50 || created.isEmpty {
            create(through: target, in: world)
        } else if roll < 70 {
            patch(created[Int(world.random.below(UInt64(created.count)))], through: target, in: world)
        } else if roll < 85 {
            delete(created[Int(world.random.below(UInt64(created.count)))], through: target, in: world)
        } else {
            read(through: target, in: world)
        }
    }

    func begin(_ member: UInt64, _ world: MemberSimulation, name: String?, isDelete: Bool) -> UInt64 {
        let id = nextOperation
        nextOperation += 1
        pending[id] = (member, world.members[member]!.run, name, isDelete)
        return id
    }

    func create(through id: UInt64, in world: MemberSimulation) {
        let name = "w-\(nextName)"
        nextName += 1
        names[name] = Name()
        let operation = begin(id, world, name: name, isDelete: false)
        let body: JSONValue = .object(JSONObject([
            ("apiVersion", "v1"), ("kind", "ConfigMap"),
            ("metadata", .object(JSONObject([("name", .string(name))]))),
            ("data", .object(JSONObject([("n", .string(name))]))),
        ]))
        let write = TypedWrite(verb: .create, kind: "ConfigMap", apiVersion: "v1", namespace: Self.namespace, name: name, body: body)
        world.members[id]!.member!.propose(.typed(write)) { [unowned world] result in
            guard world.workload.pending.removeValue(forKey: operation) != nil else { return }
            world.note("create \(name) via \(world.members[id]!.address): \(Self.summary(result))")
            switch result {
            case .success(.created(let object)):
                world.workload.names[name]!.create = .applied
                world.workload.names[name]!.uid = object.uid
                world.report.writesAcknowledged += 1
            case .success(let other):
                // Refused by the store (nothing applied), e.g. before the typed API existed.
                world.workload.names[name]!.create = .notApplied
                world.note("create \(name) refused: \(other)")
                world.report.writesRefused += 1
            case .failure(let error):
                world.workload.names[name]!.create = Self.outcome(of: error)
                if error.status == 503 { world.report.writesRefused += 1 } else { world.report.writesIndeterminate += 1 }
            }
        }
    }

    func patch(_ name: String, through id: UInt64, in world: MemberSimulation) {
        let operation = begin(id, world, name: nil, isDelete: false)
        let patch: JSONValue = .object(JSONObject([("data", .object(JSONObject([("v", .string(String(operation)))])))]))
        let write = TypedWrite(verb: .patch, kind: "ConfigMap", apiVersion: "v1", namespace: Self.namespace, name: name,
                               body: patch, patchType: .merge)
        world.members[id]!.member!.propose(.typed(write)) { [unowned world] result in
            guard world.workload.pending.removeValue(forKey: operation) != nil else { return }
            if case .success(.updated) = result { world.report.writesAcknowledged += 1 }
        }
    }

    func delete(_ name: String, through id: UInt64, in world: MemberSimulation) {
        names[name]!.delete = .inFlight
        let operation = begin(id, world, name: name, isDelete: true)
        let write = TypedWrite(verb: .delete, kind: "ConfigMap", apiVersion: "v1", namespace: Self.namespace, name: name)
        world.members[id]!.member!.propose(.typed(write)) { [unowned world] result in
            guard world.workload.pending.removeValue(forKey: operation) != nil else { return }
            world.note("delete \(name) via \(world.members[id]!.address): \(Self.summary(result))")
            switch result {
            case .success(.deleted):
                world.workload.names[name]!.delete = .applied
                world.report.writesAcknowledged += 1
            case .success(let other):
                world.workload.names[name]!.delete = .notApplied
                world.note("delete \(name) refused: \(other)")
            case .failure(let error):
                world.workload.names[name]!.delete = Self.outcome(of: error)
            }
        }
    }

    /// A linearizable read must see every create acknowledged before it began (unless a
    /// delete of it was sent) and none of the deletes acknowledged before it began.
    func read(through id: UInt64, in world: MemberSimulation) {
        let run = world.members[id]!.run
        let mustSee = names.filter { $0.value.create == .applied && $0.value.delete == nil }.mapValues(\.uid)
        let mustNotSee = names.filter { $0.value.delete == .applied }.map(\.key)
        let operation = begin(id, world, name: nil, isDelete: false)
        world.members[id]!.member!.awaitLinearizableRead { [unowned world] result in
            guard world.workload.pending.removeValue(forKey: operation) != nil, case .success = result,
                  world.members[id]!.run == run, let member = world.members[id]!.member else { return }
            world.report.readsChecked += 1
            let address = world.members[id]!.address
            for (name, uid) in mustSee.sorted(by: { $0.key < $1.key }) {
                // A delete sent after the read began may already have applied.
                guard world.workload.names[name]!.delete == nil else { continue }
                let stored = member.store.get(ObjectKey(kind: .configMap, namespace: Self.namespace, name: name))
                if stored?.uid != uid {
                    world.checker.report("stale read", "a linearizable read on \(address) missed \(name) (uid \(uid)), acknowledged before the read began")
                    return
                }
            }
            for name in mustNotSee.sorted() where member.store.get(ObjectKey(kind: .configMap, namespace: Self.namespace, name: name)) != nil {
                world.checker.report("stale read", "a linearizable read on \(address) still saw \(name), whose delete was acknowledged before the read began")
                return
            }
        }
    }

    static func summary(_ result: Result<StoreResult, ServiceError>) -> String {
        switch result {
        case .success(let stored): return "\(stored.httpStatus)"
        case .failure(let error): return "\(error.status) \(error.message)"
        }
    }

    static func outcome(of error: ServiceError) -> Outcome {
        error.status == 503 ? .notApplied : .unknown
    }

    /// The member's run ended: its clients' answers will never come (as a closed
    /// connection): every write in flight there is of unknown outcome.
    func memberCrashed(_ id: UInt64, run: UInt64, in world: MemberSimulation) {
        for (operation, sent) in pending where sent.member == id && sent.run == run {
            pending[operation] = nil
            guard let name = sent.name else { continue }
            if sent.isDelete {
                names[name]!.delete = .unknown
            } else {
                names[name]!.create = .unknown
            }
            world.report.writesIndeterminate += 1
        }
    }

    /// After healing: a create through `id` that must be acknowledged.
    func finalWrite(through id: UInt64, in world: MemberSimulation, done: @escaping (Bool) -> Void) {
        let name = "final-\(world.members[id]!.address)-\(nextName)"
        nextName += 1
        let body: JSONValue = .object(JSONObject([
            ("apiVersion", "v1"), ("kind", "ConfigMap"), ("metadata", .object(JSONObject([("name", .string(name))]))),
        ]))
        let write = TypedWrite(verb: .create, kind: "ConfigMap", apiVersion: "v1", namespace: Self.namespace, name: name, body: body)
        world.members[id]!.member!.propose(.typed(write)) { result in
            if case .success(.created) = result { done(true) } else { done(false) }
        }
    }

    /// The converged state keeps every acknowledged write and none of the refused ones.
    func checkFinalState(in world: MemberSimulation) {
        guard let member = world.ids.compactMap({ world.members[$0]!.member }).first else { return }
        for (name, record) in names.sorted(by: { $0.key < $1.key }) {
            let stored = member.store.get(ObjectKey(kind: .configMap, namespace: Self.namespace, name: name))
            switch (record.create, record.delete) {
            case (.applied, nil), (.applied, .notApplied?):
                if stored?.uid != record.uid {
                    world.checker.report("lost write", "\(name) was created (uid \(record.uid), acknowledged) and never deleted, but the cluster holds \(stored.map { "uid \($0.uid)" } ?? "nothing")")
                }
            case (_, .applied?):
                if stored != nil { world.checker.report("lost delete", "the delete of \(name) was acknowledged, but the cluster still holds it") }
            case (.notApplied, _):
                if stored != nil { world.checker.report("refused but applied", "the create of \(name) was answered 'not applied' (503 or refused), but the cluster holds it") }
            default:
                break  // unknown outcomes may go either way
            }
        }
    }
}
