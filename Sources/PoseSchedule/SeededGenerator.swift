// A small, fast, seedable random number generator (SplitMix64), so that a whole simulated
// cluster replays bit for bit from one seed on every platform (the system generator cannot be seeded).

import PoseCore

/// The simulation's generator: PoseCore's SplitMix64.
public typealias SeededGenerator = SplitMix64

extension SplitMix64 {
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
