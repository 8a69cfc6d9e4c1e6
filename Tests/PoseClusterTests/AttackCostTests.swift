// The measured cost of each network attack of issue 8, for the threat model in docs/CLUSTER.md.
// Not a pass/fail test (speeds belong in documents): it runs only with POSECLUSTER_MEASURE=1 and
// prints the figures. POSECLUSTER_TEST_BINARIES=DIR measures another build (the "before" column).
import XCTest
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import PoseWire
@testable import PoseCluster

final class AttackCostTests: HostilePeerTestCase {
    /// CPU seconds (user + system) a process has used.
    func cpuSeconds(_ pid: Int32) -> Double {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = text.lastIndex(of: ")") else { return 0 }
        let fields = text[text.index(after: close)...].split(separator: " ")
        let ticks = (Double(fields[11]) ?? 0) + (Double(fields[12]) ?? 0)
        return ticks / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    func testMeasureAttackCosts() throws {
        guard ProcessInfo.processInfo.environment["POSECLUSTER_MEASURE"] == "1" else {
            throw XCTSkip("set POSECLUSTER_MEASURE=1 to measure the attack costs of docs/CLUSTER.md")
        }
        let archive = try makeArchive()
        let served = try serve(archive: archive, out: directory + "/out", extra: ["--handshake-timeout-ms", "60000"])
        // 4. Decompression bombs before authentication: 100 frames of about 2 KB declaring 60 MiB each.
        let bomb = WireTestClient.bomb(inflatedBytes: 60 << 20)
        let cpuBefore = cpuSeconds(served.child.pid)
        let started = Date()
        for _ in 0..<100 {
            guard let client = try? WireTestClient(served.endpoint) else { continue }
            client.sendRaw(bomb)
            _ = client.waitClosed(timeoutMs: 5_000)
        }
        let bombSeconds = Date().timeIntervalSince(started)
        let bombCPU = cpuSeconds(served.child.pid) - cpuBefore
        print(String(format: "measure bombs: 100 x %d-byte frames (60 MiB declared) before authentication: coordinator CPU %.2f s, %.2f s wall", bomb.count, bombCPU, bombSeconds))

        // 13. /status behind 64 idle HTTP connections.
        let http = Endpoint(host: "127.0.0.1", port: served.httpPort)
        var idle: [Socket] = []
        for _ in 0..<64 { if let socket = try? Socket.connect(to: http, timeoutMs: 2_000) { idle.append(socket) } }
        usleep(100_000)
        let asked = Date()
        var answered: Double?
        while Date().timeIntervalSince(asked) < 30 {
            if (try? HTTPClient.get(http, path: "/status", timeoutMs: 1_000))?.status == 200 { answered = Date().timeIntervalSince(asked); break }
            usleep(100_000)
        }
        idle.forEach { $0.close() }
        print(String(format: "measure http: /status behind 64 idle sockets answered after %.2f s", answered ?? -1))

        // 5. 1000 idle connections before authentication.
        let rssBefore = residentMegabytes(served.child.pid) ?? 0
        var clients: [WireTestClient] = []
        for _ in 0..<1000 { if let client = try? WireTestClient(served.endpoint) { client.sendRaw([0, 0, 0]); clients.append(client) } }
        usleep(1_500_000)
        let rssIdle = residentMegabytes(served.child.pid) ?? 0
        clients.removeAll()
        usleep(1_000_000)
        let rssAfter = residentMegabytes(served.child.pid) ?? 0
        print("measure idle: RSS \(rssBefore) MB, \(rssIdle) MB with 1000 idle connections, \(rssAfter) MB after they closed")
        served.child.signal(SIGKILL)
    }
}
