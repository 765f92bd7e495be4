/// A min-heap of timed events; events due at the same time come out in insertion order,
/// so a run is a pure function of its seed.
struct EventQueue<Event> {
    private var heap: [(time: UInt64, sequence: UInt64, event: Event)] = []
    private var nextSequence: UInt64 = 0

    var isEmpty: Bool { heap.isEmpty }
    var count: Int { heap.count }
    var nextTime: UInt64? { heap.first?.time }

    mutating func push(_ event: Event, at time: UInt64) {
        heap.append((time, nextSequence, event))
        nextSequence += 1
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard precedes(child, parent) else { break }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    /// Removes and returns the earliest event if it is due at or before `time`.
    mutating func pop(dueBy time: UInt64) -> Event? {
        guard let first = heap.first, first.time <= time else { return nil }
        let last = heap.removeLast()
        if !heap.isEmpty {
            heap[0] = last
            var parent = 0
            while true {
                let left = 2 * parent + 1
                let right = left + 1
                var smallest = parent
                if left < heap.count && precedes(left, smallest) { smallest = left }
                if right < heap.count && precedes(right, smallest) { smallest = right }
                if smallest == parent { break }
                heap.swapAt(parent, smallest)
                parent = smallest
            }
        }
        return first.event
    }

    mutating func removeAll(where shouldRemove: (Event) -> Bool) {
        let kept = heap.filter { !shouldRemove($0.event) }
        heap = []
        for item in kept.sorted(by: { ($0.time, $0.sequence) < ($1.time, $1.sequence) }) {
            heap.append(item)  // a sorted array is a valid heap
        }
    }

    private func precedes(_ a: Int, _ b: Int) -> Bool {
        (heap[a].time, heap[a].sequence) < (heap[b].time, heap[b].sequence)
    }
}
