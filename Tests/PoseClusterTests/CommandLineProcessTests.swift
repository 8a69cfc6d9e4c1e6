// The command-line conventions, tested on the built binaries: help on every subcommand, exit
// status 2 for usage errors and 1 for runtime failures, --version, "did you mean", test hooks
// kept out of the help, POSECLUSTER_ADDRESS, and a --watch coordinator that prints its idle
// progress line once.
import XCTest
import Foundation
#if canImport(Glibc)
import Glibc
#endif
@testable import PoseCluster
import PoseCore

final class CommandLineProcessTests: ClusterTestCase {
    let subcommands = [("posecoord", ["run", "serve", "status", "synth", "eval", "render"]), ("poseworker", ["join", "infer", "bench"])]

    private func run(_ tool: String, _ arguments: [String], environment: [String: String] = [:]) throws -> (Int32, String) {
        let child = try start("\(tool)-\(children.count)", tool, arguments, environment: environment)
        guard let status = child.wait(timeout: 60) else {
            child.signal(SIGKILL)
            XCTFail("\(tool) \(arguments) did not finish")
            return (-1, child.output)
        }
        return (status, child.output)
    }

    func testEverySubcommandHasHelpWithDescriptionsAndDefaults() throws {
        for (tool, commands) in subcommands {
            for command in commands {
                for form in [[command, "-h"], [command, "--help"], ["help", command]] {
                    let (status, output) = try run(tool, form)
                    XCTAssertEqual(status, 0, "\(tool) \(form): \(output)")
                    XCTAssertTrue(output.hasPrefix("usage: \(tool) \(command)"), "\(tool) \(form): \(output)")
                    XCTAssertTrue(output.contains("--quiet") && output.contains("--verbose"), "\(tool) \(form)")
                }
            }
        }
        let (_, runHelp) = try run("posecoord", ["run", "--help"])
        XCTAssertTrue(runHelp.contains("--threads N") && runHelp.contains("(default: CPU cores - 1)"), runHelp)
        XCTAssertTrue(runHelp.contains("--unit-size N") && runHelp.contains("(default: 16)"), runHelp)
        let (_, join) = try run("poseworker", ["join", "-h"])
        XCTAssertTrue(join.contains("--credits N") && join.contains("(default: 4)"), join)
    }

    func testTestHooksNeverAppearInHelp() throws {
        for (tool, commands) in subcommands {
            for command in commands {
                let (_, output) = try run(tool, [command, "--help", "--verbose"])
                XCTAssertFalse(output.contains("POSECLUSTER_TEST"), "\(tool) \(command) --help shows a test hook")
                XCTAssertFalse(output.contains("INVARIANTS"), "\(tool) \(command) --help shows a test hook")
            }
            let (_, top) = try run(tool, ["--help"])
            XCTAssertFalse(top.contains("POSECLUSTER_TEST"))
        }
    }

    func testVersionNamesVersionCommitAndKernels() throws {
        for tool in ["posecoord", "poseworker"] {
            let (status, output) = try run(tool, ["--version"])
            XCTAssertEqual(status, 0, output)
            XCTAssertTrue(output.hasPrefix("\(tool) \(BuildInfo.version) (commit "), output)
            XCTAssertTrue(output.contains("kernels: "), output)
            // Built from a git checkout (the repository running these tests): a real commit.
            if FileManager.default.fileExists(atPath: URL(fileURLWithPath: #filePath).deletingLastPathComponent()
                .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent(".git").path) {
                XCTAssertFalse(output.contains("(commit unknown)"), output)
            }
        }
    }

    func testUsageErrorsExit2AndSuggest() throws {
        let cases: [(String, [String], String)] = [
            ("posecoord", ["run", "--archvie", "a", "--out", "b"], "did you mean --archive?"),
            ("posecoord", ["serve", "--archive", "a", "--out", "b", "--listen", "7713"], "--listen must be HOST:PORT"),
            ("posecoord", ["run", "--archive", "a"], "missing --out"),
            ("posecoord", ["run", "--archive", "a", "--out", "b", "--threads", "zero"], "--threads must be an integer"),
            ("posecoord", ["stauts"], "did you mean status?"),
            ("poseworker", ["join"], "missing the coordinator's HOST:PORT"),
            ("poseworker", ["join", "7700"], "HOST:PORT must be HOST:PORT"),
            ("poseworker", ["bench", "--iteratoins", "2"], "did you mean --iterations?"),
            ("posecoord", ["status"], "POSECLUSTER_ADDRESS"),
        ]
        for (tool, arguments, expected) in cases {
            let (status, output) = try run(tool, arguments)
            XCTAssertEqual(status, 2, "\(tool) \(arguments): \(output)")
            XCTAssertTrue(output.contains(expected), "\(tool) \(arguments): \(output)")
            XCTAssertFalse(output.contains("Error(") || output.contains("Array<"), "Swift type names: \(output)")
        }
    }

    func testRuntimeFailuresExit1() throws {
        let (status, output) = try run("posecoord", ["run", "--archive", directory + "/no-such-archive", "--out", directory + "/out", "--quiet"])
        XCTAssertEqual(status, 1, output)
        XCTAssertTrue(output.contains("no-such-archive"), output)
        let (infer, inferOutput) = try run("poseworker", ["infer", "--weights", directory + "/missing.safetensors",
                                                          "--input", "x", "--output", "y"])
        XCTAssertEqual(infer, 1, inferOutput)
    }

    func testStatusFallsBackToPoseclusterAddress() throws {
        let port = try freePort()
        let (status, output) = try run("posecoord", ["status"], environment: ["POSECLUSTER_ADDRESS": "127.0.0.1:\(port)"])
        XCTAssertEqual(status, 1, "nobody listens: a runtime failure")
        XCTAssertTrue(output.contains("cannot reach 127.0.0.1:\(port)"), output)
        let (malformed, text) = try run("posecoord", ["status"], environment: ["POSECLUSTER_ADDRESS": "nowhere"])
        XCTAssertEqual(malformed, 2, text)
        XCTAssertTrue(text.contains("POSECLUSTER_ADDRESS must be HOST:PORT"), text)
    }

    func testQuietSilencesProgressAndWatchPrintsTheIdleLineOnce() throws {
        let archive = directory + "/archive"
        let (synth, synthOutput) = try run("posecoord", ["synth", "--out", archive, "--videos", "1", "--frames", "8", "--size", "96x64", "--quiet"])
        XCTAssertEqual(synth, 0, synthOutput)
        XCTAssertFalse(synthOutput.contains("synth: 1/1 videos"), "--quiet printed progress: \(synthOutput)")
        XCTAssertTrue(synthOutput.contains("synth: 1 videos"), "the result still shows: \(synthOutput)")

        let port = try freePort(), httpPort = try freePort()
        let coordinator = try start("coordinator", "posecoord", ["serve", "--archive", archive, "--out", directory + "/out",
                                                                 "--listen", "127.0.0.1:\(port)", "--http", "127.0.0.1:\(httpPort)",
                                                                 "--watch", "--watch-interval-ms", "500"])
        try start("worker", "poseworker", ["join", "127.0.0.1:\(port)", "--threads", "1", "--null-model",
                                           "--cache", directory + "/cache", "--quiet"])
        waitUntil(timeout: 60, "the job to be watching") {
            (status(httpPort: httpPort)?["job"] as? [String: Any])?["state"] as? String == "watching"
        }
        // Idle for three progress intervals (2 s each): the same line must not repeat.
        Thread.sleep(forTimeInterval: 6.5)
        let lines = coordinator.output.split(separator: "\n").filter { $0.hasPrefix("posecoord: videos ") }
        XCTAssertEqual(lines.count, Set(lines).count, "an unchanged progress line was printed again:\n\(lines.joined(separator: "\n"))")
        XCTAssertFalse(lines.isEmpty, coordinator.output)
    }
}

final class ProgressProcessTests: ClusterTestCase {
    /// The job's size is known at the first /status, before any video is planned or any worker
    /// joins, and it does not grow while the job runs.
    func testServeKnowsTheJobSizeFromTheFirstSecond() throws {
        let archive = directory + "/archive"
        let synth = try start("synth", "posecoord", ["synth", "--out", archive, "--videos", "4", "--frames", "10", "--size", "96x64", "--quiet"])
        XCTAssertEqual(synth.wait(timeout: 60), 0, synth.output)
        let port = try freePort(), httpPort = try freePort()
        let coordinator = try start("coordinator", "posecoord", ["serve", "--archive", archive, "--out", directory + "/out",
                                                                 "--listen", "127.0.0.1:\(port)", "--http", "127.0.0.1:\(httpPort)",
                                                                 "--unit-size", "2"])
        var first: [String: Any]?
        waitUntil(timeout: 30, "the first status with the videos counted") {
            guard let job = status(httpPort: httpPort)?["job"] as? [String: Any], (job["videos"] as? Int ?? 0) > 0 else { return false }
            first = job
            return true
        }
        let videos = first?["videos"] as? Int, windows = first?["windows"] as? Int ?? 0
        XCTAssertEqual(videos, 4, "every video counted at once: \(first ?? [:])")
        XCTAssertGreaterThan(windows, 0)
        XCTAssertNotNil(first?["processStartTime"] as? Double)
        try start("worker", "poseworker", ["join", "127.0.0.1:\(port)", "--threads", "1", "--null-model", "--cache", directory + "/cache", "--quiet"])
        var seen: [[String: Any]] = []
        while coordinator.isRunning, seen.count < 2000 {
            if let job = status(httpPort: httpPort)?["job"] as? [String: Any] { seen.append(job) }
            usleep(50_000)
        }
        XCTAssertEqual(coordinator.wait(timeout: 120), 0, coordinator.output)
        XCTAssertFalse(seen.isEmpty)
        for job in seen {
            XCTAssertEqual(job["videos"] as? Int, 4, "the video total never changes")
            XCTAssertEqual(job["windows"] as? Int, windows, "synthetic detections are all inside the frames: the estimate is exact")
        }
    }
}
