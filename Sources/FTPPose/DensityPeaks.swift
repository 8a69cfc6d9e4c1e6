// DPC-kNN token selection (FTP-POSE.md section 4), in the reference's float32 order of operations:
// distances from the Gram matrix / sqrt(D), density from the kNN (self included), delta to the
// nearest denser token with a fixed index tie-break, score = rho * delta, top-K (lower index wins
// ties), returned ascending. Nothing random: a window always keeps the same tokens.
import Foundation
import PoseTensor
#if arch(x86_64)
import CKernels
#endif

public enum DensityPeaks {
    /// Scores of the N rows of `x: [N, D]` (row stride `ldx`).
    public static func scores(x: UnsafePointer<Float>, count n: Int, dim d: Int, ldx: Int, knnK: Int, tau: Float) -> [Float] {
        ScratchPool.shared.withBuffer(count: n * n) { lowerTriangleScores(x: x, count: n, dim: d, ldx: ldx, knnK: knnK, tau: tau, scratch: $0) }
    }

    /// Rows per Gram block of the lower-triangle version.
    static let gramBlockRows = 96

    /// The same scores, bit for bit, from the lower triangle only: the distance matrix is
    /// symmetric bit for bit (x_i.x_j and x_j.x_i are the same FMA chain of the same products), so
    /// every pair (i, j > i) is visited once and feeds both i and j. Half the Gram FLOPs, half the
    /// distance work. The kNN sets and minima do not depend on the visiting order; each kNN set is
    /// kept sorted and summed in ascending order, as in the full version.
    /// On x86-64 the row loops run in AVX2 C (CKernels/dpc_kernels.h); `portable` runs the Swift
    /// loops instead (the version for other architectures; tests compare the two bit for bit).
    static func lowerTriangleScores(x: UnsafePointer<Float>, count n: Int, dim d: Int, ldx: Int, knnK: Int, tau: Float,
                                    scratch dist: UnsafeMutablePointer<Float>, portable: Bool = false) -> [Float] {
        let packed = PackedMatrix(weights: x, n: n, k: d, ldw: ldx)
        var i0 = 0
        while i0 < n {
            // Rows i0..<i1, columns 0..<i1 (the block row up to and including its diagonal block).
            let i1 = min(n, i0 + gramBlockRows)
            GEMM.multiply(m: i1 - i0, a: x + i0 * ldx, lda: ldx, w: packed.prefix(columns: i1), bias: nil, c: dist + i0 * n, ldc: n)
            i0 = i1
        }
        var squares = [Float](repeating: 0, count: n)
        for i in 0..<n {
            var sum: Float = 0
            for j in 0..<d { sum += x[i * ldx + j] * x[i * ldx + j] }
            squares[i] = sum
        }
        let inverseScale = Float(Double(d).squareRoot())
        let k = min(knnK, n)
        // nearest[j*k ..< (j+1)*k]: the k smallest distances seen for j, ascending (+inf = empty);
        // worst[j] = nearest[j*k + k-1], for vector tests.
        var nearest = [Float](repeating: .infinity, count: n * k)
        var worst = [Float](repeating: .infinity, count: n)
        var largest: Float = 0
        nearest.withUnsafeMutableBufferPointer { heap in
            worst.withUnsafeMutableBufferPointer { worstBuffer in
                squares.withUnsafeBufferPointer { sq in
                    #if arch(x86_64)
                    if !portable {
                        largest = ck_dpc_knn_rows_avx2(n, k, sq.baseAddress!, dist, inverseScale, heap.baseAddress!, worstBuffer.baseAddress!)
                        return
                    }
                    #endif
                    largest = knnRowsPortable(n: n, k: k, sq: sq.baseAddress!, dist: dist, inverseScale: inverseScale,
                                              heap: heap.baseAddress!, worst: worstBuffer.baseAddress!)
                }
            }
        }
        var rho = [Float](repeating: 0, count: n)
        for i in 0..<n {
            var sum: Float = 0
            for slot in 0..<k { let value = nearest[i * k + slot]; sum += value * value }
            rho[i] = Foundation.exp(-(sum / Float(k)) / tau)
        }
        var delta = [Float](repeating: .infinity, count: n)
        rho.withUnsafeBufferPointer { densities in
            delta.withUnsafeMutableBufferPointer { deltaBuffer in
                #if arch(x86_64)
                if !portable {
                    ck_dpc_delta_rows_avx2(n, dist, densities.baseAddress!, deltaBuffer.baseAddress!)
                    return
                }
                #endif
                deltaRowsPortable(n: n, dist: dist, rho: densities.baseAddress!, delta: deltaBuffer.baseAddress!)
            }
        }
        return (0..<n).map { rho[$0] * (delta[$0] < .infinity ? delta[$0] : largest) }
    }

    /// Inserts `value` into token j's ascending list of its k smallest distances; worst[j] = its last entry.
    @inline(__always)
    private static func insert(_ value: Float, into j: Int, k: Int, _ heap: UnsafeMutablePointer<Float>, _ worst: UnsafeMutablePointer<Float>) {
        let base = heap + j * k
        guard value < base[k - 1] else { return }
        var slot = k - 1
        while slot > 0 && base[slot - 1] > value { base[slot] = base[slot - 1]; slot -= 1 }
        base[slot] = value
        worst[j] = base[k - 1]
    }

    /// The lower triangle's distance and k-nearest loops in Swift (ck_dpc_knn_rows_avx2 on x86-64):
    /// dist rows hold Gram values on entry, distances on exit; returns the largest distance.
    static func knnRowsPortable(n: Int, k: Int, sq: UnsafePointer<Float>, dist: UnsafeMutablePointer<Float>, inverseScale: Float,
                                heap: UnsafeMutablePointer<Float>, worst worstBase: UnsafeMutablePointer<Float>) -> Float {
        var largestV = Vector(repeating: 0)
        var largest: Float = 0
        for i in 0..<n {
            let row = dist + i * n, own = sq[i], count = i + 1
            // A plain loop: LLVM vectorises the sqrt here (SIMD16.squareRoot() would not).
            for j in 0..<count { row[j] = max(own + sq[j] - 2 * row[j], 0).squareRoot() / inverseScale }
            let vectorEnd = count & ~15
            var j = 0
            while j < vectorEnd {
                let values = loadVector(row + j)
                largestV = MathSIMD.maximum(largestV, values)
                // Entries that can enter i's set or j's set; most chunks have none.
                let forRow = values .< Vector(repeating: worstBase[i])
                let forColumns = values .< loadVector(worstBase + j)
                if any(forRow .| forColumns) {
                    for lane in 0..<16 where forRow[lane] || forColumns[lane] {
                        let value = values[lane]
                        insert(value, into: i, k: k, heap, worstBase)
                        if j + lane != i { insert(value, into: j + lane, k: k, heap, worstBase) }
                    }
                }
                j += 16
            }
            while j < count {
                let value = row[j]
                largest = max(largest, value)
                insert(value, into: i, k: k, heap, worstBase)
                if j != i { insert(value, into: j, k: k, heap, worstBase) }
                j += 1
            }
        }
        return max(largest, MathSIMD.maximumLane(largestV))
    }

    /// delta in Swift (ck_dpc_delta_rows_avx2 on x86-64): for a pair j < i, j is denser than i exactly
    /// when rho_j >= rho_i (the index tie-break favours j); otherwise i is denser than j.
    static func deltaRowsPortable(n: Int, dist: UnsafePointer<Float>, rho rhoBase: UnsafePointer<Float>, delta deltaBase: UnsafeMutablePointer<Float>) {
        let infinity = Vector(repeating: .infinity)
        for i in 1..<max(n, 1) {
            let row = dist + i * n, ownV = Vector(repeating: rhoBase[i])
            var bestV = infinity
            let vectorEnd = i & ~15
            var j = 0
            while j < vectorEnd {
                let values = loadVector(row + j)
                let jDenser = loadVector(rhoBase + j) .>= ownV
                let forRow = infinity.replacing(with: values, where: jDenser)
                bestV = bestV.replacing(with: forRow, where: forRow .< bestV)
                let current = loadVector(deltaBase + j)
                storeVector(current.replacing(with: values, where: .!jDenser .& (values .< current)), deltaBase + j)
                j += 16
            }
            var best = deltaBase[i]
            for lane in 0..<16 where bestV[lane] < best { best = bestV[lane] }
            while j < i {
                let value = row[j]
                if rhoBase[j] >= rhoBase[i] { best = min(best, value) } else { deltaBase[j] = min(deltaBase[j], value) }
                j += 1
            }
            deltaBase[i] = best
        }
    }

    /// `scratch` holds n * n floats: the Gram matrix, then the distances. The full-matrix version,
    /// kept as the plain twin of `lowerTriangleScores` (tests compare the two bit for bit).
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
