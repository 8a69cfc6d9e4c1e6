// The entry point shared by `posecoord` and `poseworker`: picks the subcommand, answers
// `--help`, `help SUBCOMMAND` and `--version`, checks the arguments against the subcommand's
// table, and maps failures to exit statuses (2 for usage errors, 1 for runtime failures).
#if canImport(Glibc)
import Glibc
#endif

public struct CommandLineTool: Sendable {
    public typealias Run = @Sendable (inout CommandArguments) throws -> Int32

    public struct Command: Sendable {
        public let spec: CommandSpec
        public let run: Run
        public init(_ spec: CommandSpec, _ run: @escaping Run) { self.spec = spec; self.run = run }
    }

    public let name: String
    /// One line: what the tool is for.
    public let summary: String
    public let commands: [Command]
    /// Paragraphs after the command list (environment variables).
    public let notes: String
    /// Lines after the version line (kernel variant, precision).
    public let versionDetails: @Sendable () -> [String]

    public init(name: String, summary: String, commands: [Command], notes: String = "",
                versionDetails: @escaping @Sendable () -> [String] = { [] }) {
        self.name = name; self.summary = summary; self.commands = commands; self.notes = notes; self.versionDetails = versionDetails
    }

    /// What the command line asks for, decided without running anything (tests call this).
    public enum Decision {
        case print(String, status: Int32)
        case usageError(String)
        case run(Command, CommandArguments)
    }

    public var usage: String {
        let width = commands.map(\.spec.name.count).max() ?? 0
        var text = "usage: \(name) <command> [options]\n\n\(summary)\n\ncommands:\n"
        for command in commands {
            text += "  " + command.spec.name + String(repeating: " ", count: width - command.spec.name.count) + "  " + command.spec.summary + "\n"
        }
        text += "  " + "help" + String(repeating: " ", count: max(0, width - 4)) + "  show a command's options: \(name) help COMMAND\n"
        if !notes.isEmpty { text += "\n" + notes + "\n" }
        text += "\n\(name) COMMAND --help shows a command's options; \(name) --version shows what was built.\n"
        return text
    }

    public var versionText: String {
        ([name + " " + BuildInfo.current.description] + versionDetails()).joined(separator: "\n")
    }

    public func decide(_ arguments: [String]) -> Decision {
        guard let first = arguments.first else { return .print(usage, status: 2) }
        switch first {
        case "-h", "--help": return .print(usage, status: 0)
        case "--version": return .print(versionText, status: 0)
        case "help":
            guard arguments.count > 1 else { return .print(usage, status: 0) }
            guard let command = command(arguments[1]) else { return .usageError(unknownCommand(arguments[1])) }
            return .print(command.spec.help(tool: name, advanced: arguments.contains("--verbose")), status: 0)
        default: break
        }
        guard let command = command(first) else { return .usageError(unknownCommand(first)) }
        let rest = Array(arguments.dropFirst())
        // Help wins over every other mistake on the line, as in swift-argument-parser.
        if rest.contains("-h") || rest.contains("--help") {
            return .print(command.spec.help(tool: name, advanced: rest.contains("--verbose")), status: 0)
        }
        if rest.contains("--version") { return .print(versionText, status: 0) }
        do {
            return .run(command, try CommandArguments(rest, spec: command.spec))
        } catch {
            return .usageError("\(name) \(command.spec.name): \(error)\n(\(name) \(command.spec.name) --help lists its options)")
        }
    }

    private func command(_ name: String) -> Command? { commands.first { $0.spec.name == name } }

    private func unknownCommand(_ text: String) -> String {
        var message = "\(name): unknown command \"\(text)\""
        if let guess = closestMatch(to: text, among: commands.map(\.spec.name)) { message += "; did you mean \(guess)?" }
        return message + "\n(\(name) --help lists the commands)"
    }

    /// Runs the command line and exits: 0 success, 1 runtime failure, 2 usage error.
    public func main(_ arguments: [String] = Array(CommandLine.arguments.dropFirst())) -> Never {
        switch decide(arguments) {
        case .print(let text, let status):
            if status == 0 { print(text, terminator: text.hasSuffix("\n") ? "" : "\n") } else { FileHandleOutput.error(text) }
            exit(status)
        case .usageError(let message):
            FileHandleOutput.error(message)
            exit(2)
        case .run(let command, var arguments):
            FileHandleOutput.verbosity = arguments.verbosity
            do {
                exit(try command.run(&arguments))
            } catch let error as UsageError {
                FileHandleOutput.error("\(name) \(command.spec.name): \(error)\n(\(name) \(command.spec.name) --help lists its options)")
                exit(2)
            } catch {
                FileHandleOutput.error("\(name) \(command.spec.name): \(error)")
                exit(1)
            }
        }
    }
}
