// What `shoal-bench failover` needs from a replicated store under test: its members' status,
// the shape of a write, reading writes back, and the faults. `ShoalSystem` and `EtcdSystem`
// implement it; the trial runner, the load and the report are the same code for both.
import Foundation

/// The Raft timing a system runs with, in milliseconds.
struct RaftTiming: Codable {
    /// Interval between the leader's heartbeats.
    var heartbeatMs: Int
    /// The base election timeout (a follower waits this long without a leader, then some
    /// random extra time, before it campaigns).
    var electionMs: Int
    /// The longest the randomized election timeout can be (shoal and etcd: twice the base).
    var electionMaxMs: Int
    /// How the timing was set ("shoal defaults: tick 10 ms, ...").
    var note: String
}

/// A host of the local cluster: `h1` at `10.88.K.1`, ...
struct BenchHost: Codable {
    /// The cluster tool's name for it ("h1").
    var name: String
    /// Its IPv4 address.
    var address: String
    /// Its network namespace.
    var namespace: String
}

/// One member's view of the cluster, from its status API.
struct MemberView: Equatable {
    /// When the answer arrived (monotonic ns).
    var atNs: UInt64
    /// The member says it leads.
    var leads: Bool
    /// Its current term.
    var term: UInt64
    /// The member it follows (an index into the hosts), nil when it knows no leader.
    var leader: Int?
    /// Its commit index.
    var commit: UInt64
    /// Its applied index.
    var applied: UInt64
    /// Voters in its membership (nil where the status does not say).
    var voters: Int?

    /// Same role, term and leader (indexes aside).
    func sameLeadership(_ other: MemberView) -> Bool {
        leads == other.leads && term == other.term && leader == other.leader
    }
}

/// How one write ended, as the client saw it.
enum WriteOutcome: UInt8, Codable {
    /// Acknowledged: the system says it is durable.
    case success = 0
    /// Refused: the system says it did not apply it (or it never left the client).
    case failed = 1
    /// Unknown: timed out or the connection was lost after sending (or the system itself
    /// answered "timed out"): it may or may not have been applied.
    case indeterminate = 2
}

/// A group of writes that is read back together: one trial of one scenario, or the load.
struct WriteGroup: Hashable {
    /// "a".."d", or "load".
    var scenario: String
    var trial: Int

    /// The canonical name of one write of the group, as `readKeys` returns it.
    func key(writer: Int, sequence: Int) -> String { "fo-\(scenario)-\(trial)-\(writer)-\(sequence)" }
}

/// An HTTP request: the head (request line and extra headers) and the body.
struct BenchRequest {
    var head: String
    var body: [UInt8]
}

/// A replicated store under test, on the hosts of one local cluster.
protocol FailoverSystem: AnyObject, Sendable {
    /// "shoal", "etcd-default", "etcd-tuned".
    var label: String { get }
    var timing: RaftTiming { get }
    var hosts: [BenchHost] { get }
    /// The port of every member's client API.
    var apiPort: UInt16 { get }
    /// The software's version, for the report.
    var version: String { get }

    /// Starts every member and waits until they answer (bounded).
    func start() throws
    /// Stops everything `start` and the faults started; idempotent.
    func shutDown()

    /// The status request for member `member`.
    func statusRequest(member: Int) -> BenchRequest
    /// Parses a status answer; nil if it is not one.
    func parseStatus(_ body: [UInt8], member: Int, atNs: UInt64) -> MemberView?
    /// One write: a new object/key of `payloadBytes` value bytes.
    func writeRequest(group: WriteGroup, writer: Int, sequence: Int, value: String) -> BenchRequest
    /// The outcome of a write that got an HTTP answer.
    func classifyWrite(status: Int, body: [UInt8]) -> WriteOutcome
    /// Every write of `scenario` (and of `trial`, if given) present in the store, read through
    /// member `member` with a linearizable read, as canonical keys (`WriteGroup.key`).
    func readKeys(scenario: String, trial: Int?, via member: Int) throws -> Set<String>

    /// SIGKILL the member's process; returns once it is gone.
    func kill(_ member: Int) throws
    /// Starts a killed member again with its data; returns once its API answers.
    func restart(_ member: Int) throws
    /// SIGSTOP / SIGCONT the member's process.
    func pause(_ member: Int) throws
    func resume(_ member: Int) throws
    /// Undoes a cut of the member's host (scripts/cluster heal; the cut itself is a
    /// `PrestagedCut` of the same rules, at one instant).
    func heal(_ member: Int) throws
    /// The planned hand-over request sent to the leader (shoal: leave; etcd: move-leader to `heir`).
    func handOverRequest(leader: Int, heir: Int) -> BenchRequest
    /// Whether the hand-over takes the old leader out of the cluster (it must be restored).
    var handOverRemovesMember: Bool { get }
    /// Brings a member that left back as a voter (shoal: wipe, start, join).
    func restoreAfterHandOver(_ member: Int, leader: Int) throws
}

extension FailoverSystem {
    /// The member the status of member `member` calls leader, by its name or id.
    func hostIndex(address: String) -> Int? { hosts.firstIndex { $0.address == address } }
}

/// Minimal JSON access for answers (Foundation's parser; status answers are small).
func jsonObject(_ bytes: [UInt8]) -> [String: Any]? {
    (try? JSONSerialization.jsonObject(with: Data(bytes))) as? [String: Any]
}

/// An integer field that JSON may carry as a number or as a decimal string (etcd's gateway
/// prints 64-bit integers as strings).
func jsonUInt64(_ value: Any?) -> UInt64? {
    if let number = value as? NSNumber { return number.uint64Value }
    if let text = value as? String { return UInt64(text) }
    return nil
}

/// Every string value that follows `"field":"` in a JSON text, in order (a byte scan: read-back
/// answers hold tens of thousands of objects, and only these values are needed).
func scanStringValues(field: String, in bytes: [UInt8]) -> [String] {
    let needle = Array("\"\(field)\":\"".utf8)
    var values: [String] = []
    var i = 0
    let count = bytes.count
    while i + needle.count < count {
        if bytes[i] == needle[0] {
            var matches = true
            for j in 1..<needle.count where bytes[i + j] != needle[j] { matches = false; break }
            if matches {
                let start = i + needle.count
                var end = start
                while end < count && bytes[end] != UInt8(ascii: "\"") { end += 1 }
                values.append(String(decoding: bytes[start..<end], as: UTF8.self))
                i = end
                continue
            }
        }
        i += 1
    }
    return values
}
