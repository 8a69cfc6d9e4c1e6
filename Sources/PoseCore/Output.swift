// Terminal output: errors to stderr, and a progress line that rewrites itself on a terminal.
#if canImport(Glibc)
import Glibc
#endif

public enum FileHandleOutput {
    /// One line to standard error.
    public static func error(_ line: String) {
        writeStandardError(line + "\n")
    }

    /// A progress line: rewritten in place on a terminal, one line each call otherwise.
    public static func progress(_ line: String) {
        writeStandardError(isatty(2) != 0 ? "\r\u{1B}[K" + line : line + "\n")
    }

    /// Ends a progress line on a terminal.
    public static func endProgress() {
        if isatty(2) != 0 { writeStandardError("\n") }
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
