// Terminal output: errors to stderr, and a progress line that rewrites itself on a terminal.
// `--quiet` silences progress and notes; `--verbose` adds details. Errors and warnings always show.
#if canImport(Glibc)
import Glibc
#endif

/// How much a command prints on standard error.
public enum Verbosity: Int, Sendable, Comparable {
    case quiet, normal, verbose
    public static func < (a: Verbosity, b: Verbosity) -> Bool { a.rawValue < b.rawValue }
}

public enum FileHandleOutput {
    /// Set once by the tool's entry point, before any thread starts; read everywhere after.
    nonisolated(unsafe) public static var verbosity = Verbosity.normal

    /// One line to standard error: errors and warnings, shown at every verbosity.
    public static func error(_ line: String) {
        writeStandardError(line + "\n")
    }

    /// An informational line (what is happening), silenced by `--quiet`.
    public static func note(_ line: String) {
        if verbosity >= .normal { writeStandardError(line + "\n") }
    }

    /// A detail shown only with `--verbose`.
    public static func detail(_ line: String) {
        if verbosity >= .verbose { writeStandardError(line + "\n") }
    }

    /// A progress line: rewritten in place on a terminal, one line each call otherwise; silenced by `--quiet`.
    public static func progress(_ line: String) {
        guard verbosity >= .normal else { return }
        writeStandardError(isatty(2) != 0 ? "\r\u{1B}[K" + line : line + "\n")
    }

    /// Ends a progress line on a terminal.
    public static func endProgress() {
        if verbosity >= .normal && isatty(2) != 0 { writeStandardError("\n") }
    }

    private static func writeStandardError(_ text: String) {
        var bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeMutableBytes { write(2, $0.baseAddress! + offset, $0.count - offset) }
            if n <= 0 { if n < 0 && errno == EINTR { continue }; return }
            offset += n
        }
    }
}
