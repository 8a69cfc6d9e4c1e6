// How an evaluation is shown: the FTP-Pose paper's Table I row (Head Shoulder Elbow Wrist Hip Knee
// Ankle Mean), a per-joint table, and a JSON document for machines (docs/EVAL.md has its schema).
import Foundation

public enum EvalReport {
    /// One decimal like poseval's printTable ("%1.1f"); NaN prints as "nan" as it does there.
    static func cell(_ value: Double) -> String {
        value.isNaN ? "nan" : String(format: "%.1f", value)
    }

    /// The paper-style table, then the per-joint numbers.
    public static func table(_ summary: EvalSummary) -> String {
        let titles = EvalJoints.groups.map(\.name) + ["Mean"]
        let values = summary.groups + [summary.total]
        let widths = titles.map { max($0.count, 5) }
        func row(_ cells: [String]) -> String {
            zip(cells, widths).map { String(repeating: " ", count: max(0, $1 - $0.count)) + $0 }.joined(separator: "  ")
        }
        var lines = [
            "PoseTrack 2018 mAP (PCKh@0.5, as poseval computes it): \(summary.videos) video\(summary.videos == 1 ? "" : "s"), "
                + "\(summary.evaluatedFrames) of \(summary.frames) frames evaluated, "
                + "\(summary.groundTruthPeople) ground-truth and \(summary.predictedPeople) predicted people",
            row(titles),
            row(values.map(cell)),
            "",
            "joint               AP   precision  recall   gt joints  predicted    correct",
        ]
        for (joint, result) in summary.joints.enumerated() {
            let name = EvalJoints.names[joint].padding(toLength: 16, withPad: " ", startingAt: 0)
            func right(_ text: String, _ width: Int) -> String { String(repeating: " ", count: max(0, width - text.count)) + text }
            lines.append(name + right(cell(result.averagePrecision), 6) + right(cell(result.precision), 12)
                         + right(cell(result.recall), 8) + right(String(result.groundTruthJoints), 12)
                         + right(String(result.predictedJoints), 11) + right(String(result.truePositives), 11))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The JSON document of `--json`. NaN (a joint with predictions but no ground truth) is null.
    public static func json(_ summary: EvalSummary) throws -> [UInt8] {
        func number(_ value: Double) -> Double? { value.isNaN ? nil : value }
        let document = Document(
            metric: "PoseTrack 2018 mAP, PCKh@0.5, as poseval evaluateAP computes it",
            total: number(summary.total),
            groups: Dictionary(uniqueKeysWithValues: zip(EvalJoints.groups.map { $0.name.lowercased() }, summary.groups.map(number))),
            joints: summary.joints.enumerated().map { joint, result in
                Joint(name: EvalJoints.names[joint], ap: number(result.averagePrecision), precision: number(result.precision),
                      recall: number(result.recall), gtJoints: result.groundTruthJoints,
                      predictedJoints: result.predictedJoints, truePositives: result.truePositives)
            },
            counts: Counts(videos: summary.videos, frames: summary.frames, evaluatedFrames: summary.evaluatedFrames,
                           gtPeople: summary.groundTruthPeople, predictedPeople: summary.predictedPeople))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        return Array(try encoder.encode(document)) + [UInt8(ascii: "\n")]
    }

    struct Document: Encodable {
        var metric: String
        var total: Double?
        var groups: [String: Double?]
        var joints: [Joint]
        var counts: Counts

        enum CodingKeys: String, CodingKey { case metric, total, groups, joints, counts }

        func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(metric, forKey: .metric)
            try c.encode(total, forKey: .total)
            try c.encode(groups, forKey: .groups)
            try c.encode(joints, forKey: .joints)
            try c.encode(counts, forKey: .counts)
        }
    }

    struct Joint: Encodable {
        var name: String
        var ap: Double?
        var precision: Double?
        var recall: Double?
        var gtJoints: Int
        var predictedJoints: Int
        var truePositives: Int

        enum CodingKeys: String, CodingKey {
            case name, ap, precision, recall, gtJoints = "gt_joints", predictedJoints = "predicted_joints", truePositives = "true_positives"
        }

        func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(name, forKey: .name)
            try c.encode(ap, forKey: .ap)
            try c.encode(precision, forKey: .precision)
            try c.encode(recall, forKey: .recall)
            try c.encode(gtJoints, forKey: .gtJoints)
            try c.encode(predictedJoints, forKey: .predictedJoints)
            try c.encode(truePositives, forKey: .truePositives)
        }
    }

    struct Counts: Encodable {
        var videos: Int
        var frames: Int
        var evaluatedFrames: Int
        var gtPeople: Int
        var predictedPeople: Int

        enum CodingKeys: String, CodingKey {
            case videos, frames, evaluatedFrames = "evaluated_frames", gtPeople = "gt_people", predictedPeople = "predicted_people"
        }
    }
}
