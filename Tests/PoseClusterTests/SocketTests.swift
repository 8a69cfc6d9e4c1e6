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
        let thread = Thread { loop.run() }
        thread.start()
        defer { loop.stop() }
        let endpoint = Endpoint(host: "127.0.0.1", port: port)
        let ok = try HTTPClient.get(endpoint, path: "/hello")
        XCTAssertEqual(ok.status, 200)
        XCTAssertEqual(String(decoding: ok.body, as: UTF8.self), "hi\n")
        XCTAssertEqual(try HTTPClient.get(endpoint, path: "/other").status, 404)
        let huge = try HTTPClient.get(endpoint, path: "/" + String(repeating: "a", count: HTTPServer.requestBytesMax + 10))
        XCTAssertEqual(huge.status, 431)
    }
}
