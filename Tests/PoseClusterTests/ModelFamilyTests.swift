// ModelFamily, the one place a family is chosen: from a file's metadata, for run, serve and
// workers alike; the coordinator's descriptor names the family; bad files are sentences with the path.
import Foundation
import PoseCore
import XCTest
@testable import PoseCluster

final class ModelFamilyTests: XCTestCase {
    func testFamilyComesFromTheMetadata() throws {
        XCTAssertEqual(ModelFamily.of(metadata: ["blazepose.config": "{}"]), .blazePoseFull)
        XCTAssertEqual(ModelFamily.of(metadata: ["ftp_pose.config": "{}"]), .ftpPose)
        XCTAssertEqual(ModelFamily.of(metadata: [:]), .ftpPose)
        XCTAssertEqual(ModelFamily.of(safetensors: [1, 2, 3]), .ftpPose, "not safetensors: FTP-Pose's loader refuses it with its reason")
        XCTAssertEqual(ModelFamily.of(safetensors: try ClusterModel.load(weightsPath: nil).weights), .ftpPose, "the random demo weights")
    }

    func testDescriptorNamesTheFamily() throws {
        XCTAssertEqual(try ClusterModel.load(weightsPath: nil).descriptor.family, "ftp-pose")
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let path = root.appendingPathComponent("configs/models/blazepose-full.safetensors").path
        guard FileManager.default.fileExists(atPath: path) else {
            throw XCTSkip("BlazePose descriptor not tested: \(path) is missing (ops/models/fetch_blazepose.sh)")
        }
        let descriptor = try ClusterModel.load(weightsPath: path).descriptor
        XCTAssertEqual(descriptor.family, "blazepose-full")
        XCTAssertEqual(descriptor.inputShape, ModelInputShape(width: 256, height: 256, frames: 1, joints: 17))
        // A truncated copy: refused at load with the file named, before any worker sees it.
        let truncated = FileManager.default.temporaryDirectory.appendingPathComponent("blazepose-truncated-\(getpid()).safetensors").path
        defer { try? FileManager.default.removeItem(atPath: truncated) }
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        try bytes.prefix(bytes.count / 2).write(to: URL(fileURLWithPath: truncated))
        XCTAssertThrowsError(try ModelFamily.estimator(contentsOfFile: truncated, threads: 1, batchWindows: 1)) { error in
            XCTAssertTrue("\(error)".hasPrefix(truncated + ": "), "\(error)")
            XCTAssertTrue("\(error)".contains("beyond"), "\(error)")
        }
    }

    func testMissingFileIsASentence() {
        XCTAssertThrowsError(try ModelFamily.estimator(contentsOfFile: "/nonexistent/model.safetensors", threads: 1, batchWindows: 1)) { error in
            XCTAssertEqual("\(error)", "/nonexistent/model.safetensors: cannot read the file")
        }
    }
}
