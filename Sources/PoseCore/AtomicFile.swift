// Writing a file so that nothing partial is ever left under its name:
// a temporary file in the same folder, fsync, rename, fsync of the folder.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An OS error with the path and the call that failed.
public struct FileError: Error, CustomStringConvertible {
    public let path: String
    public let operation: String
    public let code: Int32
    public init(path: String, operation: String, code: Int32) {
        self.path = path; self.operation = operation; self.code = code
    }
    public var description: String { "\(operation) \(path): \(String(cString: strerror(code)))" }
}

public enum AtomicFile {
    /// Writes `bytes` to `path` atomically: readers see the old file or the whole new one.
    public static func write(_ bytes: [UInt8], to path: String) throws {
        let temporary = path + ".tmp-\(getpid())"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw FileError(path: temporary, operation: "open", code: errno) }
        var written = 0
        while written < bytes.count {
            let n = bytes.withUnsafeBytes { raw in Glibc.write(fd, raw.baseAddress! + written, raw.count - written) }
            if n < 0 {
                if errno == EINTR { continue }
                let code = errno
                close(fd); unlink(temporary)
                throw FileError(path: temporary, operation: "write", code: code)
            }
            written += n
        }
        if fsync(fd) != 0 {
            let code = errno
            close(fd); unlink(temporary)
            throw FileError(path: temporary, operation: "fsync", code: code)
        }
        close(fd)
        guard rename(temporary, path) == 0 else {
            let code = errno
            unlink(temporary)
            throw FileError(path: path, operation: "rename", code: code)
        }
        let directory = path.contains("/") ? String(path[..<path.lastIndex(of: "/")!]) : "."
        let dfd = open(directory.isEmpty ? "/" : directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dfd >= 0 { fsync(dfd); close(dfd) }
    }
}
