extension Raft {
    /// A small, fast, seeded pseudo-random generator (xoshiro256**, seeded through SplitMix64).
    ///
    /// The core draws every random number (randomized election timeouts) from this generator,
    /// so a seed and a sequence of inputs reproduce a run exactly.
    public struct Random: RandomNumberGenerator, Sendable {
        private var state: (UInt64, UInt64, UInt64, UInt64)

        /// Creates a generator whose whole output is determined by `seed`.
        public init(seed: UInt64) {
            var mixer = seed
            func splitMix(_ x: inout UInt64) -> UInt64 {
                x &+= 0x9E37_79B9_7F4A_7C15
                var z = x
                z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
                z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
                return z ^ (z >> 31)
            }
            state = (splitMix(&mixer), splitMix(&mixer), splitMix(&mixer), splitMix(&mixer))
        }

        /// The next 64 random bits.
        public mutating func next() -> UInt64 {
            let result = rotateLeft(state.1 &* 5, 7) &* 9
            let t = state.1 << 17
            state.2 ^= state.0
            state.3 ^= state.1
            state.1 ^= state.2
            state.0 ^= state.3
            state.2 ^= t
            state.3 = rotateLeft(state.3, 45)
            return result
        }

        /// A uniformly distributed value in `0..<upperBound` (upperBound > 0).
        public mutating func below(_ upperBound: UInt64) -> UInt64 {
            precondition(upperBound > 0, "Random.below needs a positive bound")
            return next() % upperBound  // modulo bias is irrelevant at the bounds used here
        }

        /// True with probability `numerator / denominator`.
        public mutating func chance(_ numerator: UInt64, in denominator: UInt64) -> Bool {
            below(denominator) < numerator
        }

        private func rotateLeft(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }
    }
}
