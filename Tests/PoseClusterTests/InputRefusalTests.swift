// The commands refuse inputs that cannot make a job, with a reason and a non-zero exit
// (issue 12): an archive without videos (run and serve), a weights file of another format.
import Foundation
import XCTest

final class InputRefusalTests: ClusterTestCase {
    func testArchiveWithoutVideosIsRefused() throws {
        let archive = directory + "/empty"
        try FileManager.default.createDirectory(atPath: archive + "/annotations", withIntermediateDirectories: true)
        try Data("notes".utf8).write(to: URL(fileURLWithPath: archive + "/README.txt"))
        let (status, output) = try runToEnd("run-empty", "posecoord", ["run", "--archive", archive, "--out", directory + "/out"], timeout: 60)
        XCTAssertEqual(status, 1, output)
        XCTAssertTrue(output.contains("no videos found"), output)
        XCTAssertFalse(FileManager.default.fileExists(atPath: directory + "/out"), "nothing is written for a refused job")

        let (served, serveOutput) = try runToEnd("serve-empty", "posecoord", ["serve", "--archive", archive, "--out", directory + "/served",
                                                                            "--listen", "127.0.0.1:0"], timeout: 60)
        XCTAssertEqual(served, 1, serveOutput)
        XCTAssertTrue(serveOutput.contains("no videos found"), serveOutput)
    }

    func testWeightsOfAnotherFormatAreNamed() throws {
        let archive = directory + "/archive"
        try FileManager.default.createDirectory(atPath: archive, withIntermediateDirectories: true)
        let weights = directory + "/model.pt"
        // The start of a zip archive, as torch.save writes.
        try Data([0x50, 0x4B, 0x03, 0x04, 0x14, 0x00, 0x00, 0x08, 0x08, 0x00] + [UInt8](repeating: 1, count: 200)).write(to: URL(fileURLWithPath: weights))
        let (status, output) = try runToEnd("run-weights", "posecoord", ["run", "--archive", archive, "--out", directory + "/out", "--weights", weights], timeout: 60)
        XCTAssertEqual(status, 1, output)
        XCTAssertTrue(output.contains("not a safetensors file (it is a zip archive"), output)
        XCTAssertTrue(output.contains("model.pt"), "names the file: \(output)")
        XCTAssertFalse(output.contains("header length"), output)
    }
}
