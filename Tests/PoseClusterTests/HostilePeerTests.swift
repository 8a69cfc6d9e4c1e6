// Hostile peers against a real `posecoord serve` on 127.0.0.1 (issue 8): each test first does
// what a peer did to crash, fool or starve the coordinator, then checks it is still serving
// and that the job still finishes with a real worker.
import XCTest
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import PoseCore
import PoseWire
@testable import PoseCluster

class HostilePeerTestCase: ClusterTestCase {
    let token = Array("correct horse battery staple".utf8)
    var tokenFile: String { directory + "/token" }

    struct Served {
        let child: ChildProcess
        let endpoint: Endpoint
        let httpPort: UInt16
    }

    func makeArchive(videos: Int = 2, frames: Int = 12) throws -> String {
        let archive = directory + "/archive"
        let (status, output) = try runToEnd("synth", "posecoord", ["synth", "--out", archive, "--videos", "\(videos)", "--frames", "\(frames)",
                                                                   "--people", "2", "--size", "160x120", "--seed", "7"], timeout: 120)
        XCTAssertEqual(status, 0, output)
        return archive
    }

    /// `posecoord serve` with a token, unit size 2, invariants checked; returns once /status answers and units are ready.
    func serve(archive: String, out: String, extra: [String] = []) throws -> Served {
        try String(decoding: token, as: UTF8.self).write(toFile: tokenFile, atomically: true, encoding: .utf8)
        let port = try freePort(), httpPort = try freePort()
        let child = try start("coordinator", "posecoord", ["serve", "--archive", archive, "--out", out, "--token-file", tokenFile,
                                                           "--listen", "127.0.0.1:\(port)", "--http", "127.0.0.1:\(httpPort)",
                                                           "--heartbeat-ms", "250", "--unit-size", "2"] + extra,
                              environment: ["POSECLUSTER_CHECK_INVARIANTS": "1"])
        waitUntil(timeout: 60, "the coordinator to have units ready") {
            guard child.isRunning else { return true }
            return ((status(httpPort: httpPort)?["job"] as? [String: Any])?["units"] as? Int ?? 0) > 0
        }
        return Served(child: child, endpoint: Endpoint(host: "127.0.0.1", port: port), httpPort: httpPort)
    }

    func authenticated(_ served: Served, name: String = "hostile") throws -> WireTestClient {
        let client = try WireTestClient(served.endpoint)
        try client.handshake(token: token, name: name)
        return client
    }

    func jobCount(_ served: Served, _ key: String) -> Int {
        ((status(httpPort: served.httpPort)?["job"] as? [String: Any])?[key] as? Int) ?? 0
    }

    /// A real worker (null model) finishes the job; the coordinator must exit 0.
    func finishWithAWorker(_ served: Served, timeout: Double = 180) {
        XCTAssertTrue(served.child.isRunning, "the coordinator died:\n\(served.child.output.suffix(3000))")
        _ = try? start("worker", "poseworker", ["join", served.endpoint.description, "--threads", "1", "--null-model",
                                                 "--cache", directory + "/cache", "--name", "honest", "--token-file", tokenFile])
        let status = served.child.wait(timeout: timeout)
        XCTAssertEqual(status, 0, "the coordinator should finish the job:\n\(served.child.output.suffix(3000))")
    }
}

final class HostilePeerTests: HostilePeerTestCase {
    /// Issue 8.1: CREDIT >= 2 then an immediate close (FIN or RST) made the first UNIT's send fail,
    /// closed the session inside the scheduler's batch, and the next lease of the batch trapped.
    func testCreditThenAbruptCloseDoesNotKillTheCoordinator() throws {
        let archive = try makeArchive()
        // Each abrupt close while holding units counts an attempt against one of them (it looks like a
        // worker that crashed on it): a high cap keeps the units alive for the honest worker.
        let served = try serve(archive: archive, out: directory + "/out", extra: ["--attempts", "100"])
        // The close must win the race with the coordinator's read of the CREDIT, which loopback
        // timing decides: on the release before the fix, most runs died within the first few attempts.
        let attempts = 40
        for attempt in 0..<attempts {
            guard let client = try? authenticated(served, name: "credit-then-close-\(attempt)") else {
                XCTFail("attempt \(attempt + 1) of \(attempts): the coordinator stopped answering:\n\(served.child.output.suffix(3000))")
                return
            }
            client.send(.credit(Credit(units: 8)))
            if attempt % 2 == 0 { client.reset() } else { client.close() }
            usleep(20_000)
            guard served.child.isRunning else {
                XCTFail("attempt \(attempt + 1) of \(attempts) killed the coordinator:\n\(served.child.output.suffix(3000))")
                return
            }
        }
        XCTAssertNotNil(status(httpPort: served.httpPort), "the coordinator must still answer /status")
        finishWithAWorker(served)
        XCTAssertFalse(served.child.output.contains("without its session"), served.child.output)
    }
}

extension HostilePeerTests {
    /// A RESULT window of `joints` joints, every joint at (x, y) with `score`.
    func window(joints: Int, x: Float = 1, y: Float = 1, score: Float = 0.5) -> WindowKeypoints {
        WindowKeypoints(values: (0..<joints).flatMap { _ in [x, y, score] })
    }

    func metric(_ served: Served, _ name: String) -> Double? {
        guard let response = try? HTTPClient.get(Endpoint(host: "127.0.0.1", port: served.httpPort), path: "/metrics") else { return nil }
        let text = String(decoding: response.body, as: UTF8.self)
        guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix(name + " ") }) else { return nil }
        return Double(line.split(separator: " ").last ?? "")
    }

    /// Issue 8.2: RESULTs for units never leased to the sender were accepted, with scores of 5.0.
    /// Now a RESULT or FAIL is accepted only under a lease the session holds, with sane values;
    /// anything else closes the session and counts in protocol_violations_total.
    func testResultsAreAcceptedOnlyForHeldLeasesWithSaneValues() throws {
        let archive = try makeArchive()
        let out = directory + "/out"
        // Each liar closed while holding a unit counts an attempt against it (a bad result may be the
        // unit's fault): a high cap keeps the units alive for the honest worker.
        let served = try serve(archive: archive, out: out, extra: ["--attempts", "100"])
        let joints = 17

        // Never sent CREDIT, guesses unit ids and lease ids.
        let guesser = try authenticated(served, name: "guesser")
        for index in 0..<4 {
            guesser.send(.result(UnitResult(id: PoseWire.UnitID(videoIndex: 0, videoName: "000001_mpii_test", unitIndex: UInt32(index)),
                                            leaseID: UInt64(index + 1), windows: [window(joints: joints, score: 5)], computeMicros: 1)))
        }
        XCTAssertTrue(guesser.waitClosed(), "a RESULT for a lease it was never given must close the session")

        // Holds a lease, answers for it with a score of 5.
        let liar = try authenticated(served, name: "liar")
        liar.send(.credit(Credit(units: 1)))
        let unit = try XCTUnwrap(liar.nextUnit(), "a UNIT after CREDIT")
        liar.send(.result(UnitResult(id: unit.id, leaseID: unit.leaseID,
                                     windows: (0..<unit.windowCount).map { _ in window(joints: unit.inputShape.joints, score: 5) },
                                     computeMicros: 1)))
        XCTAssertTrue(liar.waitClosed(), "a score of 5 must close the session")

        // Holds a lease, answers under another lease id; then one with NaN; then x far outside the crop.
        for (name, leaseDelta, value) in [("wrong-lease", UInt64(1000), Float(0.5)), ("nan", 0, .nan), ("far", 0, 1e6)] {
            let client = try authenticated(served, name: name)
            client.send(.credit(Credit(units: 1)))
            let held = try XCTUnwrap(client.nextUnit(), "\(name): a UNIT after CREDIT")
            let windows = (0..<held.windowCount).map { _ in
                value == 0.5 ? window(joints: held.inputShape.joints) : window(joints: held.inputShape.joints, x: value)
            }
            client.send(.result(UnitResult(id: held.id, leaseID: held.leaseID + leaseDelta, windows: windows, computeMicros: 1)))
            XCTAssertTrue(client.waitClosed(), "\(name): must close the session")
        }
        // A FAIL for a lease it does not hold, too.
        let failer = try authenticated(served, name: "failer")
        failer.send(.fail(UnitFailure(id: PoseWire.UnitID(videoIndex: 0, videoName: "000001_mpii_test", unitIndex: 0), leaseID: 99_999, reason: "no")))
        XCTAssertTrue(failer.waitClosed(), "a FAIL for a lease it does not hold must close the session")

        XCTAssertEqual(metric(served, "posecluster_protocol_violations_total"), 6)
        XCTAssertEqual(jobCount(served, "unitsAccepted"), 0, "nothing a liar sent may be accepted")
        finishWithAWorker(served)
        let output = served.child.output
        XCTAssertTrue(output.contains("which this session does not hold"), output)
        XCTAssertTrue(output.contains("score 5.0 outside 0...1"), output)
        // Every accepted unit came from the honest worker: every joint score in the outputs is in 0...1.
        var scoresSeen = 0
        for (path, data) in files(under: out) where path.hasSuffix(".json") && !path.contains("_posecluster") {
            let annotations = (try JSONSerialization.jsonObject(with: data) as? [String: Any])?["annotations"] as? [[String: Any]] ?? []
            for annotation in annotations {
                for score in annotation["scores"] as? [Double] ?? [] {
                    XCTAssertTrue((0...1).contains(score), "\(path): score \(score)")
                    scoresSeen += 1
                }
            }
        }
        XCTAssertGreaterThan(scoresSeen, 0, "the outputs should hold predictions")
    }
}
