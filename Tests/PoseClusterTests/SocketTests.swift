// Endpoint parsing, and the HTTP server on a real loop answering a real client on 127.0.0.1.
import XCTest
import Foundation
@testable import PoseCluster

final class SocketTests: XCTestCase {
    func testEndpointParsing() throws {
        XCTAssertEqual(try Endpoint(parsing: "127.0.0.1:7000"), Endpoint(host: "127.0.0.1", port: 7000))
        XCTAssertEqual(try Endpoint(parsing: "[::1]:80"), Endpoint(host: "::1", port: 80))
        XCTAssertTrue(try Endpoint(parsing: "localhost:1").isLoopback)
        XCTAssertFalse(try Endpoint(parsing: "0.0.0.0:1").isLoopback)
        XCTAssertThrowsError(try Endpoint(parsing: "7000"))
        XCTAssertThrowsError(try Endpoint(parsing: "host:99999"))
        XCTAssertThrowsError(try Endpoint(parsing: ":80"))
    }

    func testHTTPServerAnswersAndRefusesOversizedRequests() throws {
        let loop = EventLoop()
        let server = try HTTPServer(endpoint: Endpoint(host: "127.0.0.1", port: 0), loop: loop, log: { _ in }) { path in
            path == "/hello" ? .text(200, "hi\n") : .text(404, "no\n")
        }
        let port = server.port
        let stopLoop = runOnThread(loop, keeping: server)
        defer { stopLoop() }
        let endpoint = Endpoint(host: "127.0.0.1", port: port)
        let ok = try HTTPClient.get(endpoint, path: "/hello")
        XCTAssertEqual(ok.status, 200)
        XCTAssertEqual(String(decoding: ok.body, as: UTF8.self), "hi\n")
        XCTAssertEqual(try HTTPClient.get(endpoint, path: "/other").status, 404)
        let huge = try HTTPClient.get(endpoint, path: "/" + String(repeating: "a", count: HTTPServer.requestBytesMax + 10))
        XCTAssertEqual(huge.status, 431)
    }

    /// Issue 8.13: 64 idle sockets locked /status out for about 12 s. Now an idle connection is closed
    /// after requestTimeoutMs, and the oldest idle one makes room for a new connection at the cap.
    func testIdleHTTPConnectionsCannotLockThePageOut() throws {
        let loop = EventLoop()
        let server = try HTTPServer(endpoint: Endpoint(host: "127.0.0.1", port: 0), loop: loop, log: { _ in }) { _ in .text(200, "ok\n") }
        let stopLoop = runOnThread(loop, keeping: server)
        defer { stopLoop() }
        let endpoint = Endpoint(host: "127.0.0.1", port: server.port)
        var idle: [Socket] = []
        for _ in 0..<(HTTPServer.connectionsMax + 16) { idle.append(try Socket.connect(to: endpoint, timeoutMs: 2_000)) }
        defer { idle.forEach { $0.close() } }
        usleep(200_000)
        // Well inside requestTimeoutMs: room is made by closing the oldest idle connection.
        let started = Date()
        XCTAssertEqual(try HTTPClient.get(endpoint, path: "/status", timeoutMs: 2_000).status, 200)
        print("/status behind \(idle.count) idle sockets answered in \(Int(Date().timeIntervalSince(started) * 1000)) ms")
        XCTAssertGreaterThan(server.idleClosed, 0)
        // And every idle socket is closed by the server once requestTimeoutMs has passed.
        usleep(useconds_t(HTTPServer.requestTimeoutMs * 1000 + 500_000))
        var buffer = [UInt8](repeating: 0, count: 16)
        let closed = idle.filter { socket in
            (try? buffer.withUnsafeMutableBytes { try socket.read(into: $0) }) == .closed
        }.count
        XCTAssertEqual(closed, idle.count, "idle HTTP connections are closed after requestTimeoutMs")
    }

    /// Issue 8.13: off loopback the page needs the cluster token (Bearer); /metrics only where opened.
    func testStatusPagesNeedTheTokenWhereTheAccessSaysSo() throws {
        let token = Array("correct horse battery staple".utf8)
        for metricsOpen in [false, true] {
            let loop = EventLoop()
            let access = HTTPAccess(token: token, openPaths: metricsOpen ? ["/healthz", "/metrics"] : ["/healthz"])
            let server = try HTTPServer(endpoint: Endpoint(host: "127.0.0.1", port: 0), loop: loop, access: access, log: { _ in }) { _ in .text(200, "ok\n") }
            let stopLoop = runOnThread(loop, keeping: server)
            defer { stopLoop() }
            let endpoint = Endpoint(host: "127.0.0.1", port: server.port)
            XCTAssertEqual(try HTTPClient.get(endpoint, path: "/status").status, 401)
            XCTAssertEqual(try HTTPClient.get(endpoint, path: "/").status, 401)
            XCTAssertEqual(try HTTPClient.get(endpoint, path: "/status", token: Array("wrong token!".utf8)).status, 401)
            XCTAssertEqual(try HTTPClient.get(endpoint, path: "/status", token: token).status, 200)
            XCTAssertEqual(try HTTPClient.get(endpoint, path: "/healthz").status, 200)
            XCTAssertEqual(try HTTPClient.get(endpoint, path: "/metrics").status, metricsOpen ? 200 : 401)
            XCTAssertEqual(try HTTPClient.get(endpoint, path: "/metrics", token: token).status, 200)
        }
        XCTAssertTrue(HTTPAccess.open.allows(path: "/status", authorization: nil))
        XCTAssertTrue(HTTPAccess(token: token, openPaths: []).allows(path: "/status", authorization: "bearer  correct horse battery staple "))
    }
}

/// Runs `loop` on its own thread; the returned closure stops it and waits until its thread has
/// left `run()`. `server` stays alive until then: its handlers on the loop hold it unowned, and a
/// server released while the loop still ran (ARC may end a local's life at its last use; the
/// test's end came before the loop's) crashed the test process with "Attempted to read an
/// unowned reference but object ... was already destroyed".
func runOnThread(_ loop: EventLoop, keeping server: HTTPServer) -> () -> Void {
    let finished = DispatchSemaphore(value: 0)
    let thread = Thread {
        loop.run()
        finished.signal()
    }
    thread.start()
    return {
        withExtendedLifetime(server) {
            loop.stop()
            finished.wait()
        }
    }
}
