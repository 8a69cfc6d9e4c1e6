// The cluster's promises, tested with real processes on 127.0.0.1: byte-identical outputs to
// `posecoord run`, a worker killed mid-job, a coordinator killed mid-job and restarted, a late
// worker and a draining one, hostile peers, and a unit that crashes every worker it meets.
import XCTest
import Foundation
#if canImport(Glibc)
import Glibc
#endif
@testable import PoseCluster

final class ClusterProcessTests: ClusterTestCase {
    /// Small enough for seconds per run, with enough units (unit size 2) to kill things in the middle.
    let archiveArguments = ["--videos", "2", "--frames", "12", "--people", "2", "--size", "160x120", "--seed", "7"]
    let unitSize = ["--unit-size", "2"]

    private func makeArchive() throws -> String {
        let archive = directory + "/archive"
        let (status, output) = try runToEnd("synth", "posecoord", ["synth", "--out", archive] + archiveArguments, timeout: 120)
        XCTAssertEqual(status, 0, output)
        return archive
    }

    /// `posecoord run` on the same archive: the reference outputs (per-video files, not the job report).
    private func baseline(_ archive: String) throws -> [String: Data] {
        let out = directory + "/baseline"
        let (status, output) = try runToEnd("run", "posecoord", ["run", "--archive", archive, "--out", out, "--threads", "2"] + unitSize, timeout: 180)
        XCTAssertEqual(status, 0, output)
        var files = files(under: out)
        files = files.filter { !$0.key.hasPrefix("_posecluster/") }  // the job report, run records
        XCTAssertGreaterThan(files.count, 0)
        return files
    }

    private func outputs(_ out: String) -> [String: Data] {
        var result = files(under: out)
        result = result.filter { !$0.key.hasPrefix("_posecluster/") }
        return result
    }

    private struct Coordinator {
        let child: ChildProcess
        let port: UInt16
        let httpPort: UInt16
    }

    private func startCoordinator(_ name: String = "coordinator", archive: String, out: String, port: UInt16? = nil,
                                  httpPort: UInt16? = nil, extra: [String] = [],
                                  environment: [String: String] = [:]) throws -> Coordinator {
        let port = try port ?? freePort()
        let httpPort = try httpPort ?? freePort()
        let child = try start(name, "posecoord", ["serve", "--archive", archive, "--out", out,
                                                  "--listen", "127.0.0.1:\(port)", "--http", "127.0.0.1:\(httpPort)",
                                                  "--heartbeat-ms", "250"] + unitSize + extra,
                          environment: environment.merging(["POSECLUSTER_CHECK_INVARIANTS": "1"]) { a, _ in a })
        waitUntil(timeout: 30, "the coordinator to answer /status") { status(httpPort: httpPort) != nil || !child.isRunning }
        return Coordinator(child: child, port: port, httpPort: httpPort)
    }

    @discardableResult
    private func startWorker(_ name: String, port: UInt16, extra: [String] = [], environment: [String: String] = [:]) throws -> ChildProcess {
        try start(name, "poseworker", ["join", "127.0.0.1:\(port)", "--threads", "1", "--cache", directory + "/cache-\(name)",
                                       "--name", name] + extra, environment: environment)
    }

    private func job(_ coordinator: Coordinator) -> [String: Any]? {
        status(httpPort: coordinator.httpPort)?["job"] as? [String: Any]
    }

    private func jobCount(_ coordinator: Coordinator, _ key: String) -> Int {
        (job(coordinator)?[key] as? Int) ?? 0
    }

    /// Waits for the coordinator to exit and returns its status.
    private func finish(_ coordinator: Coordinator, timeout: Double = 180) -> Int32? {
        let status = coordinator.child.wait(timeout: timeout)
        XCTAssertNotNil(status, "the coordinator did not finish within \(timeout) s")
        return status
    }

    /// A number from the coordinator's last "units: ..." line, e.g. "re-leased".
    private func finalCounter(_ output: String, _ name: String) -> Int? {
        guard let line = output.split(separator: "\n").last(where: { $0.contains("units: ") && $0.contains("leases") }) else { return nil }
        let parts = line.components(separatedBy: CharacterSet(charactersIn: ",;:"))
        for part in parts {
            let words = part.split(separator: " ")
            if name == "leases" || name == "re-leased" || name == "speculative" || name == "duplicates" {
                if words.count == 2, words[0] == name { return Int(words[1]) }
            } else if words.count == 2, words[1] == name {
                return Int(words[0])
            }
        }
        return nil
    }

    // 1. Three workers: the same bytes as one process.
    func testThreeWorkersWriteTheSameFilesAsRun() throws {
        let archive = try makeArchive()
        let expected = try baseline(archive)
        let out = directory + "/out"
        let coordinator = try startCoordinator(archive: archive, out: out)
        for i in 0..<3 { try startWorker("worker\(i)", port: coordinator.port) }
        XCTAssertEqual(finish(coordinator), 0, coordinator.child.output)
        XCTAssertEqual(outputs(out), expected, "cluster outputs differ from posecoord run")
        XCTAssertEqual(finalCounter(coordinator.child.output, "failed"), 0)
        // Workers leave when the coordinator says the job is done.
        for child in children where child.name.hasPrefix("worker") {
            XCTAssertEqual(child.wait(timeout: 10), 0, "\(child.name) did not exit cleanly after BYE:\n\(child.output)")
        }
    }

    // 2. A worker SIGKILLed mid-job: its units are leased again and the outputs do not change.
    func testKilledWorkerUnitsAreReleasedAndOutputsStayIdentical() throws {
        let archive = try makeArchive()
        let expected = try baseline(archive)
        let out = directory + "/out"
        let coordinator = try startCoordinator(archive: archive, out: out)
        let victim = try startWorker("victim", port: coordinator.port)
        waitUntil(timeout: 60, "the first units to be accepted") { jobCount(coordinator, "unitsAccepted") >= 2 }
        try startWorker("survivor0", port: coordinator.port)
        try startWorker("survivor1", port: coordinator.port)
        victim.signal(SIGKILL)
        XCTAssertEqual(finish(coordinator), 0, coordinator.child.output)
        XCTAssertEqual(outputs(out), expected, "cluster outputs differ from posecoord run after a worker died")
        let output = coordinator.child.output
        XCTAssertTrue(output.contains("victim"), "the coordinator should log the lost worker")
        XCTAssertGreaterThanOrEqual(finalCounter(output, "re-leased") ?? 0, 1, "the victim's units should be re-leased:\n\(output)")
        XCTAssertEqual(finalCounter(output, "failed"), 0)
    }

    // 3. The coordinator SIGKILLed mid-job and started again: journalled units are not redone.
    func testRestartedCoordinatorResumesFromItsJournal() throws {
        let archive = try makeArchive()
        let expected = try baseline(archive)
        let out = directory + "/out"
        let port = try freePort(), httpPort = try freePort()
        let first = try startCoordinator("coordinator1", archive: archive, out: out, port: port, httpPort: httpPort)
        for i in 0..<2 { try startWorker("worker\(i)", port: port) }
        var acceptedBeforeKill = 0
        waitUntil(timeout: 90, "a few units to be accepted") {
            acceptedBeforeKill = jobCount(first, "unitsAccepted")
            return acceptedBeforeKill >= 3
        }
        first.child.signal(SIGKILL)
        XCTAssertNotNil(first.child.wait(timeout: 10))
        XCTAssertFalse(FileManager.default.fileExists(atPath: out + "/_posecluster/job.json"), "the job must not look finished")
        let second = try startCoordinator("coordinator2", archive: archive, out: out, port: port, httpPort: httpPort)
        XCTAssertEqual(finish(second), 0, second.child.output)
        XCTAssertEqual(outputs(out), expected, "outputs after a restart differ from posecoord run")
        let output = second.child.output
        XCTAssertTrue(output.contains("resuming:"), output)
        let restored = finalCounter(output, "restored") ?? 0
        let planned = finalCounter(output, "planned") ?? 0
        let accepted = finalCounter(output, "accepted") ?? 0
        XCTAssertGreaterThanOrEqual(restored, acceptedBeforeKill, "every unit accepted before the kill is restored:\n\(output)")
        XCTAssertEqual(restored + accepted, planned, "restored units are not computed again:\n\(output)")
        // The job report names the kernel class of every video's units, also of those computed before the restart.
        let report = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/_posecluster/job.json"))) as? [String: Any])
        for entry in try XCTUnwrap(report["videos"] as? [[String: Any]]) {
            XCTAssertEqual(entry["kernel_classes"] as? [String], ["fp32"], "\(entry["name"] ?? "?"): \(entry)")
        }
    }

    // 4. A late worker gets work within a heartbeat; a SIGTERMed worker drains and nothing is lost.
    func testLateWorkerGetsWorkAndDrainingWorkerLosesNothing() throws {
        let archive = try makeArchive()
        let out = directory + "/out"
        let coordinator = try startCoordinator(archive: archive, out: out)
        let null = ["--null-model", "--service-ms", "150", "--credits", "2"]
        let early = try startWorker("early", port: coordinator.port, extra: null)
        waitUntil(timeout: 60, "the first unit") { jobCount(coordinator, "unitsAccepted") >= 1 }
        try startWorker("late", port: coordinator.port, extra: null)
        var joinedAt: Date?
        var servedAt: Date?
        waitUntil(timeout: 20, "the late worker to get a unit") {
            guard let workers = status(httpPort: coordinator.httpPort)?["workers"] as? [[String: Any]],
                  let late = workers.first(where: { ($0["name"] as? String) == "late" }) else { return false }
            if joinedAt == nil { joinedAt = Date() }
            if ((late["inFlight"] as? Int) ?? 0) > 0 || ((late["unitsDone"] as? Int) ?? 0) > 0 { servedAt = Date(); return true }
            return false
        }
        if let joinedAt, let servedAt {
            // Leases follow the worker's CREDIT at once, well within one heartbeat (1 s by default,
            // 250 ms here); the bound leaves room for the status polls on a loaded 2-core CI machine.
            XCTAssertLessThan(servedAt.timeIntervalSince(joinedAt), 1.0)
        }
        early.signal(SIGTERM)
        XCTAssertEqual(early.wait(timeout: 30), 0, "a SIGTERMed worker drains and exits 0:\n\(early.output)")
        XCTAssertTrue(early.output.contains("drained"), early.output)
        XCTAssertEqual(finish(coordinator), 0, coordinator.child.output)
        let output = coordinator.child.output
        XCTAssertEqual(finalCounter(output, "failed"), 0)
        XCTAssertEqual(finalCounter(output, "accepted"), finalCounter(output, "planned"), output)
    }

    // 5. Hostile peers are refused with a logged reason; the coordinator keeps serving.
    func testHostilePeersAreRefusedAndTheJobGoesOn() throws {
        let archive = try makeArchive()
        let out = directory + "/out"
        let tokenFile = directory + "/token", wrongFile = directory + "/wrong"
        try "correct horse battery staple".write(toFile: tokenFile, atomically: true, encoding: .utf8)
        try "not the token at all".write(toFile: wrongFile, atomically: true, encoding: .utf8)
        let coordinator = try startCoordinator(archive: archive, out: out,
                                               extra: ["--token-file", tokenFile, "--handshake-timeout-ms", "500"])
        // Slow enough (about 8 s for the job) that it is still running through every check below.
        let null = ["--null-model", "--service-ms", "250", "--credits", "2"]
        try startWorker("good", port: coordinator.port, extra: null + ["--token-file", tokenFile])
        waitUntil(timeout: 60, "the good worker's first unit") { jobCount(coordinator, "unitsAccepted") >= 1 }

        let wrong = try startWorker("wrong", port: coordinator.port, extra: null + ["--token-file", wrongFile])
        let missing = try startWorker("missing", port: coordinator.port, extra: null)
        XCTAssertEqual(wrong.wait(timeout: 20), 1, wrong.output)
        XCTAssertTrue(wrong.output.contains("authentication failed"), wrong.output)
        XCTAssertEqual(missing.wait(timeout: 20), 1, missing.output)
        XCTAssertTrue(missing.output.contains("requires a cluster token"), missing.output)

        let endpoint = Endpoint(host: "127.0.0.1", port: coordinator.port)
        var generator = SystemRandomNumberGenerator()
        let garbage = (0..<256).map { _ in UInt8.random(in: 0...255, using: &generator) }
        XCTAssertTrue(try peerIsClosed(endpoint, sending: [0x00, 0x00, 0x00, 0x20] + garbage), "garbage bytes")
        XCTAssertTrue(try peerIsClosed(endpoint, sending: [0xFF, 0xFF, 0xFF, 0xFF, 1, 0, 0, 0, 0, 0] + garbage), "a 4 GiB length")
        XCTAssertTrue(try peerIsClosed(endpoint, sending: [0x00, 0x00, 0x00]), "half a header, then silence")
        XCTAssertTrue(try peerIsClosed(endpoint, sending: Array("GET / HTTP/1.1\r\n\r\n".utf8)), "HTTP on the worker port")
        // A plausible 1 MiB frame that an unauthenticated peer starts to send: cut off at handshakeBytesMax.
        XCTAssertTrue(try peerIsClosed(endpoint, sending: [0x00, 0x10, 0x00, 0x00, 10, 0, 0, 0, 0, 0] + [UInt8](repeating: 0, count: 100_000)),
                      "a large frame before the handshake")

        // Seeing it: the terminal status, Prometheus metrics and the HTML page, while the job runs.
        let (statusCode, statusText) = try runToEnd("status", "posecoord", ["status", "127.0.0.1:\(coordinator.httpPort)"], timeout: 20)
        XCTAssertEqual(statusCode, 0, statusText)
        XCTAssertTrue(statusText.contains("posecluster running") && statusText.contains("good"), statusText)
        let metrics = try HTTPClient.get(Endpoint(host: "127.0.0.1", port: coordinator.httpPort), path: "/metrics")
        let metricsText = String(decoding: metrics.body, as: UTF8.self)
        XCTAssertEqual(metrics.status, 200)
        XCTAssertTrue(metricsText.contains("# TYPE posecluster_units_accepted_total counter"), metricsText)
        XCTAssertTrue(metricsText.contains("posecluster_workers 1\n"), metricsText)
        let page = try HTTPClient.get(Endpoint(host: "127.0.0.1", port: coordinator.httpPort), path: "/")
        XCTAssertTrue(String(decoding: page.body, as: UTF8.self).contains("<h1>posecluster: running</h1>"))
        XCTAssertGreaterThanOrEqual(jobCount(coordinator, "connectionsRejected"), 5)

        // Still serving: the job finishes with the good worker, and nothing grew without bound.
        XCTAssertLessThan(residentMegabytes(coordinator.child.pid) ?? 0, 1024)
        XCTAssertEqual(finish(coordinator), 0, coordinator.child.output)
        let output = coordinator.child.output
        for reason in ["wrong cluster token", "frame of 4294967295 bytes is larger than frameBytesMax", "handshake not finished", "HTTP", "handshakeBytesMax"] {
            XCTAssertTrue(output.contains(reason), "the coordinator should log \"\(reason)\":\n\(output)")
        }
        XCTAssertEqual(finalCounter(output, "failed"), 0)
        XCTAssertEqual(finalCounter(output, "accepted"), finalCounter(output, "planned"))
    }

    /// Connects, sends `bytes`, and reports whether the coordinator closes within 5 s.
    private func peerIsClosed(_ endpoint: Endpoint, sending bytes: [UInt8]) throws -> Bool {
        let socket = try Socket.connect(to: endpoint, timeoutMs: 2_000)
        defer { socket.close() }
        _ = try bytes.withUnsafeBytes { try socket.write($0) }
        var buffer = [UInt8](repeating: 0, count: 4096)
        let deadline = Date().addingTimeInterval(5)
        while Date() < deadline {
            var pfd = pollfd(fd: socket.fd, events: Int16(POLLIN), revents: 0)
            _ = poll(&pfd, 1, 100)
            switch try buffer.withUnsafeMutableBytes({ try socket.read(into: $0) }) {
            case .closed: return true
            case .bytes, .wouldBlock: continue
            }
        }
        return false
    }

    // 6. A unit that crashes every worker is failed after the retry cap; the rest is written.
    func testPoisonUnitIsFailedAfterTheRetryCapAndReported() throws {
        let archive = try makeArchive()
        let out = directory + "/out"
        let videos = try FileManager.default.contentsOfDirectory(atPath: archive).filter { $0.hasSuffix(".mp4") }.sorted()
        let poisoned = String(try XCTUnwrap(videos.first).dropLast(4))
        let coordinator = try startCoordinator(archive: archive, out: out, extra: ["--attempts", "3"])
        let null = ["--null-model", "--service-ms", "50", "--credits", "1"]
        for i in 0..<4 {
            try startWorker("worker\(i)", port: coordinator.port, extra: null, environment: ["POSECLUSTER_TEST_POISON": "\(poisoned):1"])
        }
        XCTAssertEqual(finish(coordinator), 1, "a failed unit makes the job exit non-zero:\n\(coordinator.child.output)")
        let output = coordinator.child.output
        XCTAssertEqual(finalCounter(output, "failed"), 1, output)
        XCTAssertTrue(output.contains("job finished with failures"), output)
        let crashed = children.filter { $0.name.hasPrefix("worker") && $0.output.contains("POSECLUSTER_TEST_POISON") }
        XCTAssertEqual(crashed.count, 3, "the unit is tried on three workers")
        // The rest of the poisoned video is written, and the failure is in the job report.
        XCTAssertTrue(FileManager.default.fileExists(atPath: out + "/\(poisoned).json"))
        let report = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/_posecluster/job.json"))) as? [String: Any])
        let entries = try XCTUnwrap(report["videos"] as? [[String: Any]])
        let entry = try XCTUnwrap(entries.first { ($0["name"] as? String) == poisoned })
        XCTAssertEqual(entry["units_failed"] as? Int, 1)
        let failed = try XCTUnwrap(entry["failed_units"] as? [[String: Any]])
        XCTAssertEqual(failed.first?["unit"] as? Int, 1)
        XCTAssertTrue(((failed.first?["reason"] as? String) ?? "").contains("attempts"), "\(failed)")
        let other = try XCTUnwrap(entries.first { ($0["name"] as? String) != poisoned })
        XCTAssertEqual(other["units_failed"] as? Int, 0)
    }
}
