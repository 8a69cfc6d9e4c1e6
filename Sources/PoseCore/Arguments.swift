// A small declarative command line: each subcommand has one table of its options (name, value
// name, one-line description, default), and that table gives the parser, `--help`, "did you
// mean" and the defaults. Adding an option is one table entry plus the line that reads it.
// No package dependency; the conventions follow swift-argument-parser's.

/// A mistake in how a command was called (exit status 2). Its description reads like a sentence.
public struct UsageError: Error, CustomStringConvertible, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// One option of a subcommand, as its help shows it.
public struct OptionSpec: Sendable, Equatable {
    /// `--threads`.
    public let name: String
    /// `N` for an option that takes a value, nil for a flag.
    public let valueName: String?
    /// One line for the help.
    public let help: String
    /// The default, as the help shows it; for options that take a value and are parsed with
    /// `int`/`double`/`value` without an explicit default, also the value used.
    public let defaultValue: String?
    public let isRequired: Bool
    /// Shown only with `--help --verbose` (tuning knobs few people need).
    public let isAdvanced: Bool

    /// `--name VALUE`, optional, with the default it shows and uses.
    public static func option(_ name: String, _ valueName: String, _ help: String, default defaultValue: String? = nil,
                              advanced: Bool = false) -> OptionSpec {
        OptionSpec(name: name, valueName: valueName, help: help, defaultValue: defaultValue, isRequired: false, isAdvanced: advanced)
    }

    /// `--name VALUE` that must be given.
    public static func required(_ name: String, _ valueName: String, _ help: String) -> OptionSpec {
        OptionSpec(name: name, valueName: valueName, help: help, defaultValue: nil, isRequired: true, isAdvanced: false)
    }

    /// `--name`, true when present.
    public static func flag(_ name: String, _ help: String, advanced: Bool = false) -> OptionSpec {
        OptionSpec(name: name, valueName: nil, help: help, defaultValue: nil, isRequired: false, isAdvanced: advanced)
    }

    /// `--threads N` or `--dry-run`.
    var synopsis: String { valueName.map { "\(name) \($0)" } ?? name }
}

/// A subcommand: its name, what it does, its positional arguments and its option table.
public struct CommandSpec: Sendable {
    public let name: String
    /// One line for the tool's command list.
    public let summary: String
    /// Positional arguments as the usage line shows them (`HOST:PORT`), empty for none.
    public let positionals: String
    public let options: [OptionSpec]
    /// Paragraphs after the option list (environment variables, signals, examples).
    public let notes: String

    public init(_ name: String, summary: String, positionals: String = "", options: [OptionSpec], notes: String = "") {
        self.name = name; self.summary = summary; self.positionals = positionals; self.options = options; self.notes = notes
        var seen = Set<String>()
        for option in options + CommandSpec.commonOptions {
            precondition(option.name.hasPrefix("--") || option.name == "-h", "option \(option.name) must start with --")
            precondition(seen.insert(option.name).inserted, "\(name): option \(option.name) is in the table twice")
        }
    }

    /// Options every subcommand takes; the tool handles them before the subcommand runs.
    public static let commonOptions: [OptionSpec] = [
        .flag("--quiet", "print only errors, warnings and the final result (no progress)"),
        .flag("--verbose", "print more detail (configuration, each connection); with --help, also advanced options"),
        .flag("--help", "show this help (also -h)"),
        .flag("-h", "show this help"),
    ]

    func spec(of name: String) -> OptionSpec? {
        options.first { $0.name == name } ?? CommandSpec.commonOptions.first { $0.name == name }
    }

    /// The help text: usage line, summary, each option with its description and default.
    public func help(tool: String, advanced: Bool = false) -> String {
        let required = options.filter(\.isRequired).map(\.synopsis).joined(separator: " ")
        var usage = "usage: \(tool) \(name)"
        for part in [positionals, required, "[options]"] where !part.isEmpty { usage += " " + part }
        var text = usage + "\n\n" + summary + "\n"
        if !positionals.isEmpty || !options.isEmpty { text += "\noptions:\n" }
        let shown = options.filter { advanced || !$0.isAdvanced } + [
            OptionSpec.flag("-h, --help", "show this help (with --verbose: advanced options too)"),
            CommandSpec.commonOptions[0], CommandSpec.commonOptions[1],
        ]
        let width = min(30, shown.map(\.synopsis.count).max() ?? 0)
        for option in shown {
            var line = "  " + option.synopsis + String(repeating: " ", count: max(0, width - option.synopsis.count))
            line += "  " + option.help
            if option.isRequired { line += " (required)" }
            if let value = option.defaultValue { line += " (default: \(value))" }
            text += line + "\n"
        }
        let hidden = options.filter(\.isAdvanced).count
        if !advanced && hidden > 0 { text += "  (\(hidden) advanced option\(hidden == 1 ? "" : "s"): \(tool) \(name) --help --verbose)\n" }
        if !notes.isEmpty { text += "\n" + notes + "\n" }
        return text
    }
}

/// The arguments of one subcommand, checked against its table when created (unknown options,
/// missing values, repeats) and read by name afterwards.
///
///     var arguments = try CommandArguments(Array(CommandLine.arguments.dropFirst(2)), spec: RunCommand.spec)
///     let weights = try arguments.option("--weights")
///     let threads = try arguments.int("--threads", range: 1...256)   // default from the table
///     try arguments.finish()      // a positional left over is an error
public struct CommandArguments {
    public let spec: CommandSpec
    private var given: [String: String] = [:]
    private var positionals: [String] = []

    public init(_ items: [String], spec: CommandSpec) throws {
        self.spec = spec
        var index = 0
        var onlyPositionals = false
        while index < items.count {
            let item = items[index]
            index += 1
            if onlyPositionals || !item.hasPrefix("-") || item == "-" || Double(item) != nil {
                positionals.append(item)
                continue
            }
            if item == "--" { onlyPositionals = true; continue }
            let equals = item.firstIndex(of: "=")
            let name = equals.map { String(item[..<$0]) } ?? item
            guard let option = spec.spec(of: name) else {
                var message = "unknown option \(name)"
                if let guess = closestMatch(to: name, among: (spec.options + CommandSpec.commonOptions).map(\.name)) {
                    message += "; did you mean \(guess)?"
                }
                throw UsageError(message)
            }
            guard given[option.name] == nil else { throw UsageError("\(option.name) is given more than once") }
            if option.valueName == nil {
                if equals != nil { throw UsageError("\(option.name) takes no value") }
                given[option.name] = ""
            } else if let equals {
                given[option.name] = String(item[item.index(after: equals)...])
            } else {
                guard index < items.count, !items[index].hasPrefix("--") else {
                    throw UsageError("\(option.name) needs a value (\(option.synopsis))")
                }
                given[option.name] = items[index]
                index += 1
            }
        }
    }

    private func known(_ name: String) -> OptionSpec {
        guard let option = spec.spec(of: name) else {
            preconditionFailure("\(spec.name) reads \(name), which is not in its option table")
        }
        return option
    }

    /// The value of `--name VALUE` or `--name=VALUE`, or nil when absent (the table's default is not used).
    public func option(_ name: String) throws -> String? {
        precondition(known(name).valueName != nil, "\(name) is a flag in the table")
        return given[name]
    }

    /// The value given, or the table's default.
    public func value(_ name: String) -> String {
        guard let value = given[name] ?? known(name).defaultValue else {
            preconditionFailure("\(name) has no default in \(spec.name)'s table")
        }
        return value
    }

    /// The value of a required option.
    public func required(_ name: String) throws -> String {
        guard let value = try option(name) else { throw UsageError("missing \(known(name).synopsis)") }
        return value
    }

    /// An integer option within `range`; absent, `fallback` or else the table's default.
    public func int(_ name: String, default fallback: Int? = nil, range: ClosedRange<Int> = 0...Int.max) throws -> Int {
        guard let text = try option(name) else {
            if let fallback { return fallback }
            guard let value = Int(value(name)) else { preconditionFailure("\(name): the table's default is not an integer") }
            return value
        }
        guard let value = Int(text), range.contains(value) else {
            let bound = range.upperBound == Int.max ? "at least \(range.lowerBound)" : "in \(range.lowerBound)...\(range.upperBound)"
            throw UsageError("\(name) must be an integer \(bound), got \"\(text)\"")
        }
        return value
    }

    /// A finite floating-point option; absent, `fallback` or else the table's default.
    public func double(_ name: String, default fallback: Double? = nil) throws -> Double {
        guard let text = try option(name) else {
            if let fallback { return fallback }
            guard let value = Double(value(name)) else { preconditionFailure("\(name): the table's default is not a number") }
            return value
        }
        guard let value = Double(text), value.isFinite else {
            throw UsageError("\(name) must be a number, got \"\(text)\"")
        }
        return value
    }

    /// True when `--name` is present.
    public func flag(_ name: String) -> Bool {
        precondition(known(name).valueName == nil, "\(name) takes a value in the table")
        return given[name] != nil
    }

    /// The next positional argument, or nil.
    public mutating func positional() -> String? {
        positionals.isEmpty ? nil : positionals.removeFirst()
    }

    /// Fails if a positional argument was not read.
    public func finish() throws {
        if let extra = positionals.first {
            throw UsageError("unexpected argument \"\(extra)\"")
        }
    }

    /// The verbosity `--quiet` / `--verbose` ask for.
    public var verbosity: Verbosity {
        if given["--quiet"] != nil { return .quiet }
        return given["--verbose"] != nil ? .verbose : .normal
    }

    /// True for `-h` or `--help` (the tool prints the help instead of running the command).
    public var wantsHelp: Bool { given["--help"] != nil || given["-h"] != nil }
}

/// The candidate nearest to `text` by edit distance, if near enough to be a likely typo.
public func closestMatch(to text: String, among candidates: [String]) -> String? {
    let scored = candidates.map { ($0, editDistance(text, $0)) }
    guard let best = scored.min(by: { $0.1 < $1.1 }) else { return nil }
    return best.1 <= max(2, text.count / 3) ? best.0 : nil
}

/// Levenshtein distance, with a transposition of neighbours counting once (`--archvie`).
public func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a), b = Array(b)
    guard !a.isEmpty else { return b.count }
    guard !b.isEmpty else { return a.count }
    var table = [[Int]](repeating: [Int](repeating: 0, count: b.count + 1), count: a.count + 1)
    for i in 0...a.count { table[i][0] = i }
    for j in 0...b.count { table[0][j] = j }
    for i in 1...a.count {
        for j in 1...b.count {
            let cost = a[i - 1] == b[j - 1] ? 0 : 1
            var best = min(table[i - 1][j] + 1, table[i][j - 1] + 1, table[i - 1][j - 1] + cost)
            if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] { best = min(best, table[i - 2][j - 2] + 1) }
            table[i][j] = best
        }
    }
    return table[a.count][b.count]
}
