// The wire payload benchmark: always a small run that checks the report adds up;
// with POSE_WIRE_BENCH=1, the measurement recorded in docs/BENCHMARKS.md, on
// crops of the synthetic archive's mp4 videos cut the way the coordinator cuts them.
import Foundation
import XCTest
import PoseArchive
import PoseCore
@testable import PoseWire

final class WirePayloadBenchTests: XCTestCase {
    func testReportAddsUp() throws {
        let shape = WireSamples.smallShape
        let units = (0..<3).map { (crops: WireSamples.crops(windows: 4, shape: shape, seed: UInt64($0)), windows: 4) }
        let report = try WirePayloadBench.run(units: units, shape: shape, levels: [1])
        XCTAssertEqual(report.windows, 12)
        XCTAssertEqual(report.rawBytes, 12 * shape.windowBytes)
        XCTAssertEqual(report.rows.map(\.name), ["zstd", "delta+zstd", "automatic", "smallest"])
        let (plain, delta, automatic, smallest) = (report.rows[0], report.rows[1], report.rows[2], report.rows[3])
        XCTAssertEqual(smallest.payloadBytes, min(plain.payloadBytes, delta.payloadBytes),
                       "these crops are all one way or the other: smallest keeps the smaller")
        XCTAssertEqual(automatic.payloadBytes, smallest.payloadBytes, "all windows alike: the first window decides right")
        XCTAssertEqual(plain.deltaUnits, 0)
        XCTAssertGreaterThan(automatic.frameBytes, automatic.payloadBytes, "frames add the header and UNIT fields")
        XCTAssertTrue(report.table.contains("| automatic | 1 |"))
    }

    func testMeasureOnSyntheticArchive() throws {
        guard ProcessInfo.processInfo.environment["POSE_WIRE_BENCH"] != nil else {
            throw XCTSkip("wire payload benchmark: set POSE_WIRE_BENCH=1 to run it (docs/BENCHMARKS.md)")
        }
        let directory = NSTemporaryDirectory() + "posecluster-wire-bench-\(ProcessInfo.processInfo.processIdentifier)"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        // Seed 3: SynthCanvas.block traps on objects that drift out of frame (archive's bug, reported);
        // this seed keeps them in.
        let seed = UInt64(ProcessInfo.processInfo.environment["POSE_WIRE_BENCH_SEED"] ?? "3") ?? 3
        let synth = SynthOptions(videos: 4, frames: 64, people: 3, width: 640, height: 360, format: .mp4, seed: seed)
        try SyntheticArchive.make(synth, out: directory)
        let options = ArchiveOptions(archive: directory)
        let entries = try ArchiveScanner.scan(options)
        print("synthetic archive: \(synth.videos) mp4 videos of \(synth.frames) frames, \(synth.width)x\(synth.height), ~\(synth.people) people")
        for shape in [ModelInputShape(width: 96, height: 128, frames: 3, joints: 17),
                      ModelInputShape(width: 192, height: 256, frames: 3, joints: 17)] {
            var units: [(crops: [UInt8], windows: Int)] = []
            for entry in entries {
                let plan = try VideoPlan(entry: entry, options: options, inputShape: shape)
                try UnitCropStream(plan: plan).run { index, crops in units.append((crops, plan.units[index].windows.count)) }
            }
            let report = try WirePayloadBench.run(units: units, shape: shape)
            print(report.table + "\n")
        }
    }
}
