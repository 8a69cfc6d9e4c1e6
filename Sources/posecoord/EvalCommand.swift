// posecoord eval: PoseTrack mAP (and with --track the tracking metrics) of a folder of predictions
// against a folder of ground truth, computed as the official kit (poseval) computes them. Tables on
// stdout, JSON with --json.
import Foundation
import PoseCore
import PoseEval

enum EvalCommand {
    static let spec = CommandSpec("eval", summary: "PoseTrack mAP (and with --track MOTA) of predictions against ground truth, as poseval computes it", options: [
        .required("--gt", "DIR", "ground-truth PoseTrack .json files"),
        .required("--pred", "DIR", "predicted PoseTrack .json files, one per ground-truth file"),
        .flag("--track", "also evaluate tracking: MOTA, MOTP, precision, recall"),
        .option("--json", "FILE", "also write the results as JSON to FILE"),
        .option("--threads", "N", "videos evaluated in parallel", default: "2"),
    ])

    static func main(_ arguments: inout CommandArguments) throws -> Int32 {
        let truth = try arguments.required("--gt")
        let prediction = try arguments.required("--pred")
        let jsonPath = try arguments.option("--json")
        let threads = try arguments.int("--threads", range: 1...256)
        let tracking = arguments.flag("--track")
        try arguments.finish()

        let progress = EvalProgress()
        let (summary, videos) = try EvalDataset.evaluate(truthDirectory: truth, predictionDirectory: prediction,
                                                         threads: threads, tracking: tracking, progress: progress.report)
        progress.finish()
        let missingScores = videos.filter(\.hasMissingScores)
        if !missingScores.isEmpty {
            FileHandleOutput.error("warning: \(missingScores.count) prediction file(s) have people without joint scores (first: \(missingScores[0].name).json); their joints score \(EvalJoints.missingScore) as in poseval")
        }
        let otherVideos = videos.filter { $0.imagesOfOtherVideos > 0 }
        if !otherVideos.isEmpty {
            FileHandleOutput.error("warning: \(otherVideos.count) file(s) list images of more than one video folder (first: \(otherVideos[0].name).json); as poseval does, only the first video's frames are evaluated")
        }
        if summary.evaluatedFrames == 0 {
            FileHandleOutput.error("warning: no ground-truth frame lists a person, so nothing was evaluated (poseval reports 0 then too)")
        }
        let single = videos.filter { $0.evaluatedFrames == 1 }
        if tracking && !single.isEmpty {
            FileHandleOutput.error("warning: \(single.count) video(s) have a single evaluated frame (first: \(single[0].name).json); poseval's tracking evaluation crashes on them (it drops each video's last evaluated frame), here they add nothing to the tracking metrics")
        }
        print(EvalReport.table(summary), terminator: "")
        if let t = summary.tracking { print("\n" + EvalReport.trackingTable(t), terminator: "") }
        if let jsonPath {
            try AtomicFile.write(try EvalReport.json(summary), to: jsonPath)
        }
        return 0
    }
}
