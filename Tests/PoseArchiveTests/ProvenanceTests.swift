// Provenance in the outputs: every PoseTrack file's `info` and the job report record the model
// (family, config, SHA-256, random or not), the precision, the build and each video's detection
// source; files of others with an `info` of their own still read.
import Foundation
import PoseCore
@testable import PoseArchive
import XCTest

final class ProvenanceTests: XCTestCase {
    let provenance = Provenance(version: "9.9.9", commit: "abc123", model: Provenance.Model(
        family: "ftp-pose", config: "demo", sha256: String(repeating: "ab", count: 32), bytes: 1234,
        weights: "random (seed 0): no --weights given, the keypoints are meaningless", random: true), precision: "fp32")

    func testOutputFilesAndJobReportRecordProvenanceAndDetectionSource() throws {
        let root = try temporaryFolder(self)
        try SyntheticArchive.make(SynthOptions(videos: 2, frames: 4, people: 1, width: 64, height: 48, format: .jpeg, seed: 3), out: root + "/archive")
        for (format, name) in [(DetectionFormat.cocoResults, "coco-results"), (.mot, "mot")] {
            let out = root + "/out-\(name)"
            let runner = ArchiveRunner(options: ArchiveOptions(archive: root + "/archive", detectionFormat: format), outDirectory: out,
                                       estimator: CropHashEstimator())
            runner.provenance = provenance
            XCTAssertTrue(try runner.run().succeeded)
            let file = try PoseTrackFile.decode(Data(contentsOf: URL(fileURLWithPath: out + "/000002_mpii_test.json")), path: "out")
            let info = try XCTUnwrap(file.info)
            XCTAssertEqual(info.model, provenance.model)
            XCTAssertEqual([info.software, info.version, info.commit, info.precision], ["posecluster", "9.9.9", "abc123", "fp32"])
            XCTAssertEqual(info.detections, Provenance.Detections(file: "000002_mpii_test" + (format == .mot ? ".txt" : ".dets.json"), format: name))
            let report = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: JobReport.path(in: out)))) as! [String: Any]
            let recorded = try XCTUnwrap(report["provenance"] as? [String: Any])
            let model = try XCTUnwrap(recorded["model"] as? [String: Any])
            XCTAssertEqual(model["random"] as? Bool, true)
            XCTAssertEqual(model["sha256"] as? String, provenance.model.sha256)
            XCTAssertEqual(recorded["precision"] as? String, "fp32")
            XCTAssertNil(recorded["detections"], "the job's record leaves detections to each video")
            let videos = try XCTUnwrap(report["videos"] as? [[String: Any]])
            XCTAssertEqual(videos.map { ($0["detections"] as? [String: String])?["format"] }, [name, name])
        }
        // Without provenance (library callers) files carry no info.
        XCTAssertTrue(try ArchiveRunner(options: ArchiveOptions(archive: root + "/archive"), outDirectory: root + "/bare",
                                        estimator: CropHashEstimator()).run().succeeded)
        let bare = try String(contentsOfFile: root + "/bare/000001_mpii_test.json", encoding: .utf8)
        XCTAssertFalse(bare.contains("\"info\""))
    }

    func testAForeignInfoReadsAsAbsent() throws {
        let text = #"{"info": {"description": "COCO 2017", "year": 2017}, "images": [], "annotations": [], "categories": []}"#
        let file = try PoseTrackFile.decode(Data(text.utf8), path: "coco.json")
        XCTAssertNil(file.info)
        let ours = PoseTrackFile(images: [], annotations: [], info: provenance)
        XCTAssertEqual(try PoseTrackFile.decode(Data(ours.encoded()), path: "ours").info, provenance)
    }
}
