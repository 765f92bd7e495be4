import RaftCore
import Store

/// The member simulation's safety checks as entries apply: every member applies one log (the
/// same entry, of the same term, at each index) and the store gives each entry the same
/// result on every member — the replicated state machine's promise, with the real store and
/// the real admission rules in the loop.
struct MemberChecker {
    struct AppliedEntry {
        var term: Raft.Term
        var result: StoreResult?
        var member: UInt64
    }

    private(set) var violations: [String] = []
    private var log: [Raft.Index: AppliedEntry] = [:]
    private(set) var highestApplied: Raft.Index = 0
    /// The index each member applied last, to check it never goes back or skips.
    private var lastApplied: [UInt64: Raft.Index] = [:]
    /// The node each pod (by uid) was first seen bound to: a pod is never rebound.
    private var boundTo: [String: String] = [:]

    mutating func applied(_ member: UInt64, _ entry: Raft.Entry, _ result: StoreResult?, at now: UInt64) {
        highestApplied = max(highestApplied, entry.index)
        // Forward only (a snapshot may skip ahead); a restart starts over (`restarted`).
        if let last = lastApplied[member], entry.index <= last {
            report("apply order", "member \(String(member, radix: 16)) applied index \(entry.index) after \(last) (t=\(now)ms)")
        }
        lastApplied[member] = entry.index
        checkBinding(result, member: member, index: entry.index)
        guard let first = log[entry.index] else {
            log[entry.index] = AppliedEntry(term: entry.term, result: result, member: member)
            return
        }
        if first.term != entry.term {
            report("log mismatch", "index \(entry.index) applied with term \(first.term) on \(String(first.member, radix: 16)) and \(entry.term) on \(String(member, radix: 16)) (t=\(now)ms)")
        } else if first.result != result {
            report("divergent apply", "index \(entry.index) gave \(describe(first.result)) on \(String(first.member, radix: 16)) and \(describe(result)) on \(String(member, radix: 16)) (t=\(now)ms)")
        }
    }

    /// A pod's node, once set, never changes (no pod is bound twice or moved).
    private mutating func checkBinding(_ result: StoreResult?, member: UInt64, index: Raft.Index) {
        let object: StoredObject
        switch result {
        case .created(let stored)?, .updated(let stored)?: object = stored
        default: return
        }
        guard object.key.kind == .pod, let node = object.json["spec"]?["nodeName"]?.stringValue, !node.isEmpty else { return }
        if let first = boundTo[object.uid], first != node {
            report("rebound pod", "pod \(object.key.name) (uid \(object.uid)) was bound to \(first) and at index \(index) to \(node)")
        }
        boundTo[object.uid] = node
    }

    /// A member restarted: it applies again from its snapshot or the log's start.
    mutating func restarted(_ member: UInt64) { lastApplied[member] = nil }

    mutating func report(_ rule: String, _ detail: String) {
        violations.append("\(rule): \(detail)")
    }

    private func describe(_ result: StoreResult?) -> String {
        guard let result else { return "no command result" }
        let text = "\(result)"
        return text.count > 300 ? String(text.prefix(300)) + "…" : text
    }
}
