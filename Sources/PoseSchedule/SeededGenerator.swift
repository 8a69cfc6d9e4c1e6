// A small, fast, seedable random number generator (SplitMix64), so that a whole simulated
// cluster replays bit for bit from one seed on every platform (the system generator cannot be seeded).

/// SplitMix64 (Steele, Lea, Flood 2014): one 64-bit state, passes BigCrush, trivially seeded.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// True with probability `p`.
    public mutating func chance(_ p: Double) -> Bool { Double.random(in: 0..<1, using: &self) < p }

    /// An exponentially distributed delay with the given mean, at least 1.
    public mutating func exponential(meanMs: Double) -> Int64 {
        let u = Double.random(in: Double.ulpOfOne..<1, using: &self)
        return max(1, Int64((-meanMs * log(u)).rounded()))
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
