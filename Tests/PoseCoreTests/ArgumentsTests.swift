// The command-line conventions, decided without running anything: each option table gives
// parsing, help with descriptions and defaults, "did you mean", and usage errors.
import Foundation
import XCTest
import PoseCore

final class ArgumentsTests: XCTestCase {
    static let spec = CommandSpec("run", summary: "annotate an archive", positionals: "[HOST:PORT]", options: [
        .required("--archive", "DIR", "the archive"),
        .option("--threads", "N", "inference threads", default: "3"),
        .option("--weights", "FILE", "the weights", default: "random demo weights"),
        .option("--lease-ms", "N", "lease length", default: "300000", advanced: true),
        .flag("--dry-run", "no model"),
    ])

    static let tool = CommandLineTool(name: "posecoord", summary: "the coordinator", commands: [
        .init(spec, { _ in 0 }),
        .init(CommandSpec("status", summary: "print a status", options: []), { _ in 0 }),
    ], versionDetails: { ["kernels: test"] })

    func testOptionsFlagsPositionalsAndTableDefaults() throws {
        var arguments = try CommandArguments(["host:1", "--archive", "a", "--dry-run", "--weights=w.safetensors"], spec: Self.spec)
        XCTAssertEqual(try arguments.required("--archive"), "a")
        XCTAssertEqual(try arguments.int("--threads", range: 1...8), 3, "absent: the table's default")
        XCTAssertEqual(try arguments.int("--threads", default: 5), 5, "an explicit default wins over the table's")
        XCTAssertTrue(arguments.flag("--dry-run"))
        XCTAssertEqual(try arguments.option("--weights"), "w.safetensors")
        XCTAssertEqual(arguments.positional(), "host:1")
        XCTAssertNil(arguments.positional())
        XCTAssertNoThrow(try arguments.finish())
    }

    func testUnknownOptionSuggestsTheClosestName() {
        XCTAssertThrowsError(try CommandArguments(["--archvie", "a"], spec: Self.spec)) { error in
            XCTAssertEqual("\(error)", "unknown option --archvie; did you mean --archive?")
        }
        XCTAssertThrowsError(try CommandArguments(["--thread", "2"], spec: Self.spec)) { error in
            XCTAssertTrue("\(error)".hasSuffix("did you mean --threads?"), "\(error)")
        }
        XCTAssertThrowsError(try CommandArguments(["--zebra"], spec: Self.spec)) { error in
            XCTAssertEqual("\(error)", "unknown option --zebra", "nothing close: no guess")
        }
        XCTAssertEqual(editDistance("--archvie", "--archive"), 1, "a swap of neighbours is one edit")
        XCTAssertEqual(editDistance("kitten", "sitting"), 3)
    }

    func testUnknownOptionIsReportedBeforeAMissingRequiredOne() {
        // `--archvie x` used to say "missing --archive".
        guard case .usageError(let message) = Self.tool.decide(["run", "--archvie", "x"]) else { return XCTFail("not a usage error") }
        XCTAssertTrue(message.contains("did you mean --archive?"), message)
        XCTAssertFalse(message.contains("missing"), message)
    }

    func testMalformedValuesAreUsageErrors() throws {
        XCTAssertThrowsError(try CommandArguments(["--threads"], spec: Self.spec)) { XCTAssertTrue("\($0)".contains("needs a value")) }
        XCTAssertThrowsError(try CommandArguments(["--threads", "--dry-run"], spec: Self.spec)) { XCTAssertTrue("\($0)".contains("needs a value")) }
        XCTAssertThrowsError(try CommandArguments(["--dry-run=yes"], spec: Self.spec)) { XCTAssertTrue("\($0)".contains("takes no value")) }
        XCTAssertThrowsError(try CommandArguments(["--threads", "1", "--threads", "2"], spec: Self.spec)) {
            XCTAssertTrue("\($0)".contains("more than once"))
        }
        let arguments = try CommandArguments(["--threads", "x"], spec: Self.spec)
        XCTAssertThrowsError(try arguments.int("--threads", range: 1...8)) { error in
            XCTAssertEqual("\(error)", "--threads must be an integer in 1...8, got \"x\"")
        }
        var extra = try CommandArguments(["a", "b"], spec: Self.spec)
        _ = extra.positional()
        XCTAssertThrowsError(try extra.finish()) { XCTAssertEqual("\($0)", "unexpected argument \"b\"") }
        XCTAssertThrowsError(try CommandArguments([], spec: Self.spec).required("--archive")) { XCTAssertEqual("\($0)", "missing --archive DIR") }
    }

    func testHelpListsEveryOptionWithItsDescriptionAndDefault() {
        let help = Self.spec.help(tool: "posecoord")
        XCTAssertTrue(help.hasPrefix("usage: posecoord run [HOST:PORT] --archive DIR [options]"), help)
        for option in Self.spec.options where !option.isAdvanced {
            let synopsis = option.valueName.map { "\(option.name) \($0)" } ?? option.name
            let line = help.split(separator: "\n").first { $0.hasPrefix("  " + synopsis + " ") }
            XCTAssertNotNil(line, "\(option.name) missing from the help")
            XCTAssertTrue(line?.contains(option.help) ?? false, "\(option.name): no description")
            if let value = option.defaultValue { XCTAssertTrue(line?.contains("(default: \(value))") ?? false, "\(option.name): no default") }
        }
        XCTAssertTrue(help.contains("--quiet") && help.contains("--verbose") && help.contains("-h, --help"))
        XCTAssertFalse(help.contains("--lease-ms"), "advanced options only with --verbose")
        XCTAssertTrue(Self.spec.help(tool: "posecoord", advanced: true).contains("--lease-ms N"))
    }

    func testHelpWinsOnEverySubcommandAndHelpCommandWorks() {
        for line in [["run", "-h"], ["run", "--help"], ["run", "--archvie", "--help"], ["help", "run"], ["status", "--help"]] {
            guard case .print(let text, let status) = Self.tool.decide(line) else { XCTFail("\(line): no help"); continue }
            XCTAssertEqual(status, 0, "\(line)")
            XCTAssertTrue(text.hasPrefix("usage: posecoord \(line.contains("status") ? "status" : "run")"), "\(line): \(text)")
        }
        guard case .print(let top, 0) = Self.tool.decide(["--help"]) else { return XCTFail("no top-level help") }
        XCTAssertTrue(top.contains("run") && top.contains("status") && top.contains("help COMMAND"))
        guard case .print(_, 2) = Self.tool.decide([]) else { return XCTFail("no arguments: usage, status 2") }
    }

    func testUnknownCommandSuggestsTheClosest() {
        guard case .usageError(let message) = Self.tool.decide(["stauts"]) else { return XCTFail("not a usage error") }
        XCTAssertTrue(message.contains("unknown command \"stauts\"; did you mean status?"), message)
        guard case .usageError(let help) = Self.tool.decide(["help", "nothing"]) else { return XCTFail("help of no command") }
        XCTAssertTrue(help.contains("unknown command"))
    }

    func testVersionShowsVersionCommitAndKernels() {
        guard case .print(let text, 0) = Self.tool.decide(["--version"]) else { return XCTFail("no version") }
        XCTAssertTrue(text.hasPrefix("posecoord \(BuildInfo.version) (commit "), text)
        XCTAssertTrue(text.contains("kernels: test"))
        guard case .print(let again, 0) = Self.tool.decide(["run", "--version"]) else { return XCTFail("no version after a command") }
        XCTAssertEqual(again, text)
    }

    func testQuietAndVerboseAreAcceptedEverywhere() throws {
        XCTAssertEqual(try CommandArguments(["--quiet"], spec: Self.spec).verbosity, .quiet)
        XCTAssertEqual(try CommandArguments(["--verbose"], spec: Self.spec).verbosity, .verbose)
        XCTAssertEqual(try CommandArguments([], spec: Self.spec).verbosity, .normal)
        guard case .run = Self.tool.decide(["status", "--quiet"]) else { return XCTFail("--quiet refused by a command without options") }
    }

}
