// Average precision of one joint over all evaluated frames (eval_helpers.computeRPC and VOCap,
// evaluateAP.computeMetrics), and the numbers the table and the JSON report carry.

public struct EvalJointResult: Equatable, Sendable {
    /// AP x 100. 0 when the joint has no predictions at all (poseval's array starts at zeros);
    /// NaN when it has predictions but no ground truth anywhere (recall 0/0).
    public var averagePrecision: Double
    /// Precision and recall x 100 at the end of the ranking (all predictions kept), as poseval reports them.
    public var precision: Double
    public var recall: Double
    public var groundTruthJoints: Int
    public var predictedJoints: Int
    public var truePositives: Int

    public static func == (a: EvalJointResult, b: EvalJointResult) -> Bool {
        func same(_ x: Double, _ y: Double) -> Bool { x == y || (x.isNaN && y.isNaN) }
        return same(a.averagePrecision, b.averagePrecision) && same(a.precision, b.precision) && same(a.recall, b.recall)
            && a.groundTruthJoints == b.groundTruthJoints && a.predictedJoints == b.predictedJoints
            && a.truePositives == b.truePositives
    }
}

public enum EvalAveragePrecision {
    /// The ranking poseval uses: `np.array(scores).argsort()[::-1]`, highest score first. Ties are
    /// taken as a stable ascending sort reversed, so the later entry of equal scores comes first;
    /// numpy's default sort is not stable for larger arrays, so on tied scores poseval's own order
    /// depends on the numpy build (docs/EVAL.md). NaN sorts above everything, as numpy puts it last.
    public static func ranking(_ scores: [Double]) -> [Int] {
        let ascending = scores.indices.sorted { a, b in
            let x = scores[a], y = scores[b]
            if x.isNaN || y.isNaN {
                if x.isNaN != y.isNaN { return y.isNaN }
                return a < b
            }
            return x != y ? x < y : a < b
        }
        return ascending.reversed()
    }

    /// AP, final precision and recall (all x 100) of one joint's entries against `groundTruthJoints`.
    public static func evaluate(_ entries: [(score: Double, isMatch: Bool)], groundTruthJoints: Int) -> EvalJointResult {
        let truePositives = entries.filter(\.isMatch).count
        // Each ground-truth person takes at most one prediction, so each annotated joint is found at most once.
        precondition(truePositives <= groundTruthJoints, "more true positives (\(truePositives)) than ground-truth joints (\(groundTruthJoints))")
        var result = EvalJointResult(averagePrecision: 0, precision: 0, recall: 0, groundTruthJoints: groundTruthJoints,
                                     predictedJoints: entries.count, truePositives: truePositives)
        guard !entries.isEmpty else { return result }
        let order = ranking(entries.map(\.score))
        let total = Double(groundTruthJoints)
        var precision = [Double](repeating: 0, count: order.count)
        var recall = [Double](repeating: 0, count: order.count)
        var positives = 0
        for (rank, index) in order.enumerated() {
            if entries[index].isMatch { positives += 1 }
            recall[rank] = Double(positives) / total          // 0/0 = NaN when the joint has no ground truth
            precision[rank] = Double(positives) / Double(rank + 1)
        }
        result.averagePrecision = voc(recall: recall, precision: precision) * 100
        result.precision = precision[precision.count - 1] * 100
        result.recall = recall[recall.count - 1] * 100
        return result
    }

    /// eval_helpers.VOCap: precision made non-increasing from the right, summed over recall steps.
    static func voc(recall: [Double], precision: [Double]) -> Double {
        let r = [0] + recall + [1]
        var p = [0] + precision + [0]
        for i in stride(from: p.count - 2, through: 0, by: -1) where p[i + 1] > p[i] { p[i] = p[i + 1] }
        var area = 0.0
        for i in 1..<r.count where r[i] != r[i - 1] {           // NaN != NaN: NaN recalls make AP NaN
            area += (r[i] - r[i - 1]) * p[i]
        }
        return area
    }

    /// The mean of the values that are not NaN (computeMetrics' total); NaN when all are.
    public static func meanIgnoringNaN(_ values: [Double]) -> Double {
        let kept = values.filter { !$0.isNaN }
        return kept.isEmpty ? .nan : kept.reduce(0, +) / Double(kept.count)
    }

    /// A plain mean, NaN if any value is (getCum's group means).
    public static func mean(_ values: [Double]) -> Double {
        values.reduce(0, +) / Double(values.count)
    }
}
