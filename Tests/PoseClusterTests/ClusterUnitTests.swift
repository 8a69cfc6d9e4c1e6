// Pieces of the cluster without processes: journal records, the compute queue's batching,
// status renderings, token loading, limits.
import XCTest
import Foundation
import PoseCore
import PoseArchive
import PoseCrypto
import PoseWire
@testable import PoseCluster

final class ClusterUnitTests: XCTestCase {
    func testJournalRecordsRoundTripAndRejectDamage() throws {
        let keypoints = (0..<3).map { w in WindowKeypoints(values: (0..<51).map { Float($0) * 0.5 + Float(w) }) }
        let records: [JournalRecord] = [
            .job(fingerprint: "posecluster-journal/1 weights=abc"),
            .accepted(video: "000001_mpii_test", unit: 7, keypoints: keypoints, kernelClass: nil),
            .accepted(video: "v", unit: 0, keypoints: [], kernelClass: nil),
            .failed(video: "vidéo", unit: 3, reason: "failed 3 attempts"),
        ]
        for record in records {
            XCTAssertEqual(try JournalRecord.decode(record.encoded()), record)
        }
        let bytes = records[1].encoded()
        for cut in [0, 1, 5, bytes.count - 1] {
            XCTAssertThrowsError(try JournalRecord.decode(Array(bytes.prefix(cut))), "cut at \(cut)")
        }
        XCTAssertThrowsError(try JournalRecord.decode(bytes + [0]), "trailing byte")
        XCTAssertThrowsError(try JournalRecord.decode([9]), "unknown type")
        // With the worker's kernel class (type 4); without one the bytes are the earlier versions' type 2.
        let classed = JournalRecord.accepted(video: "000001_mpii_test", unit: 7, keypoints: keypoints, kernelClass: "bf16-avx512bf16")
        XCTAssertEqual(try JournalRecord.decode(classed.encoded()), classed)
        XCTAssertEqual(classed.encoded().first, 4)
        XCTAssertEqual(bytes.first, 2, "a record without a class is written as before")
        XCTAssertThrowsError(try JournalRecord.decode(Array(classed.encoded().prefix(30))), "cut inside the class")
        // A window count far beyond the limit is refused before anything is allocated.
        var huge = records[2].encoded()
        huge.replaceSubrange(huge.count - 8..<huge.count - 4, with: [0xFF, 0xFF, 0xFF, 0x7F])
        XCTAssertThrowsError(try JournalRecord.decode(huge))
    }

    /// An estimator that records the batch sizes it was called with.
    final class RecordingEstimator: PoseEstimator, @unchecked Sendable {
        let inputShape = ModelInputShape(width: 4, height: 4, frames: 1, joints: 2)
        private let lock = NSLock()
        private var batchesStorage: [Int] = []
        var batches: [Int] { lock.lock(); defer { lock.unlock() }; return batchesStorage }
        func estimate(crops: UnsafeBufferPointer<UInt8>, count: Int) throws -> [WindowKeypoints] {
            lock.lock(); batchesStorage.append(count); lock.unlock()
            usleep(20_000)
            return (0..<count).map { WindowKeypoints(values: [Float(crops[$0 * inputShape.windowBytes]), 0, 1, 0, 0, 1]) }
        }
    }

    func testComputeQueueBatchesAcrossUnitsAndSplitsResultsBack() throws {
        let estimator = RecordingEstimator()
        let shape = estimator.inputShape
        final class Outcomes: @unchecked Sendable {
            let condition = NSCondition()
            var byToken: [UInt64: [WindowKeypoints]] = [:]
        }
        let box = Outcomes()
        let done = box.condition
        let queue = ComputeQueue(batchWindowsMax: 4, nullServiceMs: nil, makeEstimator: { _ in estimator }) { outcome in
            box.condition.lock()
            if case .success(let windows) = outcome.result { box.byToken[outcome.token] = windows }
            box.condition.signal()
            box.condition.unlock()
        }
        defer { queue.stop() }
        // Units of 1, 2, 3 and 1 windows; each window's first byte names its unit and window.
        let sizes: [UInt64: Int] = [1: 1, 2: 2, 3: 3, 4: 1]
        for token in sizes.keys.sorted() {
            var crops: [UInt8] = []
            for window in 0..<sizes[token]! {
                crops += [UInt8(token * 10) + UInt8(window)] + [UInt8](repeating: 0, count: shape.windowBytes - 1)
            }
            queue.submit(ComputeJob(token: token, windows: sizes[token]!, shape: shape, crops: crops))
        }
        done.lock()
        let deadline = Date().addingTimeInterval(10)
        while box.byToken.count < sizes.count && done.wait(until: deadline) {}
        let outcomes = box.byToken
        done.unlock()
        XCTAssertEqual(outcomes.count, 4)
        for (token, count) in sizes {
            XCTAssertEqual(outcomes[token]?.map { Int($0.values[0]) }, (0..<count).map { Int(token) * 10 + $0 }, "unit \(token)")
        }
        XCTAssertTrue(estimator.batches.allSatisfy { $0 <= 4 }, "\(estimator.batches)")
        XCTAssertEqual(estimator.batches.reduce(0, +), 7)
        XCTAssertLessThan(estimator.batches.count, 4, "units are batched together: \(estimator.batches)")
    }

    func testNullEstimatorIsDeterministicAndInsideTheHeatmap() throws {
        let shape = ModelInputShape(width: 96, height: 128, frames: 3, joints: 17)
        let estimator = NullPoseEstimator(inputShape: shape, serviceMs: 0)
        let crops = [UInt8](repeating: 200, count: shape.windowBytes * 2)
        let a = try crops.withUnsafeBufferPointer { try estimator.estimate(crops: $0, count: 2) }
        let b = try crops.withUnsafeBufferPointer { try estimator.estimate(crops: $0, count: 2) }
        XCTAssertEqual(a, b)
        for window in a {
            XCTAssertEqual(window.values.count, 51)
            for joint in 0..<17 {
                XCTAssertLessThan(window.values[joint * 3], Float(shape.heatmapWidth))
                XCTAssertLessThan(window.values[joint * 3 + 1], Float(shape.heatmapHeight))
            }
        }
    }

    func testStatusRendersAsJSONPrometheusAndHTML() throws {
        var status = ClusterStatus()
        status.job.videos = 2
        status.job.unitsAccepted = 5
        status.job.unitsReleased = 1
        status.job.windowsPerSecond = 12.5
        status.workers = [ClusterStatus.Worker(id: 3, name: "gpu\"1", peer: "10.0.0.2:5000", threads: 8, credits: 4, inFlight: 2,
                                               unitsDone: 5, windowsDone: 40, windowsPerSecond: 12.5, connectedSeconds: 3)]
        status.videos = [ClusterStatus.Video(name: "<b>", state: "running", units: 4, unitsDone: 2, unitsFailed: 0)]
        XCTAssertEqual(try ClusterStatus.decode(status.json()), status)
        let metrics = status.prometheus()
        XCTAssertTrue(metrics.contains("posecluster_units_accepted_total 5\n"))
        XCTAssertTrue(metrics.contains("posecluster_units_released_total 1\n"))
        XCTAssertFalse(metrics.contains("per_second"), "rates are left to Prometheus")
        XCTAssertTrue(metrics.contains("posecluster_worker_in_flight{worker=\"gpu\\\"1\",session=\"3\"} 2\n"), metrics)
        let page = status.htmlPage()
        XCTAssertTrue(page.contains("&lt;b&gt;") && !page.contains("<b>&lt;"), "names are escaped")
        XCTAssertTrue(status.terminalText().contains("re-leased 1"))
    }

    /// The exposition format as `promtool check metrics` reads it: every family has HELP and TYPE
    /// before its samples, counters end in _total, histogram buckets are cumulative and end at +Inf.
    func testMetricsAreWellFormedWithStableWorkerIdentityBuildInfoAndLatencyHistogram() throws {
        var status = ClusterStatus()
        status.build.version = "1.2.3"; status.build.commit = "abcdef"; status.build.modelSHA256 = String(repeating: "ab", count: 32)
        status.build.precision = "bf16"
        status.job.processStartTime = 1_700_000_000.5
        var totals = ClusterStatus.WorkerTotals(name: "node-1")
        totals.connections = 2; totals.unitsDone = 7; totals.windowsDone = 90
        status.workerTotals = [totals]
        for latency in [0.05, 0.3, 0.3, 7, 1000] { status.unitLatency.observe(latency) }
        let metrics = status.prometheus()
        XCTAssertTrue(metrics.contains("posecluster_build_info{version=\"1.2.3\",commit=\"abcdef\",model_sha256=\"\(status.build.modelSHA256)\",precision=\"bf16\""), metrics)
        XCTAssertTrue(metrics.contains("process_start_time_seconds 1700000000.500\n"))
        XCTAssertTrue(metrics.contains("posecluster_worker_units_done_total{worker=\"node-1\"} 7\n"))
        XCTAssertTrue(metrics.contains("posecluster_worker_connections_total{worker=\"node-1\"} 2\n"))
        XCTAssertTrue(metrics.contains("posecluster_worker_connected{worker=\"node-1\"} 0\n"))
        XCTAssertTrue(metrics.contains("posecluster_unit_latency_seconds_bucket{le=\"0.1\"} 1\n"))
        XCTAssertTrue(metrics.contains("posecluster_unit_latency_seconds_bucket{le=\"0.5\"} 3\n"))
        XCTAssertTrue(metrics.contains("posecluster_unit_latency_seconds_bucket{le=\"+Inf\"} 5\n"))
        XCTAssertTrue(metrics.contains("posecluster_unit_latency_seconds_count 5\n"))

        var types: [String: String] = [:], helped = Set<String>()
        var lastBucket = -1
        for line in metrics.split(separator: "\n").map(String.init) {
            if line.hasPrefix("# HELP ") { helped.insert(String(line.split(separator: " ")[2])); continue }
            if line.hasPrefix("# TYPE ") {
                let parts = line.split(separator: " ")
                XCTAssertNil(types[String(parts[2])], "TYPE given twice for \(parts[2])")
                types[String(parts[2])] = String(parts[3])
                continue
            }
            let name = String(line.prefix { $0 != "{" && $0 != " " })
            let family = types[name] != nil ? name : String(name.replacingOccurrences(of: "_bucket", with: "")
                .replacingOccurrences(of: "_sum", with: "").replacingOccurrences(of: "_count", with: ""))
            XCTAssertNotNil(types[family], "\(name): sample before its TYPE")
            XCTAssertTrue(helped.contains(family), "\(name): no HELP")
            if types[family] == "counter" { XCTAssertTrue(family.hasSuffix("_total"), "counter \(family) must end in _total") }
            XCTAssertNotNil(Double(line.split(separator: " ").last!), "value of \(line)")
            if name.hasSuffix("_bucket") {
                let value = Int(line.split(separator: " ").last!)!
                XCTAssertGreaterThanOrEqual(value, lastBucket, "buckets are cumulative")
                lastBucket = value
            }
        }
    }

    func testStatusPageShowsProgressModelWarningFailedFirstAndPages() {
        var status = ClusterStatus()
        status.job.state = "running"
        status.job.windows = 400; status.job.windowsDone = 100; status.job.windowsEstimated = true
        status.job.elapsedSeconds = 65; status.job.etaSeconds = 195
        status.build.modelFamily = "ftp-pose"; status.build.modelVariant = "demo"
        status.build.modelSHA256 = "0123456789abcdef" + String(repeating: "0", count: 48)
        status.build.randomWeights = true
        let count = ClusterStatus.videosPerPage * 2 + 5
        status.videos = (0..<count).map { ClusterStatus.Video(name: String(format: "v%05d", $0), state: "pending", units: 1, unitsDone: 0, unitsFailed: 0) }
        status.videos[count - 1] = ClusterStatus.Video(name: "broken", state: "failed", units: 0, unitsDone: 0, unitsFailed: 0, reason: "no frames")
        status.job.videos = count
        let first = status.htmlPage()
        XCTAssertTrue(first.contains("25.0%") && first.contains("width:25.00%"), "progress bar")
        XCTAssertTrue(first.contains("about 400 windows") && first.contains("elapsed 1m05s") && first.contains("ETA 3m15s"))
        XCTAssertTrue(first.contains("ftp-pose demo, SHA-256 0123456789ab"))
        XCTAssertTrue(first.contains("class=\"warn\"") && first.contains("Random weights"), "random weights are announced")
        let rows = first.components(separatedBy: "<tr").filter { $0.contains("<td>v0") || $0.contains("broken") }
        XCTAssertEqual(rows.count, ClusterStatus.videosPerPage, "one page of videos")
        XCTAssertTrue(rows[0].hasPrefix(" class=\"failed\"") && rows[0].contains("broken"), "failed videos first, highlighted")
        XCTAssertTrue(first.contains("page 1 of 3") && first.contains("/?page=2"))
        let last = status.htmlPage(page: 3)
        XCTAssertTrue(last.contains("page 3 of 3") && last.contains("v00203") && !last.contains("v00000"))
        XCTAssertEqual(status.htmlPage(page: 99), last, "a page past the end shows the last")
        var trained = status
        trained.build.randomWeights = false
        XCTAssertFalse(trained.htmlPage().contains("class=\"warn\""))
    }

    func testTokenLoadingAndLimits() throws {
        let path = NSTemporaryDirectory() + "posecluster-token-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try "  s3cret-token\n".write(toFile: path, atomically: true, encoding: .utf8)
        XCTAssertEqual(try ClusterToken.load(file: path, environment: [:]), Array("s3cret-token".utf8))
        XCTAssertEqual(try ClusterToken.load(file: nil, environment: ["POSECLUSTER_TOKEN": "from-environment"]), Array("from-environment".utf8))
        XCTAssertNil(try ClusterToken.load(file: nil, environment: [:]))
        XCTAssertThrowsError(try ClusterToken.load(file: nil, environment: ["POSECLUSTER_TOKEN": "short"]))
        XCTAssertThrowsError(try ClusterToken.load(file: path + "-missing", environment: [:]))
        XCTAssertNoThrow(try ClusterLimits().validate())
        var limits = ClusterLimits()
        limits.peerSilenceMaxMs = limits.heartbeatIntervalMs
        XCTAssertThrowsError(try limits.validate())
    }
}

final class ResultBoundsTests: XCTestCase {
    func testBoundsComeFromTheInputShapeAndRefuseWhatNoModelProduces() {
        for shape in [ModelInputShape(width: 192, height: 256, frames: 5, joints: 17), ModelInputShape(width: 256, height: 256, frames: 1, joints: 17),
                      ModelInputShape(width: 96, height: 128, frames: 3, joints: 33)] {
            let bounds = ResultBounds(shape: shape)
            func window(_ change: (inout [Float]) -> Void) -> WindowKeypoints {
                var values: [Float] = (0..<shape.joints).flatMap { (j: Int) -> [Float] in [Float(j % shape.heatmapWidth), Float(j % shape.heatmapHeight), 0.5] }
                change(&values)
                return WindowKeypoints(values: values)
            }
            XCTAssertNil(bounds.problem(with: window { _ in }), "\(shape)")
            XCTAssertNil(bounds.problem(with: window { $0[0] = Float(shape.heatmapWidth) + 0.25; $0[2] = 1; $0[5] = 0 }), "edges of the map and of 0...1")
            XCTAssertNil(bounds.problem(with: window { $0[2] = 1.13 }), "an unclamped heatmap maximum a trained model produces")
            XCTAssertNotNil(bounds.problem(with: window { $0.removeLast() }))
            XCTAssertNotNil(bounds.problem(with: window { $0[2] = 5 }))
            XCTAssertNotNil(bounds.problem(with: window { $0[2] = -0.01 }))
            XCTAssertNotNil(bounds.problem(with: window { $0[1] = .nan }))
            XCTAssertNotNil(bounds.problem(with: window { $0[0] = .infinity }))
            XCTAssertNotNil(bounds.problem(with: window { $0[0] = Float(2 * shape.heatmapWidth) + 1 }))
            XCTAssertNotNil(bounds.problem(with: window { $0[1] = -Float(shape.heatmapHeight) - 1 }))
            XCTAssertEqual(bounds.problem(with: window { $0[3 * (shape.joints - 1) + 2] = 5 }),
                           "joint \(shape.joints - 1) score 5.0 outside 0.0...2.0")
        }
    }
}

/// Precision is a job setting (issue 10): it changes the journal's fingerprint, and the job report's
/// kernel class follows the worker's variant only for bf16.
final class PrecisionSettingTests: XCTestCase {
    func testPrecisionIsPartOfTheFingerprint() {
        let shape = ModelInputShape(width: 48, height: 64, frames: 3, joints: 17)
        let digest = SHA256Digest(bytes: [UInt8](repeating: 7, count: 32))
        func config(_ precision: String) -> CoordinatorConfig {
            CoordinatorConfig(archiveOptions: ArchiveOptions(archive: "/a"), outDirectory: "/o", stateDirectory: "/s",
                              listen: Endpoint(host: "127.0.0.1", port: 0), http: nil, weights: [],
                              model: ModelDescriptor(sha256: digest, byteCount: 0, variant: "demo", inputShape: shape, precision: precision),
                              token: nil, watchIntervalMs: nil)
        }
        XCTAssertNotEqual(config("fp32").fingerprint, config("bf16").fingerprint)
        XCTAssertTrue(config("bf16").fingerprint.contains("precision=bf16"))
    }

    func testKernelClassOfAWorker() {
        for kernels in ["generic", "avx2", "avx512", "avx512bf16", "amx"] {
            XCTAssertEqual(ClusterModel.kernelClass(kernels: kernels, precision: "fp32"), "fp32", kernels)
        }
        XCTAssertEqual(ClusterModel.kernelClass(kernels: "avx2", precision: "bf16"), "bf16-scalar")
        XCTAssertEqual(ClusterModel.kernelClass(kernels: "avx512bf16", precision: "bf16"), "bf16-avx512bf16")
        XCTAssertEqual(ClusterModel.kernelClass(kernels: "amx", precision: "bf16"), "bf16-amx")
        XCTAssertEqual(ClusterModel.kernelClass(kernels: "sve2", precision: "bf16"), "bf16-sve2")
    }
}
