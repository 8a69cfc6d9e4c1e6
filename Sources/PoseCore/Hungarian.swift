// Minimum-cost assignment (Hungarian method with potentials, O(n^2 m)) for the tracker and the
// tracking evaluation. Deterministic: ties go to the lowest column index found first.

public enum Hungarian {
    /// For a `rows x columns` cost matrix (row-major), the column assigned to each row, or -1.
    /// Every row gets a column when rows <= columns, otherwise every column gets a row.
    public static func assign(costs: [Double], rows: Int, columns: Int) -> [Int] {
        precondition(costs.count == rows * columns, "Hungarian: \(costs.count) costs for \(rows)x\(columns)")
        precondition(costs.allSatisfy { $0.isFinite }, "Hungarian: costs must be finite")
        if rows == 0 { return [] }
        if columns == 0 { return [Int](repeating: -1, count: rows) }
        if rows > columns {
            var transposed = [Double](repeating: 0, count: rows * columns)
            for r in 0..<rows { for c in 0..<columns { transposed[c * rows + r] = costs[r * columns + c] } }
            let columnToRow = assign(costs: transposed, rows: columns, columns: rows)
            var rowToColumn = [Int](repeating: -1, count: rows)
            for (c, r) in columnToRow.enumerated() where r >= 0 { rowToColumn[r] = c }
            return rowToColumn
        }
        // 1-based arrays as in the classic formulation; p[j]: row matched to column j.
        let n = rows, m = columns
        var u = [Double](repeating: 0, count: n + 1), v = [Double](repeating: 0, count: m + 1)
        var p = [Int](repeating: 0, count: m + 1), way = [Int](repeating: 0, count: m + 1)
        for i in 1...n {
            p[0] = i
            var j0 = 0
            var minv = [Double](repeating: .infinity, count: m + 1)
            var used = [Bool](repeating: false, count: m + 1)
            repeat {
                used[j0] = true
                let i0 = p[j0]
                var delta = Double.infinity, j1 = 0
                for j in 1...m where !used[j] {
                    let current = costs[(i0 - 1) * m + (j - 1)] - u[i0] - v[j]
                    if current < minv[j] { minv[j] = current; way[j] = j0 }
                    if minv[j] < delta { delta = minv[j]; j1 = j }
                }
                for j in 0...m {
                    if used[j] { u[p[j]] += delta; v[j] -= delta } else { minv[j] -= delta }
                }
                j0 = j1
            } while p[j0] != 0
            repeat {
                let j1 = way[j0]
                p[j0] = p[j1]
                j0 = j1
            } while j0 != 0
        }
        var result = [Int](repeating: -1, count: n)
        for j in 1...m where p[j] != 0 { result[p[j] - 1] = j - 1 }
        return result
    }

    /// Brute force over all assignments (reference for tests; tiny inputs only).
    public static func bruteForceCost(costs: [Double], rows: Int, columns: Int) -> Double {
        precondition(rows <= columns && columns <= 8, "bruteForceCost: small and rows <= columns only")
        var best = Double.infinity
        var used = [Bool](repeating: false, count: columns)
        func search(_ row: Int, _ total: Double) {
            if row == rows { best = min(best, total); return }
            for c in 0..<columns where !used[c] {
                used[c] = true
                search(row + 1, total + costs[row * columns + c])
                used[c] = false
            }
        }
        search(0, 0)
        return best
    }
}
