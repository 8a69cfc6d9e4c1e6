// The wire fuzzer: a seeded, bounded run of hostile peers against a live `posecoord serve`
// (issue 8). Before authentication: random bytes, bit-flipped and truncated frames, zstd bombs,
// other protocols. After it: CREDIT, RESULT (for held and unheld leases, with sane and insane
// values), FAIL, HEARTBEAT, DRAIN, MODEL_REQUEST, STATUS_REQUEST, unexpected and random message
// types, in random order, ended by BYE, a FIN, a reset (RST) or nothing. The coordinator must
// stay up, keep /status answering, check its invariants after every event, and still finish the
// job with an honest worker. WIRE_FUZZ_SEED and WIRE_FUZZ_ITERATIONS replay or extend a run.
import XCTest
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import PoseCore
import PoseCrypto
@testable import PoseWire
@testable import PoseCluster

final class WireFuzzTests: HostilePeerTestCase {
    func testSeededFuzzAgainstALiveCoordinator() throws {
        let environment = ProcessInfo.processInfo.environment
        let seed = environment["WIRE_FUZZ_SEED"].flatMap(UInt64.init) ?? 20_261_127
        let iterations = environment["WIRE_FUZZ_ITERATIONS"].flatMap(Int.init) ?? 240
        var random = SplitMix64(seed: seed)
        let archive = try makeArchive(videos: 3, frames: 16)
        // --watch: the job never ends under the fuzzer, whatever valid results it sends.
        let served = try serve(archive: archive, out: directory + "/out",
                               extra: ["--attempts", "100", "--handshake-timeout-ms", "1000", "--watch", "--watch-interval-ms", "600000"])
        var counts: [String: Int] = [:]
        let started = Date()
        for iteration in 0..<iterations {
            let kind = fuzzOne(served, random: &random, counts: &counts)
            guard served.child.isRunning else {
                return XCTFail("seed \(seed) iteration \(iteration) (\(kind)) killed the coordinator; replay: WIRE_FUZZ_SEED=\(seed) swift test --filter WireFuzzTests\n\(served.child.output.suffix(4000))")
            }
        }
        print("wire fuzzer: seed \(seed), \(iterations) iterations in \(String(format: "%.1f", Date().timeIntervalSince(started))) s: \(counts.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " "))")
        for kind in ["credit", "result", "resultInvalid", "resultUnheld", "fail", "reset", "fin", "preAuth"] {
            XCTAssertGreaterThan(counts[kind] ?? 0, 0, "the fuzzer never did \(kind)")
        }
        XCTAssertNotNil(status(httpPort: served.httpPort), "the coordinator must still answer /status")
        // An honest worker still completes every unit.
        _ = try start("worker", "poseworker", ["join", served.endpoint.description, "--threads", "1", "--null-model",
                                               "--cache", directory + "/cache", "--name", "honest", "--token-file", tokenFile])
        waitUntil(timeout: 120, "every unit accepted") {
            let job = status(httpPort: served.httpPort)?["job"] as? [String: Any]
            let units = job?["units"] as? Int ?? -1, accepted = job?["unitsAccepted"] as? Int ?? 0, failed = job?["unitsFailed"] as? Int ?? 0
            return !served.child.isRunning || (units > 0 && accepted + failed == units && (job?["videosDone"] as? Int ?? 0) == 3)
        }
        XCTAssertTrue(served.child.isRunning)
        XCTAssertEqual(jobCount(served, "unitsFailed"), 0)
        served.child.signal(SIGTERM)
        XCTAssertEqual(served.child.wait(timeout: 20), 128 + SIGTERM)
        XCTAssertFalse(served.child.output.contains("Fatal error"), served.child.output)
    }

    /// One hostile connection; returns its kind.
    private func fuzzOne(_ served: Served, random: inout SplitMix64, counts: inout [String: Int]) -> String {
        func chance(_ p: Double) -> Bool { Double(random.next() % 1_000_000) / 1_000_000 < p }
        func pick(_ n: Int) -> Int { Int(random.next() % UInt64(n)) }
        func bytes(_ n: Int) -> [UInt8] { (0..<n).map { _ in UInt8(truncatingIfNeeded: random.next()) } }
        guard let client = try? WireTestClient(served.endpoint) else { return "connectFailed" }
        let nonce = bytes(WireProtocol.nonceByteCount)
        let hello = try! WireMessage.hello(Hello(role: .worker, name: "fuzz", threads: 1, cachedModel: nil, capabilities: .all, nonce: nonce)).encode()
        if chance(0.3) {
            counts["preAuth", default: 0] += 1
            var frame: [UInt8]
            switch pick(6) {
            case 0: frame = bytes(1 + pick(200))
            case 1: frame = hello; frame[pick(frame.count)] ^= UInt8(1 << pick(8))
            case 2: frame = Array(hello.prefix(pick(hello.count)))
            case 3: frame = WireTestClient.bomb(inflatedBytes: (1 + pick(60)) << 20)
            case 4: frame = Array("GET /status HTTP/1.1\r\n\r\n".utf8)
            default: frame = hello + (try! WireMessage.credit(Credit(units: 5)).encode())
            }
            client.sendRaw(frame)
            _ = client.receive(timeoutMs: 20)
            if chance(0.5) { client.reset() } else { client.close() }
            return "preAuth"
        }
        let token = chance(0.95) ? self.token : Array("not the token".utf8)
        guard (try? client.handshake(token: token, name: "fuzz")) != nil else {
            counts["authFailed", default: 0] += 1
            return "authFailed"
        }
        var held: [PoseWire.Unit] = []
        func drain(_ ms: Int) {
            while case .message(let message) = client.receive(timeoutMs: ms) {
                if case .unit(let unit) = message { held.append(unit) }
            }
        }
        let messages = 1 + pick(8)
        // Half the sessions end right after their last message, racing the coordinator's answer to it.
        let abrupt = chance(0.5)
        for step in 0..<messages {
            let wait = step == messages - 1 && abrupt ? 0 : (chance(0.5) ? 5 : 30)
            var message: WireMessage
            switch pick(10) {
            case 0, 1:
                counts["credit", default: 0] += 1
                message = .credit(Credit(units: UInt32(chance(0.1) ? pick(1 << 20) : pick(10))))
            case 2, 3, 4:
                let unit = held.isEmpty ? nil : held.remove(at: pick(held.count))
                let id = unit?.id ?? PoseWire.UnitID(videoIndex: UInt32(pick(4)), videoName: "000001_mpii_test", unitIndex: UInt32(pick(20)))
                let joints = unit?.inputShape.joints ?? 17
                var windows = (0..<(unit?.windowCount ?? 1 + pick(3))).map { _ in
                    WindowKeypoints(values: (0..<joints).flatMap { _ in [Float(pick(24)), Float(pick(32)), Float(pick(100)) / 100] })
                }
                var lease = unit?.leaseID ?? random.next() % 1000
                if unit == nil { counts["resultUnheld", default: 0] += 1 } else if chance(0.5) {
                    counts["resultInvalid", default: 0] += 1
                    switch pick(5) {
                    case 0: windows[0].values[pick(windows[0].values.count)] = [.nan, .infinity, 5, -3, 1e30][pick(5)]
                    case 1: windows.removeLast()
                    case 2: windows[0].values.removeLast()
                    case 3: lease &+= 1 + random.next() % 5
                    default: windows.append(windows[0])
                    }
                } else {
                    counts["result", default: 0] += 1
                }
                message = .result(UnitResult(id: id, leaseID: lease, windows: windows, computeMicros: random.next() % 1000))
            case 5:
                counts["fail", default: 0] += 1
                let unit = held.isEmpty ? nil : held.remove(at: pick(held.count))
                message = .fail(UnitFailure(id: unit?.id ?? PoseWire.UnitID(videoIndex: 0, videoName: "x", unitIndex: 0),
                                            leaseID: unit?.leaseID ?? random.next(), reason: "fuzz"))
            case 6:
                message = [.heartbeat(Heartbeat(sequence: random.next())), .drain(Drain(reason: "fuzz")), .statusRequest][pick(3)]
            case 7:
                message = .modelRequest(ModelRequest(sha256: SHA256Digest(bytes: bytes(32)), offset: random.next() % 100_000))
            case 8:
                counts["unexpected", default: 0] += 1
                message = [.hello(Hello(role: .worker, name: "again", threads: 1, cachedModel: nil, capabilities: .all, nonce: nonce)),
                           .auth(Auth(proof: bytes(32))), .bye(Bye(reason: "fuzz"))][pick(3)]
            default:
                counts["rawFrame", default: 0] += 1
                var frame = (try? Frame.encode(type: UInt8(pick(20)), flags: [], payload: bytes(pick(64)))) ?? []
                if chance(0.3), !frame.isEmpty { frame[pick(frame.count)] ^= 0x40 }
                client.sendRaw(frame)
                if wait > 0 { drain(5) }
                continue
            }
            if chance(0.05), var frame = try? message.encode(compression: .standard) {
                frame[pick(frame.count)] ^= UInt8(1 << pick(8))
                client.sendRaw(frame)
            } else {
                client.send(message)
            }
            if wait > 0 { drain(wait) }
        }
        switch pick(3) {
        case 0: counts["reset", default: 0] += 1; client.reset()
        case 1: counts["fin", default: 0] += 1; client.close()
        default: counts["bye", default: 0] += 1; client.send(.bye(Bye(reason: "fuzz done"))); client.close()
        }
        return "authenticated"
    }
}
