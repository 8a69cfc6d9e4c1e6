// The listener out of descriptors (issue 8.6), in this process: with every descriptor taken,
// one accept sheds a waiting connection through the spare descriptor, pauses polling for
// descriptorBackoffMs, and reports once per errorLogIntervalMs instead of spinning.
import XCTest
import Foundation
#if canImport(Glibc)
import Glibc
#endif
@testable import PoseCluster

final class ListenerTests: XCTestCase {
    final class TestClock: Clock, @unchecked Sendable {
        var nowMs: UInt64 = 1_000
    }

    func testOutOfDescriptorsTheListenerShedsPausesAndReportsOnce() throws {
        let clock = TestClock()
        let socket = try Socket.listen(on: Endpoint(host: "127.0.0.1", port: 0))
        defer { socket.close() }
        var accepted: [Socket] = []
        var reports: [String] = []
        let listener = Listener(socket: socket, clock: clock, onAccept: { accepted.append($0) }, onError: { reports.append($0) })
        let endpoint = Endpoint(host: "127.0.0.1", port: socket.localPort)
        let clients = try (0..<3).map { _ in try Socket.connect(to: endpoint, timeoutMs: 2_000) }
        defer { clients.forEach { $0.close() }; accepted.forEach { $0.close() } }
        usleep(50_000)

        // Take every descriptor: a soft limit just above the highest open one, holes filled.
        var saved = rlimit()
        XCTAssertEqual(getrlimit(Int32(RLIMIT_NOFILE.rawValue), &saved), 0)
        let highest = try FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").compactMap { Int($0) }.max() ?? 1024
        var tight = saved
        tight.rlim_cur = rlim_t(highest + 1)
        XCTAssertEqual(setrlimit(Int32(RLIMIT_NOFILE.rawValue), &tight), 0)
        var fillers: [Int32] = []
        while fillers.count < 100_000 {
            let fd = open("/dev/null", O_RDONLY | O_CLOEXEC)
            if fd < 0 { break }
            fillers.append(fd)
        }
        listener.readable()
        listener.readable()   // the loop would not call it while paused; a second error is counted, not logged
        fillers.forEach { close($0) }
        XCTAssertEqual(setrlimit(Int32(RLIMIT_NOFILE.rawValue), &saved), 0)

        XCTAssertEqual(accepted.count, 0)
        XCTAssertEqual(listener.acceptErrors, 2)
        XCTAssertEqual(reports.count, 1, "\(reports)")
        XCTAssertTrue(reports[0].contains("Too many open files") && reports[0].contains("LimitNOFILE"), reports[0])
        XCTAssertFalse(listener.wantsRead, "paused for descriptorBackoffMs")
        clock.nowMs += Listener.descriptorBackoffMs
        XCTAssertTrue(listener.wantsRead)
        // Two waiting connections were shed through the spare descriptor: their clients see a close.
        var buffer = [UInt8](repeating: 0, count: 8)
        usleep(50_000)
        let shed = clients.filter { client in (try? buffer.withUnsafeMutableBytes { try client.read(into: $0) }) == .closed }.count
        XCTAssertEqual(shed, 2)
        // With descriptors back, the last one is accepted.
        listener.readable()
        XCTAssertEqual(accepted.count, 1)
    }
}
