// The CLEAR-MOT event counting of py-motmetrics 1.4 (MOTAccumulator.update), which poseval's
// evaluateTracking runs once per joint and video: a sans-IO value fed one frame at a time.
// It keeps exactly the state motmetrics keeps, because poseval's MOTP reads more than matches:
// it sums the column D of *all* events, and motmetrics also writes distances into its RAW,
// ASCEND, TRANSFER and MIGRATE rows (docs/EVAL.md, "Tracking").
import PoseCore

/// Event counts of one accumulator (motmetrics' num_misses, num_switches, ...) and the sum poseval
/// calls sumD (`acc.events['D'].sum()`).
public struct EvalTrackCounts: Equatable, Sendable {
    public var matches = 0
    public var switches = 0
    public var misses = 0
    public var falsePositives = 0
    /// Sum of the D column over every event, RAW rows included (NaN rows skipped, as pandas does).
    public var distanceSum = 0.0

    public init() {}

    /// num_objects: object occurrences, matched, switched or missed.
    public var objects: Int { matches + switches + misses }
    /// num_detections: matches plus switches.
    public var detections: Int { matches + switches }

    public static func + (a: EvalTrackCounts, b: EvalTrackCounts) -> EvalTrackCounts {
        var sum = a
        sum.matches += b.matches; sum.switches += b.switches; sum.misses += b.misses
        sum.falsePositives += b.falsePositives; sum.distanceSum += b.distanceSum
        return sum
    }
}

/// One joint's ground-truth objects and hypotheses in one frame, as poseval hands them to
/// motmetrics: track ids, and distances[o * hypotheses.count + h] in head sizes, NaN where the pair
/// may not match (not within 0.5 head sizes).
public struct EvalTrackFrame: Equatable, Sendable {
    public var objects: [Int]
    public var hypotheses: [Int]
    public var distances: [Double]

    public init(objects: [Int], hypotheses: [Int], distances: [Double]) {
        precondition(distances.count == objects.count * hypotheses.count, "EvalTrackFrame: distances must be objects x hypotheses")
        self.objects = objects; self.hypotheses = hypotheses; self.distances = distances
    }

    /// What poseval feeds for a frame where the ground truth or the predictions are empty: one
    /// object 0 and one hypothesis 0 that may not match, so one miss and one false positive.
    public static let placeholder = EvalTrackFrame(objects: [0], hypotheses: [0], distances: [.nan])

    public static func == (a: EvalTrackFrame, b: EvalTrackFrame) -> Bool {
        a.objects == b.objects && a.hypotheses == b.hypotheses && a.distances.count == b.distances.count
            && zip(a.distances, b.distances).allSatisfy { $0 == $1 || ($0.isNaN && $1.isNaN) }
    }
}

/// motmetrics' MOTAccumulator(auto_id=True), max_switch_time infinite.
public struct EvalTrackAccumulator: Sendable {
    public private(set) var counts = EvalTrackCounts()
    /// m: the hypothesis each object was last matched to.
    private var matchOfObject: [Int: Int] = [:]
    /// res_m: the object each hypothesis was last matched to in step 2.
    private var objectOfHypothesis: [Int: Int] = [:]
    /// last_match and hypHistory: only whether a key is present is ever read.
    private var objectsEverMatched = Set<Int>()
    private var hypothesesEverMatched = Set<Int>()

    public init() {}

    public mutating func update(_ frame: EvalTrackFrame) {
        let objects = frame.objects, hypotheses = frame.hypotheses
        let columns = hypotheses.count
        var distances = frame.distances
        // 0. RAW events: every finite distance (the others carry NaN, which the sum skips).
        for d in distances where d.isFinite { counts.distanceSum += d }
        var objectMatched = [Bool](repeating: false, count: objects.count)
        var hypothesisMatched = [Bool](repeating: false, count: columns)

        if !objects.isEmpty && columns > 0 {
            // 1. Keep the correspondences of earlier frames where the pair may still match.
            for (i, object) in objects.enumerated() {
                guard let previous = matchOfObject[object],
                      let j = hypotheses.indices.first(where: { !hypothesisMatched[$0] && hypotheses[$0] == previous }),
                      distances[i * columns + j].isFinite else { continue }
                objectMatched[i] = true
                hypothesisMatched[j] = true
                counts.matches += 1
                counts.distanceSum += distances[i * columns + j]
                objectsEverMatched.insert(object)
                hypothesesEverMatched.insert(previous)
            }
            // 2. The rest: a minimum-cost assignment among the pairs that may match.
            for i in objects.indices where objectMatched[i] { for j in 0..<columns { distances[i * columns + j] = .nan } }
            for j in 0..<columns where hypothesisMatched[j] { for i in objects.indices { distances[i * columns + j] = .nan } }
            for (i, j) in Self.assignment(distances, rows: objects.count, columns: columns) {
                let object = objects[i], hypothesis = hypotheses[j], d = distances[i * columns + j]
                let isSwitch = matchOfObject[object].map { $0 != hypothesis } ?? false
                if isSwitch {
                    counts.switches += 1
                    if !hypothesesEverMatched.contains(hypothesis) { counts.distanceSum += d }   // ASCEND
                } else {
                    counts.matches += 1
                }
                if let owner = objectOfHypothesis[hypothesis], owner != object {
                    counts.distanceSum += d                                                     // TRANSFER
                    if !objectsEverMatched.contains(object) { counts.distanceSum += d }         // MIGRATE
                }
                counts.distanceSum += d                                                         // MATCH or SWITCH
                hypothesesEverMatched.insert(hypothesis)
                objectsEverMatched.insert(object)
                objectMatched[i] = true
                hypothesisMatched[j] = true
                matchOfObject[object] = hypothesis
                objectOfHypothesis[hypothesis] = object
            }
        }
        // 3. and 4. Objects left are misses, hypotheses left false positives.
        counts.misses += objectMatched.filter { !$0 }.count
        counts.falsePositives += hypothesisMatched.filter { !$0 }.count
    }

    /// motmetrics.lap.linear_sum_assignment with the scipy solver: pairs that may not match cost
    /// 2 r c + 1 (r = min(rows, columns), c = 1 + the largest |finite cost|), which makes the
    /// assignment match as many pairs as possible and, among those, minimise the sum; the pairs
    /// that may not match are then left out. Where two assignments cost exactly the same, scipy
    /// and this may pick different ones (docs/EVAL.md).
    static func assignment(_ costs: [Double], rows: Int, columns: Int) -> [(Int, Int)] {
        let finite = costs.filter(\.isFinite)
        guard !finite.isEmpty else { return [] }
        let c = finite.map(abs).max()! + 1
        let large = 2 * Double(min(rows, columns)) * c + 1
        let columnOfRow = Hungarian.assign(costs: costs.map { $0.isFinite ? $0 : large }, rows: rows, columns: columns)
        return columnOfRow.enumerated().compactMap { row, column in
            column >= 0 && costs[row * columns + column].isFinite ? (row, column) : nil
        }
    }
}
