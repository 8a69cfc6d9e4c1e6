// HOG frames/s, Swift beside OpenCV's detectMultiScale on the same 20 vtest.avi frames with the
// same parameters, in one run. Runs only with POSE_HOG_BENCH=1; POSE_HOG_BENCH_PYTHON names a
// python with opencv-python-headless 4.x for the OpenCV side (ops/hog/bench.sh sets both).
import Dispatch
import Foundation
import PoseMedia
import XCTest
@testable import PoseDetect

final class HOGBenchTests: XCTestCase {
    func testFramesPerSecond() throws {
        let environment = ProcessInfo.processInfo.environment
        guard environment["POSE_HOG_BENCH"] != nil else {
            throw XCTSkip("HOG benchmark: set POSE_HOG_BENCH=1 to run it (ops/hog/bench.sh, docs/BENCHMARKS.md)")
        }
        let folder = HOGTests.fixtureFolder
        let names = try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasSuffix(".jpg") }.sorted()
        let frames = try names.map { try JPEGCodec.decodeFile(folder + "/" + $0) }
        let parameters = HOGParameters(windowStride: 8, scaleStep: 1.05, hitThreshold: 0, groupThreshold: 2, upscale: 2)
        print(String(format: "HOG bench: %d frames %dx%d, searched at %dx%d (upscale 2), stride 8, scale 1.05", frames.count,
                     frames[0].width, frames[0].height, frames[0].width * 2, frames[0].height * 2))
        for threads in [1, 2] {
            let detector = HOGDetector(parameters: parameters, threads: threads)
            var best = Double.infinity
            var split = HOGTimings()
            for _ in 0..<2 {
                var timings = HOGTimings()
                let start = DispatchTime.now().uptimeNanoseconds
                var boxes = 0
                for frame in frames { boxes += detector.detect(frame, timings: &timings).count }
                let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
                XCTAssertGreaterThan(boxes, 0)
                if seconds < best { best = seconds; split = timings }
            }
            let busy = split.resize + split.gradients + split.blocks + split.windows
            print(String(format: "swift  threads %d: %.2f frames/s (%.3f s/frame); busy seconds: resize %.0f%%, gradients %.0f%%, block histograms %.0f%%, window scores %.0f%%",
                         threads, Double(frames.count) / best, best / Double(frames.count),
                         100 * split.resize / busy, 100 * split.gradients / busy, 100 * split.blocks / busy, 100 * split.windows / busy))
        }
        guard let python = environment["POSE_HOG_BENCH_PYTHON"] else {
            print("opencv: skipped (set POSE_HOG_BENCH_PYTHON to a python with opencv-python-headless 4.x)")
            return
        }
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../ops/hog/bench_opencv.py").standardized.path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [script, folder]
        try process.run()
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0, "\(python) \(script) failed")
    }
}
