// Runs the built `posecoord` and `poseworker` binaries as real processes on 127.0.0.1 for the
// cluster tests: free ports, logs in a temporary folder, bounded waits, and children that are
// always killed when a test ends.
import XCTest
import Foundation
#if canImport(Glibc)
import Glibc
#endif
@testable import PoseCluster

/// A child process with its combined output in a log file.
final class ChildProcess: @unchecked Sendable {
    let name: String
    let process = Process()
    let logPath: String

    init(name: String, executable: String, arguments: [String], environment: [String: String] = [:], logDirectory: String) throws {
        self.name = name
        logPath = logDirectory + "/\(name).log"
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        env["POSECLUSTER_TOKEN"] = nil
        env["POSECLUSTER_TEST_POISON"] = nil
        for (key, value) in environment { env[key] = value }
        process.environment = env
        process.standardOutput = log
        process.standardError = log
        process.standardInput = FileHandle.nullDevice
        try process.run()
    }

    var pid: Int32 { process.processIdentifier }
    var isRunning: Bool { process.isRunning }

    func signal(_ signal: Int32) {
        if process.isRunning { kill(pid, signal) }
    }

    /// Waits for exit up to `timeout` seconds; the exit status, or nil if still running.
    @discardableResult
    func wait(timeout: Double) -> Int32? {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        return process.isRunning ? nil : process.terminationStatus
    }

    var output: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }
}

/// Per-test cluster fixture: paths, children, helpers.
class ClusterTestCase: XCTestCase {
    var directory = ""
    var children: [ChildProcess] = []

    override func setUpWithError() throws {
        directory = NSTemporaryDirectory() + "posecluster-test-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    override func tearDown() {
        for child in children where child.isRunning {
            child.signal(SIGKILL)
            child.wait(timeout: 5)
        }
        if (testRun?.totalFailureCount ?? 0) == 0 {
            try? FileManager.default.removeItem(atPath: directory)
        } else {
            for child in children {
                print("---- \(child.name) (\(child.logPath)) ----\n\(child.output.suffix(6000))")
            }
        }
        children.removeAll()
    }

    /// Folder of the built executables: beside the test bundle, or .build/release of this package.
    /// POSECLUSTER_TEST_BINARIES names another folder, to run a test against other builds (the
    /// "before" figures of docs/CLUSTER.md's threat model come from the previous release that way).
    static let binaryDirectory: String = {
        if let override = ProcessInfo.processInfo.environment["POSECLUSTER_TEST_BINARIES"] { return override }
        let candidates = [
            URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().path,
            Bundle.main.bundleURL.deletingLastPathComponent().path,
            URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                .deletingLastPathComponent().appendingPathComponent(".build/release").path,
        ]
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0 + "/posecoord") } ?? candidates.last!
    }()

    func binary(_ name: String) throws -> String {
        let path = ClusterTestCase.binaryDirectory + "/" + name
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw XCTSkip("\(name) not built beside the tests (looked in \(ClusterTestCase.binaryDirectory))")
        }
        return path
    }

    @discardableResult
    func start(_ name: String, _ executable: String, _ arguments: [String], environment: [String: String] = [:]) throws -> ChildProcess {
        let child = try ChildProcess(name: name, executable: try binary(executable), arguments: arguments,
                                     environment: environment, logDirectory: directory)
        children.append(child)
        return child
    }

    /// Runs a command to completion (bounded) and returns its status and output.
    func runToEnd(_ name: String, _ executable: String, _ arguments: [String], timeout: Double = 120) throws -> (Int32, String) {
        let child = try start(name, executable, arguments)
        guard let status = child.wait(timeout: timeout) else {
            child.signal(SIGKILL)
            XCTFail("\(name) did not finish within \(timeout) s")
            return (-1, child.output)
        }
        return (status, child.output)
    }

    /// A port nobody listens on right now (bind 0, read it, close).
    func freePort() throws -> UInt16 {
        let socket = try Socket.listen(on: Endpoint(host: "127.0.0.1", port: 0))
        defer { socket.close() }
        return socket.localPort
    }

    /// Polls `condition` every 50 ms until it holds or `timeout` seconds pass.
    @discardableResult
    func waitUntil(timeout: Double, _ what: String, _ condition: () throws -> Bool) rethrows -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if try condition() { return true }
            usleep(50_000)
        }
        XCTFail("timed out after \(timeout) s waiting for \(what)")
        return false
    }

    /// Resident memory of a process in MiB (VmRSS), or nil when it is gone.
    func residentMegabytes(_ pid: Int32) -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
              let kilobytes = Int(line.split(separator: " ").dropFirst().first ?? "") else { return nil }
        return kilobytes / 1024
    }

    /// The coordinator's /status as JSON, or nil while it is not answering.
    func status(httpPort: UInt16) -> [String: Any]? {
        guard let response = try? HTTPClient.get(Endpoint(host: "127.0.0.1", port: httpPort), path: "/status", timeoutMs: 2000),
              response.status == 200,
              let object = try? JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any] else { return nil }
        return object
    }

    /// Every regular file under `root` (relative path -> bytes), skipping hidden state folders.
    func files(under root: String) -> [String: Data] {
        var result: [String: Data] = [:]
        guard let enumerator = FileManager.default.enumerator(atPath: root) else { return result }
        while let relative = enumerator.nextObject() as? String {
            if relative.hasPrefix(".") || relative.contains("/.") { continue }
            var isDirectory: ObjCBool = false
            let path = root + "/" + relative
            if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue {
                result[relative] = FileManager.default.contents(atPath: path)
            }
        }
        return result
    }
}
