// One evaluated frame, as eval_helpers.removeIgnoredPoints and assignGTmulti treat it: joints in
// ignore regions removed, PCKh@0.5 shares between every prediction and every ground-truth person,
// the greedy assignment, then one (score, correct?) entry per predicted joint.

/// What a frame adds to the per-joint lists. Entries are in prediction order, then joint order,
/// which is the order poseval appends them in (it matters for tied scores).
public struct EvalFrameEntries: Equatable, Sendable {
    /// entries[joint]: (joint score, true positive?) for each prediction that has the joint.
    public var entries: [[(score: Double, isMatch: Bool)]]
    /// Annotated ground-truth joints, per joint.
    public var groundTruthJoints: [Int]

    public static func == (a: EvalFrameEntries, b: EvalFrameEntries) -> Bool {
        a.groundTruthJoints == b.groundTruthJoints && a.entries.count == b.entries.count
            && zip(a.entries, b.entries).allSatisfy { x, y in
                x.count == y.count && zip(x, y).allSatisfy { $0.score == $1.score && $0.isMatch == $1.isMatch }
            }
    }
}

public enum EvalMatching {
    /// eval_helpers.removeIgnoredPointsRects: with any ignore polygon in the frame, points strictly
    /// inside one are removed, then people without points (even those that had none) are dropped.
    public static func removingIgnored(_ people: [EvalPerson], regions: [EvalPolygon]) -> [EvalPerson] {
        guard !regions.isEmpty else { return people }
        return people.compactMap { person in
            var kept = person
            kept.points = person.points.filter { point in !regions.contains { $0.contains(x: point.x, y: point.y) } }
            return kept.points.isEmpty ? nil : kept
        }
    }

    /// PCKh distance of a predicted joint from a ground-truth joint, in head sizes. A zero head
    /// size gives inf or NaN, which never counts as a match (as numpy's division does).
    static func normalizedDistance(_ prediction: EvalPoint, _ truth: EvalPoint, headSize: Double) -> Double {
        let dx = truth.x - prediction.x, dy = truth.y - prediction.y
        return (dx * dx + dy * dy).squareRoot() / headSize
    }

    /// eval_helpers.assignGTmulti for one frame, after ignore regions are applied.
    /// Throws when poseval would need a ground-truth head box that is absent.
    public static func entries(truth: [EvalPerson], predictions: [EvalPerson]) throws(EvalMissingHeadBox) -> EvalFrameEntries {
        let jointCount = EvalJoints.count
        var result = EvalFrameEntries(entries: Array(repeating: [], count: jointCount),
                                      groundTruthJoints: Array(repeating: 0, count: jointCount))
        let truthIndex = truth.map { $0.jointIndex() }
        let predictionIndex = predictions.map { $0.jointIndex() }
        for index in truthIndex {
            for joint in 0..<jointCount where index[joint] >= 0 { result.groundTruthJoints[joint] += 1 }
        }
        func score(_ p: Int, _ joint: Int) -> Double {
            predictions[p].points[predictionIndex[p][joint]].score ?? EvalJoints.missingScore
        }
        func appendAll(_ p: Int, matches: [Bool]?) {
            for joint in 0..<jointCount where predictionIndex[p][joint] >= 0 {
                result.entries[joint].append((score(p, joint), matches?[joint] ?? false))
            }
        }
        // With no ground truth left every prediction is a false positive; with no predictions
        // there is nothing to add.
        guard !truth.isEmpty, !predictions.isEmpty else {
            if truth.isEmpty { for p in predictions.indices { appendAll(p, matches: nil) } }
            return result
        }

        // match[p][g][joint] and share[p][g] = matched joints / annotated joints of g.
        let distance = try distances(truth: truth, predictions: predictions, truthIndex: truthIndex, predictionIndex: predictionIndex)
        let match = distance.map { row in row.map { joints in joints.map { $0 <= EvalJoints.distanceThreshold } } }
        var share = Array(repeating: [Double](repeating: 0, count: truth.count), count: predictions.count)
        for g in truth.indices {
            let annotated = truthIndex[g].filter { $0 >= 0 }.count
            for p in predictions.indices {
                let matched = match[p][g].filter { $0 }.count
                share[p][g] = annotated > 0 ? Double(matched) / Double(annotated) : Double(matched)
            }
        }
        // Each prediction keeps only its best ground truth (np.argmax: the first of equal maxima)...
        for p in predictions.indices {
            let best = argmax(share[p])
            for g in truth.indices where g != best { share[p][g] = 0 }
        }
        // ...then each ground truth takes the prediction with the highest remaining share, none if 0.
        var truthOfPrediction = [Int](repeating: -1, count: predictions.count)
        for g in truth.indices {
            let column = predictions.indices.map { share[$0][g] }
            let p = argmax(column)
            if column[p] != 0 { truthOfPrediction[p] = g }
        }
        for p in predictions.indices {
            let g = truthOfPrediction[p]
            appendAll(p, matches: g >= 0 ? match[p][g] : nil)
        }
        return result
    }

    /// distance[p][g][joint] in head sizes where both have the joint, +inf elsewhere (assignGTmulti's `dist`).
    static func distances(truth: [EvalPerson], predictions: [EvalPerson], truthIndex: [[Int]],
                          predictionIndex: [[Int]]) throws(EvalMissingHeadBox) -> [[[Double]]] {
        var distance = Array(repeating: Array(repeating: [Double](repeating: .infinity, count: EvalJoints.count), count: truth.count),
                             count: predictions.count)
        for g in truth.indices {
            guard let box = truth[g].headBox else { throw EvalMissingHeadBox(person: g) }
            let headSize = box.headSize
            for p in predictions.indices {
                for joint in 0..<EvalJoints.count where truthIndex[g][joint] >= 0 && predictionIndex[p][joint] >= 0 {
                    distance[p][g][joint] = normalizedDistance(predictions[p].points[predictionIndex[p][joint]],
                                                               truth[g].points[truthIndex[g][joint]], headSize: headSize)
                }
            }
        }
        return distance
    }

    /// What assignGTmulti stores in `motAll` for one frame, per joint: the track ids of the
    /// ground-truth people and predictions that have the joint, in file order, and their distances
    /// where within 0.5 head sizes (NaN otherwise). A frame without ground truth or without
    /// predictions gets poseval's placeholder (one unmatchable object and hypothesis, both id 0).
    public static func trackingFrames(truth: [EvalPerson], predictions: [EvalPerson]) throws(EvalMissingHeadBox) -> [EvalTrackFrame] {
        guard !truth.isEmpty, !predictions.isEmpty else {
            return Array(repeating: .placeholder, count: EvalJoints.count)
        }
        let truthIndex = truth.map { $0.jointIndex() }
        let predictionIndex = predictions.map { $0.jointIndex() }
        let distance = try distances(truth: truth, predictions: predictions, truthIndex: truthIndex, predictionIndex: predictionIndex)
        return (0..<EvalJoints.count).map { joint in
            let objects = truth.indices.filter { truthIndex[$0][joint] >= 0 }
            let hypotheses = predictions.indices.filter { predictionIndex[$0][joint] >= 0 }
            var pairs: [Double] = []
            for g in objects {
                for p in hypotheses {
                    let d = distance[p][g][joint]
                    pairs.append(d <= EvalJoints.distanceThreshold ? d : .nan)
                }
            }
            return EvalTrackFrame(objects: objects.map { truth[$0].trackID }, hypotheses: hypotheses.map { predictions[$0].trackID },
                                  distances: pairs)
        }
    }

    /// numpy's argmax for values without NaN: the first index of the maximum.
    static func argmax(_ values: [Double]) -> Int {
        var best = 0
        for i in values.indices where values[i] > values[best] { best = i }
        return best
    }
}

/// A ground-truth person without `bbox_head` in a frame where poseval needs its head size.
public struct EvalMissingHeadBox: Error, Equatable {
    public let person: Int
}
