import RaftCore

/// The state machine the simulator replicates: the sequence of applied commands. Its
/// snapshot is that sequence, so snapshots grow with the log and travel in several chunks.
public struct SimStateMachine: Equatable, Sendable {
    /// The index of the last applied entry.
    public private(set) var appliedIndex: Raft.Index = 0
    /// Every command applied, in order.
    public private(set) var commands: [[UInt8]] = []

    public init() {}

    public mutating func apply(_ entry: Raft.Entry) {
        precondition(entry.index == appliedIndex + 1, "applied \(entry.index) after \(appliedIndex)")
        appliedIndex = entry.index
        if case .command(let data) = entry.payload { commands.append(data) }
    }

    /// The snapshot bytes: applied index, count, then each command with its length.
    public func encode() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(16 + commands.reduce(0) { $0 + 4 + $1.count })
        appendInteger(appliedIndex, to: &out)
        appendInteger(UInt64(commands.count), to: &out)
        for command in commands {
            appendInteger(UInt32(command.count), to: &out)
            out.append(contentsOf: command)
        }
        return out
    }

    /// Decodes `encode()`'s output; nil if the bytes are malformed.
    public static func decode(_ bytes: [UInt8]) -> SimStateMachine? {
        var machine = SimStateMachine()
        if bytes.isEmpty { return machine }  // the empty snapshot of a new cluster
        var cursor = 0
        guard let index: UInt64 = readInteger(bytes, &cursor), let count: UInt64 = readInteger(bytes, &cursor) else {
            return nil
        }
        for _ in 0..<count {
            guard let length: UInt32 = readInteger(bytes, &cursor), cursor + Int(length) <= bytes.count else { return nil }
            machine.commands.append(Array(bytes[cursor..<cursor + Int(length)]))
            cursor += Int(length)
        }
        guard cursor == bytes.count else { return nil }
        machine.appliedIndex = index
        return machine
    }
}

func appendInteger<T: FixedWidthInteger>(_ value: T, to out: inout [UInt8]) {
    withUnsafeBytes(of: value.littleEndian) { out.append(contentsOf: $0) }
}

func readInteger<T: FixedWidthInteger>(_ bytes: [UInt8], _ cursor: inout Int) -> T? {
    let size = MemoryLayout<T>.size
    guard cursor + size <= bytes.count else { return nil }
    var value: T = 0
    for i in 0..<size { value |= T(bytes[cursor + i]) << (8 * i) }
    cursor += size
    return value
}
