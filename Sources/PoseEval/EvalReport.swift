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

    /// The tracking table: MOTA per group and total, then MOTP, precision and recall totals (the row
    /// poseval prints), then the per-joint numbers and events.
    public static func trackingTable(_ t: EvalTrackingSummary) -> String {
        let titles = EvalJoints.groups.map(\.name) + ["Total", "MOTP", "Prec", "Rec"]
        let values = t.motaGroups + [t.total.mota, t.total.motp, t.total.precision, t.total.recall]
        let widths = titles.map { max($0.count, 5) }
        func right(_ text: String, _ width: Int) -> String { String(repeating: " ", count: max(0, width - text.count)) + text }
        func row(_ cells: [String]) -> String { zip(cells, widths).map { right($0, $1) }.joined(separator: "  ") }
        var lines = [
            "PoseTrack tracking (CLEAR MOT per joint, as poseval evaluateTracking computes it): MOTA per group, then totals",
            row(titles),
            row(values.map(cell)),
            "",
            "joint             MOTA    MOTP   precision  recall    objects    misses  switches  false pos",
        ]
        for (joint, m) in t.joints.enumerated() {
            let c = t.counts[joint]
            lines.append(EvalJoints.names[joint].padding(toLength: 16, withPad: " ", startingAt: 0) + right(cell(m.mota), 6)
                         + right(cell(m.motp), 8) + right(cell(m.precision), 12) + right(cell(m.recall), 8)
                         + right(String(c.objects), 11) + right(String(c.misses), 10) + right(String(c.switches), 10)
                         + right(String(c.falsePositives), 11))
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
                           gtPeople: summary.groundTruthPeople, predictedPeople: summary.predictedPeople),
            tracking: summary.tracking.map { t in
                Tracking(metric: "PoseTrack MOT per joint, as poseval evaluateTracking computes it (py-motmetrics 1.4)",
                         total: TrackMetrics(t.total, number),
                         motaGroups: Dictionary(uniqueKeysWithValues: zip(EvalJoints.groups.map { $0.name.lowercased() }, t.motaGroups.map(number))),
                         joints: t.joints.enumerated().map { joint, m in
                             let c = t.counts[joint]
                             return TrackJoint(name: EvalJoints.names[joint], metrics: TrackMetrics(m, number), objects: c.objects,
                                               matches: c.matches, misses: c.misses, switches: c.switches,
                                               falsePositives: c.falsePositives, distanceSum: c.distanceSum)
                         })
            })
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
        var tracking: Tracking?

        enum CodingKeys: String, CodingKey { case metric, total, groups, joints, counts, tracking }

        func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(metric, forKey: .metric)
            try c.encode(total, forKey: .total)
            try c.encode(groups, forKey: .groups)
            try c.encode(joints, forKey: .joints)
            try c.encode(counts, forKey: .counts)
            try c.encodeIfPresent(tracking, forKey: .tracking)
        }
    }

    struct Tracking: Encodable {
        var metric: String
        var total: TrackMetrics
        var motaGroups: [String: Double?]
        var joints: [TrackJoint]

        enum CodingKeys: String, CodingKey { case metric, total, motaGroups = "mota_groups", joints }
    }

    /// NaN is written as null (the keys are always there).
    struct TrackMetrics: Encodable {
        var mota: Double?, motp: Double?, precision: Double?, recall: Double?

        init(_ m: EvalTrackMetrics, _ number: (Double) -> Double?) {
            mota = number(m.mota); motp = number(m.motp); precision = number(m.precision); recall = number(m.recall)
        }

        enum CodingKeys: String, CodingKey { case mota, motp, precision, recall }

        func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(mota, forKey: .mota)
            try c.encode(motp, forKey: .motp)
            try c.encode(precision, forKey: .precision)
            try c.encode(recall, forKey: .recall)
        }
    }

    struct TrackJoint: Encodable {
        var name: String
        var metrics: TrackMetrics
        var objects, matches, misses, switches, falsePositives: Int
        var distanceSum: Double

        enum CodingKeys: String, CodingKey {
            case name, metrics, objects, matches, misses, switches, falsePositives = "false_positives", distanceSum = "distance_sum"
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
