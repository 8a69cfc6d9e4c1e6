// A small command-line parser: options `--name value`, flags `--name`, positionals.
// Every unknown option is an error that names it; no package dependency.

/// A mistake in how a command was called. Its description reads like a sentence.
public struct UsageError: Error, CustomStringConvertible, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// The arguments of one subcommand, consumed as they are read.
///
///     var arguments = CommandArguments(Array(CommandLine.arguments.dropFirst(2)))
///     let weights = try arguments.option("--weights")
///     let threads = try arguments.int("--threads", default: 2)
///     try arguments.finish()      // anything left over is an error
public struct CommandArguments {
    private var items: [String]

    public init(_ items: [String]) { self.items = items }

    /// The value of `--name VALUE` or `--name=VALUE`, or nil when absent.
    public mutating func option(_ name: String) throws -> String? {
        for (index, item) in items.enumerated() {
            if item == name {
                guard index + 1 < items.count, !items[index + 1].hasPrefix("--") else {
                    throw UsageError("\(name) needs a value")
                }
                let value = items[index + 1]
                items.removeSubrange(index...index + 1)
                return value
            }
            if item.hasPrefix(name + "=") {
                items.remove(at: index)
                return String(item.dropFirst(name.count + 1))
            }
        }
        return nil
    }

    /// The value of a required option.
    public mutating func required(_ name: String) throws -> String {
        guard let value = try option(name) else { throw UsageError("missing \(name)") }
        return value
    }

    /// An integer option within `range`.
    public mutating func int(_ name: String, default fallback: Int, range: ClosedRange<Int> = 0...Int.max) throws -> Int {
        guard let text = try option(name) else { return fallback }
        guard let value = Int(text), range.contains(value) else {
            throw UsageError("\(name) must be an integer in \(range.lowerBound)...\(range.upperBound), got \"\(text)\"")
        }
        return value
    }

    /// A floating-point option.
    public mutating func double(_ name: String, default fallback: Double) throws -> Double {
        guard let text = try option(name) else { return fallback }
        guard let value = Double(text), value.isFinite else {
            throw UsageError("\(name) must be a number, got \"\(text)\"")
        }
        return value
    }

    /// True when `--name` is present (and consumes it).
    public mutating func flag(_ name: String) -> Bool {
        guard let index = items.firstIndex(of: name) else { return false }
        items.remove(at: index)
        return true
    }

    /// The next positional argument, or nil.
    public mutating func positional() -> String? {
        guard let index = items.firstIndex(where: { !$0.hasPrefix("--") }) else { return nil }
        return items.remove(at: index)
    }

    /// Fails if anything was not consumed.
    public func finish() throws {
        if let extra = items.first {
            throw UsageError(extra.hasPrefix("--") ? "unknown option \(extra)" : "unexpected argument \"\(extra)\"")
        }
    }
}
