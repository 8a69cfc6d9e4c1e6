// Hostile peers against a real `posecoord serve` on 127.0.0.1 (issue 8): each test first does
// what a peer did to crash, fool or starve the coordinator, then checks it is still serving
// and that the job still finishes with a real worker.
import XCTest
import Foundation
#if canImport(Glibc)
import Glibc
#endif
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
