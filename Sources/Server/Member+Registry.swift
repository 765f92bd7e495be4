import API
import JSON
import RaftCore
import Store

// The leader keeps one `Member` object (shoal.dev/v1) per member of the Raft membership, so
// addresses and incarnations survive log compaction and `kubectl`-style clients can list
// members. A level-triggered reconcile: desired state from the membership, observed from
// the store, writes conditional on what was read.

extension Member {
    func desiredMemberObjects() -> [String: JSONValue] {
        guard let node else { return [:] }
        var desired: [String: JSONValue] = [:]
        for id in node.membership.all {
            let address: PeerAddress
            if id == identity.nodeID {
                address = PeerAddress(host: identity.advertiseHost, peerPort: identity.peerPort, apiPort: options.apiPort,
                                      name: identity.name, incarnation: identity.incarnation)
            } else if let known = peerAddresses[id], let incarnation = known.incarnation {
                address = known
                _ = incarnation
            } else {
                continue  // not known yet (its incarnation arrives with its first connection)
            }
            let spec = JSONObject([
                ("address", .string(address.host)), ("peerPort", .int(Int64(address.peerPort))),
                ("apiPort", .int(Int64(address.apiPort))), ("incarnation", .int(Int64(address.incarnation ?? 0))),
                ("role", .string(node.membership.isVoter(id) ? "voter" : "learner")),
            ])
            desired[address.name] = .object(JSONObject([
                ("apiVersion", .string(Kind.member.apiVersion)), ("kind", .string("Member")),
                ("metadata", .object(JSONObject([("name", .string(address.name))]))),
                ("spec", .object(spec)),
            ]))
        }
        return desired
    }

    func reconcileMemberObjects() {
        guard isLeader, memberWritesInFlight == 0 else { return }
        let desired = desiredMemberObjects()
        let observed = store.list(.member).items
        var observedByName: [String: StoredObject] = [:]
        for object in observed { observedByName[object.key.name] = object }
        for (name, object) in desired.sorted(by: { $0.key < $1.key }) {
            if let existing = observedByName[name] {
                guard existing.json["spec"] != object["spec"] else { continue }
                var updated = object
                updated[path: ["metadata", "resourceVersion"]] = .string(String(existing.resourceVersion))
                submitMemberWrite(.update(object: updated, expectedResourceVersion: existing.resourceVersion))
            } else {
                submitMemberWrite(.create(object: object))
            }
        }
        for object in observed where desired[object.key.name] == nil {
            submitMemberWrite(.delete(key: object.key, expectedResourceVersion: object.resourceVersion, expectedUID: object.uid))
        }
    }

    private func submitMemberWrite(_ write: ObjectWrite) {
        memberWritesInFlight += 1
        propose(write) { [weak self] result in
            self?.memberWritesInFlight -= 1
            if case .failure(let error) = result { Log.debug("member registry write failed: \(error)") }
        }
    }
}
