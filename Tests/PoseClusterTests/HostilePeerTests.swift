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
        XCTAssertTrue(output.contains("score 5.0 outside 0.0...2.0"), output)
        // Every accepted unit came from the honest worker (the null model scores 0.5): no score of 5 in the outputs.
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

extension HostilePeerTests {
    /// Issue 8.4: a 2 KB zstd frame declaring 60 MiB made the loop inflate it before authentication.
    /// Now compressed frames are refused before authentication, and bounded per second after it.
    func testCompressedFramesAreRefusedBeforeAuthenticationAndBoundedAfter() throws {
        let archive = try makeArchive()
        let served = try serve(archive: archive, out: directory + "/out")
        let bomb = WireTestClient.bomb(inflatedBytes: 60 << 20)
        XCTAssertLessThan(bomb.count, 4096, "the bomb is small on the wire")
        for _ in 0..<5 {
            let client = try WireTestClient(served.endpoint)
            client.sendRaw(bomb)
            guard case .message(.reject(let reject)) = client.receive() else { return XCTFail("a REJECT for a compressed frame before authentication") }
            XCTAssertEqual(reject.code, .malformed)
            XCTAssertTrue(reject.reason.contains("compressed frame"), reject.reason)
        }
        // Authenticated: a frame inflating past inflatedBytesBurstMax (16 MiB) closes the session.
        let client = try authenticated(served)
        client.sendRaw(WireTestClient.bomb(type: .heartbeat, inflatedBytes: 60 << 20))
        XCTAssertTrue(client.waitClosed())
        XCTAssertTrue(served.child.output.contains("more than the limit"), served.child.output)
        finishWithAWorker(served)
    }

    /// Issue 8.5: each idle connection before authentication held a 256 KiB read buffer (1,000 idle
    /// sockets: about 250 MB, kept after they closed). Reads now share one buffer per loop.
    func testIdleConnectionsDoNotHoldReadBuffers() throws {
        let archive = try makeArchive()
        let served = try serve(archive: archive, out: directory + "/out", extra: ["--handshake-timeout-ms", "60000"])
        let before = try XCTUnwrap(residentMegabytes(served.child.pid))
        var clients: [WireTestClient] = []
        for _ in 0..<1000 {
            let client = try WireTestClient(served.endpoint)
            client.sendRaw([0, 0, 0])   // a third of a header: the coordinator reads, then waits
            clients.append(client)
        }
        usleep(1_000_000)   // the coordinator has accepted and read them all (the listener takes 64 per round)
        XCTAssertTrue(served.child.isRunning)
        let idle = try XCTUnwrap(residentMegabytes(served.child.pid))
        clients.removeAll()
        usleep(500_000)
        let after = try XCTUnwrap(residentMegabytes(served.child.pid))
        print("idle connections: RSS \(before) MB before, \(idle) MB with 1000 idle, \(after) MB after they closed")
        XCTAssertLessThan(idle - before, 64, "1000 idle connections must not cost 256 KiB each")
        XCTAssertLessThan(after - before, 64)
        finishWithAWorker(served)
    }

    /// Issue 8.6: under `ulimit -n 256`, 600 idle connections made the listener spin on EMFILE
    /// (169,460 log lines in 7 s, 75% CPU). Now peers are capped below the descriptor limit (the
    /// journal, decoders and status page keep theirs), refusals are logged once per interval, and
    /// a listener that meets EMFILE anyway pauses (ListenerTests).
    func testOutOfDescriptorsTheListenerBacksOffAndLogsOnce() throws {
        let archive = try makeArchive()
        try String(decoding: token, as: UTF8.self).write(toFile: tokenFile, atomically: true, encoding: .utf8)
        let port = try freePort(), httpPort = try freePort()
        let command = "ulimit -n 256 && exec \"$0\" \"$@\""
        let coordinator = try ChildProcess(name: "coordinator-ulimit", executable: "/bin/sh",
                                           arguments: ["-c", command, try binary("posecoord"), "serve", "--archive", archive,
                                                       "--out", directory + "/out", "--token-file", tokenFile,
                                                       "--listen", "127.0.0.1:\(port)", "--http", "127.0.0.1:\(httpPort)",
                                                       "--handshake-timeout-ms", "60000", "--unit-size", "2"],
                                           logDirectory: directory)
        children.append(coordinator)
        waitUntil(timeout: 60, "the coordinator to answer /status") { status(httpPort: httpPort) != nil || !coordinator.isRunning }
        var clients: [WireTestClient] = []
        for _ in 0..<600 {
            guard let client = try? WireTestClient(Endpoint(host: "127.0.0.1", port: port), timeoutMs: 500) else { continue }
            clients.append(client)
        }
        usleep(3_000_000)
        XCTAssertNotNil(status(httpPort: httpPort), "the status page keeps its descriptors during the flood")
        let output = coordinator.output
        let lines = output.split(separator: "\n")
        let acceptErrors = lines.filter { $0.contains("Too many open files") }.count
        let refusals = lines.filter { $0.contains("refused 127.0.0.1") }.count
        print("600 connections under ulimit -n 256: \(acceptErrors) accept error lines, \(refusals) refusal lines in about 3 s")
        XCTAssertEqual(acceptErrors, 0, "peers must never use up the descriptors:\n\(output.suffix(2000))")
        XCTAssertGreaterThan(refusals, 0, "the test should fill the peer cap:\n\(output.suffix(2000))")
        XCTAssertLessThanOrEqual(refusals, 2, "one line per interval:\n\(output.suffix(2000))")
        XCTAssertTrue(output.contains("the descriptor limit is 256"), String(output.suffix(2000)))
        XCTAssertTrue(output.contains("at most 128 peers are accepted"), String(output.suffix(2000)))
        XCTAssertTrue(coordinator.isRunning)
        clients.removeAll()
        waitUntil(timeout: 10, "/status once the idle connections are gone") { status(httpPort: httpPort) != nil }
    }

    /// Issue 8.10: REJECT codes follow docs/PROTOCOL.md (1 bad magic, 2 version), and a worker that
    /// meets another protocol version stops with a clear message instead of reconnecting forever.
    func testRejectCodesAndAWorkerOfAnotherVersionStops() throws {
        let archive = try makeArchive()
        let served = try serve(archive: archive, out: directory + "/out")
        let nonce = [UInt8](repeating: 1, count: WireProtocol.nonceByteCount)
        let newer = try WireTestClient(served.endpoint)
        let other = WireProtocol.version + 1
        newer.send(.hello(Hello(protocolVersion: other, role: .worker, name: "newer", threads: 1, cachedModel: nil, capabilities: .all, nonce: nonce)))
        guard case .message(.reject(let versionReject)) = newer.receive() else { return XCTFail("a REJECT for another version") }
        XCTAssertEqual(versionReject.code, .versionMismatch)
        XCTAssertEqual(versionReject.code.rawValue, 2)
        XCTAssertTrue(versionReject.reason.contains("version \(other)"), versionReject.reason)

        var payload = try WireMessage.hello(Hello(role: .worker, name: "alien", threads: 1, cachedModel: nil, capabilities: .all, nonce: nonce)).encodePayload()
        payload[0] ^= 0xFF
        let alien = try WireTestClient(served.endpoint)
        alien.sendRaw(try Frame.encode(type: MessageType.hello.rawValue, flags: [], payload: payload))
        guard case .message(.reject(let magicReject)) = alien.receive() else { return XCTFail("a REJECT for a bad magic") }
        XCTAssertEqual(magicReject.code.rawValue, 1)

        // A fake coordinator of another version: the real worker must stop, not reconnect forever.
        let listener = try Socket.listen(on: Endpoint(host: "127.0.0.1", port: 0))
        defer { listener.close() }
        let worker = try start("worker-v1", "poseworker", ["join", "127.0.0.1:\(listener.localPort)", "--threads", "1", "--null-model",
                                                            "--cache", directory + "/cache-v1", "--name", "v1"])
        var accepted: Socket?
        waitUntil(timeout: 20, "the worker to connect") { accepted = try? listener.accept(); return accepted != nil }
        let fake = WireTestClient(accepted: try XCTUnwrap(accepted))
        guard case .message(.hello) = fake.receive() else { return XCTFail("a HELLO from the worker") }
        fake.send(.challenge(Challenge(protocolVersion: other, nonce: nonce, authRequired: false)))
        XCTAssertEqual(worker.wait(timeout: 20), 1, "the worker should stop:\n\(worker.output)")
        XCTAssertTrue(worker.output.contains("protocol version mismatch: the peer speaks version \(other)"), worker.output)
        finishWithAWorker(served)
    }
}
