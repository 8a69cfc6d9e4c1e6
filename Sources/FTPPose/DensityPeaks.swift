// DPC-kNN token selection (FTP-POSE.md section 4), in the reference's float32 order of operations:
// distances from the Gram matrix / sqrt(D), density from the kNN (self included), delta to the
// nearest denser token with a fixed index tie-break, score = rho * delta, top-K (lower index wins
// ties), returned ascending. Nothing random: a window always keeps the same tokens.
import Foundation
import PoseTensor

public enum DensityPeaks {
    /// Scores of the N rows of `x: [N, D]` (row stride `ldx`).
    public static func scores(x: UnsafePointer<Float>, count n: Int, dim d: Int, ldx: Int, knnK: Int, tau: Float) -> [Float] {
        // dist: [N, N] from |x_i|^2 + |x_j|^2 - 2 x_i.x_j, clamped at 0.
        let gram = Matrix(rows: n, cols: n)
        let packed = PackedMatrix(weights: x, n: n, k: d, ldw: ldx)
        GEMM.multiply(m: n, a: x, lda: ldx, w: packed, bias: nil, c: gram.pointer, ldc: n)
        var squares = [Float](repeating: 0, count: n)
        for i in 0..<n {
            var sum: Float = 0
            for j in 0..<d { sum += x[i * ldx + j] * x[i * ldx + j] }
            squares[i] = sum
        }
        let inverseScale = Float(Double(d).squareRoot())
        let dist = gram.pointer
        var largest: Float = 0
        for i in 0..<n {
            let row = dist + i * n
            for j in 0..<n {
                let value = max(squares[i] + squares[j] - 2 * row[j], 0).squareRoot() / inverseScale
                row[j] = value
                largest = max(largest, value)
            }
        }
        // rho_i = exp(-mean of the k smallest dist^2 (self included) / tau)
        let k = min(knnK, n)
        var rho = [Float](repeating: 0, count: n)
        var nearest = [Float](repeating: 0, count: k)
        for i in 0..<n {
            let row = dist + i * n
            var filled = 0
            for j in 0..<n {
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
            }
            var sum: Float = 0
            for value in nearest { sum += value * value }
            rho[i] = Foundation.exp(-(sum / Float(k)) / tau)
        }
        // delta_i = min dist to a denser token; the densest gets the largest distance of all.
        var score = [Float](repeating: 0, count: n)
        for i in 0..<n {
            let row = dist + i * n
            var delta = Float.infinity
            var hasDenser = false
            for j in 0..<n where rho[j] > rho[i] || (rho[j] == rho[i] && j < i) {
                hasDenser = true
                delta = min(delta, row[j])
            }
            score[i] = rho[i] * (hasDenser ? delta : largest)
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
