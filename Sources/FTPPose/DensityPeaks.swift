// DPC-kNN token selection (FTP-POSE.md section 4), in the reference's float32 order of operations:
// distances from the Gram matrix / sqrt(D), density from the kNN (self included), delta to the
// nearest denser token with a fixed index tie-break, score = rho * delta, top-K (lower index wins
// ties), returned ascending. Nothing random: a window always keeps the same tokens.
import Foundation
import PoseTensor

public enum DensityPeaks {
    /// Scores of the N rows of `x: [N, D]` (row stride `ldx`).
    public static func scores(x: UnsafePointer<Float>, count n: Int, dim d: Int, ldx: Int, knnK: Int, tau: Float) -> [Float] {
        ScratchPool.shared.withBuffer(count: n * n) { scores(x: x, count: n, dim: d, ldx: ldx, knnK: knnK, tau: tau, scratch: $0) }
    }

    /// `scratch` holds n * n floats: the Gram matrix, then the distances.
    static func scores(x: UnsafePointer<Float>, count n: Int, dim d: Int, ldx: Int, knnK: Int, tau: Float,
                       scratch dist: UnsafeMutablePointer<Float>) -> [Float] {
        // dist: [N, N] from |x_i|^2 + |x_j|^2 - 2 x_i.x_j, clamped at 0.
        let packed = PackedMatrix(weights: x, n: n, k: d, ldw: ldx)
        GEMM.multiply(m: n, a: x, lda: ldx, w: packed, bias: nil, c: dist, ldc: n)
        var squares = [Float](repeating: 0, count: n)
        for i in 0..<n {
            var sum: Float = 0
            for j in 0..<d { sum += x[i * ldx + j] * x[i * ldx + j] }
            squares[i] = sum
        }
        let inverseScale = Float(Double(d).squareRoot())
        let vectorEnd = n & ~15
        var largestV = Vector(repeating: 0)
        var largest: Float = 0
        // One sweep per row while it is in L1: distances, the running maximum, the kNN density
        // rho_i = exp(-mean of the k smallest dist^2 (self included) / tau).
        let k = min(knnK, n)
        var rho = [Float](repeating: 0, count: n)
        var nearest = [Float](repeating: 0, count: k)
        for i in 0..<n {
            let row = dist + i * n
            let own = squares[i]
            squares.withUnsafeBufferPointer { sq in
                // A plain loop: LLVM vectorises the sqrt here (SIMD16.squareRoot() would not).
                for j in 0..<n { row[j] = max(own + sq[j] - 2 * row[j], 0).squareRoot() / inverseScale }
            }
            var j = 0
            while j < vectorEnd { largestV = MathSIMD.maximum(largestV, loadVector(row + j)); j += 16 }
            while j < n { largest = max(largest, row[j]); j += 1 }
            var filled = 0
            j = 0
            while j < n {
                // Skip whole chunks that cannot enter the k nearest (the common case).
                if filled == k && j + 16 <= n && !any(loadVector(row + j) .< Vector(repeating: nearest[k - 1])) {
                    j += 16
                    continue
                }
                let value = row[j]
                if filled < k {
                    var slot = filled
                    while slot > 0 && nearest[slot - 1] > value { nearest[slot] = nearest[slot - 1]; slot -= 1 }
                    nearest[slot] = value
                    filled += 1
                } else if value < nearest[k - 1] {
                    var slot = k - 1
                    while slot > 0 && nearest[slot - 1] > value { nearest[slot] = nearest[slot - 1]; slot -= 1 }
                    nearest[slot] = value
                }
                j += 1
            }
            var sum: Float = 0
            for value in nearest { sum += value * value }
            rho[i] = Foundation.exp(-(sum / Float(k)) / tau)
        }
        largest = max(largest, MathSIMD.maximumLane(largestV))
        // delta_i = min dist to a denser token (rho_j > rho_i, or equal and j < i); the densest
        // gets the largest distance of all.
        var score = [Float](repeating: 0, count: n)
        let lanes = SIMD16<Int32>(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15)
        rho.withUnsafeBufferPointer { densities in
            let rhoBase = densities.baseAddress!
            for i in 0..<n {
                let row = dist + i * n
                let own = rho[i], ownV = Vector(repeating: own), index = SIMD16<Int32>(repeating: Int32(i))
                let infinity = Vector(repeating: .infinity)
                var bestV = infinity
                var anyDenser = SIMDMask<SIMD16<Int32>>(repeating: false)
                var j = 0
                while j < vectorEnd {
                    let r = loadVector(rhoBase + j)
                    let denser = (r .> ownV) .| ((r .== ownV) .& ((lanes &+ Int32(j)) .< index))
                    anyDenser = anyDenser .| denser
                    let candidate = infinity.replacing(with: loadVector(row + j), where: denser)
                    bestV = bestV.replacing(with: candidate, where: candidate .< bestV)
                    j += 16
                }
                var delta = Float.infinity
                var hasDenser = any(anyDenser)
                for lane in 0..<16 where bestV[lane] < delta { delta = bestV[lane] }
                while j < n {
                    if rho[j] > own || (rho[j] == own && j < i) { hasDenser = true; delta = min(delta, row[j]) }
                    j += 1
                }
                score[i] = own * (hasDenser ? delta : largest)
            }
        }
        return score
    }

    /// The `keep` highest scores (ties: lower index first), ascending.
    public static func topK(_ score: [Float], keep: Int) -> [Int] {
        let order = score.indices.sorted { score[$0] != score[$1] ? score[$0] > score[$1] : $0 < $1 }
        return order.prefix(keep).sorted()
    }

    /// Indices of the `keep` tokens of `x: [N, D]`, ascending. Keeping all tokens skips the work.
    public static func select(x: UnsafePointer<Float>, count n: Int, dim d: Int, ldx: Int, keep: Int, knnK: Int, tau: Float) -> [Int] {
        precondition(keep >= 0 && keep <= n)
        if keep == n { return Array(0..<n) }
        return topK(scores(x: x, count: n, dim: d, ldx: ldx, knnK: knnK, tau: tau), keep: keep)
    }
}
