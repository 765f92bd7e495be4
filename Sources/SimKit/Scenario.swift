import RaftCore

// Data-driven scenario scripts (DESIGN.md principle 4, after etcd-io/raft's testdata/*.txt).
//
// FILE FORMAT
//
//     # a comment (lines starting with '#', and blank lines, between blocks are kept as is)
//     command arg key=value
//     ----
//     expected output line
//     expected output line
//     <blank line, or the end of the file, ends the block>
//
// The expected output cannot contain a blank line (the runner never prints one); a command
// with nothing to say prints `ok`. When rewriting golden files (`SHOAL_REWRITE=1`, see
// Tests/SimKitTests/testdata/README.md) a command line may be written without `----` and
// its output is filled in.
//
// COMMANDS (node ids are positive integers; `[...]` is optional; defaults in parentheses)
//
//   cluster 1 2 3 [prevote=true] [checkquorum=true] [election=10] [heartbeat=1]
//           [snapshot-every=0] [chunk=BYTES] [inflight=N] [append-bytes=BYTES] [faulty=RULE]
//       A new ManualCluster whose voters bootstrap together (replaces any earlier one).
//       election/heartbeat are in ticks; snapshot-every takes a snapshot every N applied
//       entries (0: never); chunk is the snapshot chunk size; inflight bounds appends in
//       flight per follower; append-bytes bounds one append (a small value sends one entry
//       per message); faulty names a Raft.FaultyRule to break on purpose.
//   add-process 4             a new, empty member process (`.joining` state, no membership)
//   campaign 1                member 1 starts a campaign (pre-vote first if enabled)
//   tick 1 [n=1]              n ticks of member 1 (one number or `n=`)
//   tick-all [n=1]            n rounds of one tick per running member, in id order
//   propose 1 some text       propose the rest of the line as a command; prints
//                             `1 appended 5/2 "some text"` or `error: <refusal>`
//   propose-change 1 add-learner 4 | promote 4 | remove 2
//                             propose a membership change; prints the entry or the refusal
//   transfer 1 3              member 1 (the leader) hands leadership to 3
//   read-index 2 req=7        member 2 asks for a read index (answers: see `reads`)
//   deliver [1->2] [kind=App,Heartbeat] [n=K] [drop]
//                             deliver (or drop) the in-flight messages matching the filter,
//                             in send order, printing each; `*` matches any member
//                             (`1->*`, `*->2`); kind names are TraceFormat's first word
//                             (PreVote PreVoteResp Vote VoteResp App AppResp Heartbeat
//                             HeartbeatResp Snap SnapResp TimeoutNow ReadIndex ReadIndexResp);
//                             n=K takes only the first K matches. Messages caused by a
//                             delivery stay in flight.
//   stabilize                 deliver the oldest in-flight message until none is left
//   isolate 3                 cut every link to and from 3
//   cut 1->2 | cut 1<->2      cut one direction, or both
//   heal                      restore every link
//   crash 2 [survive=0]       crash 2: unsynced writes are all lost; survive=1 lets a random
//                             prefix of them reach the disk (the last possibly torn)
//   restart 2                 restart 2 from its disk
//   stall-disk 1              1's disk stops syncing: messages that promise durability wait
//   sync-disk 1               sync 1's disk and release what waited
//   status [1 2 ...]          TraceFormat.status of the members (all by default)
//   log 1                     the entries member 1 holds, one per line (TraceFormat.entry),
//                             after `snapshot I/T` if compacted; its durable log if it is down
//   membership 1              the membership member 1 is using
//   in-flight                 the messages waiting for delivery, in order
//   reads                     read states handed to hosts since the last `reads`
//
// Cut links drop messages when they are sent; messages already in flight stay deliverable
// (drop them with `deliver ... drop`). A message to a crashed member is lost on delivery;
// crashing a member does not take back what it already sent. Disks sync instantly unless
// stalled. Randomized election timeouts come from fixed per-member seeds, so a script
// replays exactly: `tick 2 17` is "until 2 times out" only because that is its draw.
//
// OUTPUT: each delivered message (TraceFormat.message); `dropped <message>` for drops;
// `N became <role> at term T` whenever a member's role or term changes (checked after every
// single step, so it follows the message or tick that caused it); other ManualCluster events
// (`crashed`, `restarted`, messages lost on cut links or to crashed members); `error: ...`
// for refused requests (transfer and read-index print nothing else on success; answers to
// reads appear under `reads`, and the Checker verifies each against what was committed
// when it was asked); and, after every command, the safety violations the Checker found
// during it, as `violation: <property>: <detail>` (each distinct one once, where it first
// appears; the Checker keeps at most 20 records).

/// A parsed scenario script: blocks of command and expected output, with the comments and
/// blank lines between them kept so the file can be rewritten with new output.
public struct ScenarioScript: Sendable, Equatable {
    /// One command and the output it should produce.
    public struct Block: Sendable, Equatable {
        /// The 1-based line number of the command.
        public var line: Int
        public var command: String
        /// The expected output lines, or nil when the script has no `----` yet (rewrite mode).
        public var expected: [String]?
    }

    public enum Item: Sendable, Equatable {
        /// A comment or blank line outside any block, kept verbatim.
        case text(String)
        case block(Block)
    }

    public var items: [Item]

    public var blocks: [Block] {
        items.compactMap { if case .block(let b) = $0 { return b } else { return nil } }
    }

    /// Parses a script. With `allowMissingOutput`, a command without `----` is accepted
    /// (its expected output is nil), so a rewrite can fill it in.
    public init(parsing text: String, allowMissingOutput: Bool = false) throws(ScenarioError) {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if lines.last == "" { lines.removeLast() }
        var items: [Item] = []
        var i = 0
        func isBlank(_ s: String) -> Bool { s.allSatisfy { $0 == " " || $0 == "\t" || $0 == "\r" } }
        while i < lines.count {
            let line = lines[i]
            if isBlank(line) || line.hasPrefix("#") {
                items.append(.text(line))
                i += 1
                continue
            }
            if line == "----" { throw ScenarioError(line: i + 1, "`----` without a command before it") }
            var block = Block(line: i + 1, command: line, expected: nil)
            i += 1
            if i < lines.count && lines[i] == "----" {
                i += 1
                var expected: [String] = []
                while i < lines.count && !isBlank(lines[i]) {
                    expected.append(lines[i])
                    i += 1
                }
                block.expected = expected
            } else if !allowMissingOutput {
                throw ScenarioError(
                    line: block.line, "command without `----` and expected output (write it with SHOAL_REWRITE=1)")
            }
            if i < lines.count && isBlank(lines[i]) { i += 1 }  // the blank line ending the block
            items.append(.block(block))
        }
        self.items = items
    }

    /// The script with each block's expected output replaced by `outputs[block.line]`
    /// (blocks not in `outputs` keep theirs), in the canonical layout: one blank line after
    /// every block except the last item.
    public func rendered(outputs: [Int: [String]]) -> String {
        var out: [String] = []
        for (n, item) in items.enumerated() {
            switch item {
            case .text(let line):
                out.append(line)
            case .block(let block):
                out.append(block.command)
                out.append("----")
                for line in outputs[block.line] ?? block.expected ?? [] {
                    out.append(line.isEmpty ? "." : line)
                }
                if n < items.count - 1 { out.append("") }
            }
        }
        return out.joined(separator: "\n") + "\n"
    }
}

/// A mistake in a script (unknown command, bad argument...), with its line.
public struct ScenarioError: Error, Sendable, Equatable, CustomStringConvertible {
    public var line: Int
    public var message: String
    public init(line: Int, _ message: String) {
        self.line = line
        self.message = message
    }
    public var description: String { "line \(line): \(message)" }
}

/// The words of a command line: positional arguments and `key=value` options.
struct ScenarioArguments {
    let line: Int
    let command: String
    private(set) var positional: [String] = []
    private var options: [String: String] = [:]
    private var used: Set<String> = []

    init(line: Int, text: String) throws(ScenarioError) {
        self.line = line
        let words = text.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        guard let first = words.first else { throw ScenarioError(line: line, "empty command") }
        command = first
        for word in words.dropFirst() {
            if let eq = word.firstIndex(of: "="), eq != word.startIndex {
                let key = String(word[..<eq])
                guard options[key] == nil else { throw ScenarioError(line: line, "option \(key) given twice") }
                options[key] = String(word[word.index(after: eq)...])
            } else {
                positional.append(word)
            }
        }
    }

    func fail(_ message: String) -> ScenarioError { ScenarioError(line: line, "\(command): \(message)") }

    func node(_ word: String) throws(ScenarioError) -> Raft.NodeID {
        guard let id = Raft.NodeID(word), id != Raft.noNode else { throw fail("bad member id '\(word)'") }
        return id
    }

    /// The positional argument at `index` as a member id.
    func node(at index: Int) throws(ScenarioError) -> Raft.NodeID {
        guard index < positional.count else { throw fail("missing member id (argument \(index + 1))") }
        return try node(positional[index])
    }

    /// Every positional argument from `index` on, as member ids.
    func nodes(from index: Int) throws(ScenarioError) -> [Raft.NodeID] {
        var ids: [Raft.NodeID] = []
        for word in positional.dropFirst(index) { ids.append(try node(word)) }
        return ids
    }

    mutating func option(_ key: String) -> String? {
        used.insert(key)
        return options[key]
    }

    mutating func int(_ key: String, default value: Int, min: Int = 0) throws(ScenarioError) -> Int {
        guard let text = option(key) else { return value }
        guard let n = Int(text), n >= min else { throw fail("\(key) must be an integer ≥ \(min), not '\(text)'") }
        return n
    }

    mutating func bool(_ key: String, default value: Bool) throws(ScenarioError) -> Bool {
        guard let text = option(key) else { return value }
        switch text {
        case "true", "on", "yes": return true
        case "false", "off", "no": return false
        default: throw fail("\(key) must be true or false, not '\(text)'")
        }
    }

    /// Fails on options nobody asked for and on more positional arguments than `maxPositional`.
    func finish(maxPositional: Int) throws(ScenarioError) {
        if let unknown = options.keys.sorted().first(where: { !used.contains($0) }) {
            throw fail("unknown option \(unknown)=")
        }
        if positional.count > maxPositional {
            throw fail("unexpected argument '\(positional[maxPositional])'")
        }
    }
}
