// A child process (ffmpeg, ffprobe) with its standard output read through a pipe and the
// tail of its standard error kept for error messages. Thin: no parsing here.
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Keeps the last bytes a child wrote to standard error, read on a background queue so the
/// child never blocks on a full pipe.
final class StandardErrorTail: @unchecked Sendable {
    private let lock = NSLock()
    private var bytes: [UInt8] = []
    private let done = DispatchSemaphore(value: 0)

    func start(_ handle: FileHandle) {
        DispatchQueue.global().async { [self] in
            let fd = handle.fileDescriptor
            var chunk = [UInt8](repeating: 0, count: 4096)
            while true {
                let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { break }
                lock.lock()
                bytes.append(contentsOf: chunk[0..<n])
                if bytes.count > MediaLimits.stderrTailBytesMax { bytes.removeFirst(bytes.count - MediaLimits.stderrTailBytesMax) }
                lock.unlock()
            }
            done.signal()
        }
    }

    /// Waits for the child to close its standard error, then returns the last line(s).
    func text() -> String {
        done.wait()
        done.signal()
        lock.lock(); defer { lock.unlock() }
        let text = String(decoding: bytes, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        let lines = text.split(separator: "\n").suffix(3)
        return lines.joined(separator: " | ")
    }
}

/// A running child whose standard output we read.
final class Subprocess {
    let process = Process()
    let output: Pipe
    let input: Pipe?
    let errorTail = StandardErrorTail()
    let program: String
    private var waited = false

    /// Starts `program` (found on PATH) with `arguments`.
    init(program: String, arguments: [String], withInput: Bool = false, pathForErrors: String) throws {
        self.program = program
        output = Pipe()
        input = withInput ? Pipe() : nil
        let errors = Pipe()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [program] + arguments
        process.standardOutput = output
        process.standardError = errors
        process.standardInput = input ?? FileHandle.nullDevice
        do { try process.run() } catch {
            throw MediaError(.subprocessFailed, path: pathForErrors, reason: "cannot start \(program): \(error)")
        }
        errorTail.start(errors.fileHandleForReading)
    }

    /// Reads exactly `count` bytes into `buffer`; returns how many arrived before end of file.
    func readFully(into buffer: UnsafeMutableRawBufferPointer) -> Int {
        let fd = output.fileHandleForReading.fileDescriptor
        var filled = 0
        while filled < buffer.count {
            let n = read(fd, buffer.baseAddress! + filled, buffer.count - filled)
            if n < 0 { if errno == EINTR { continue }; break }
            if n == 0 { break }
            filled += n
        }
        return filled
    }

    /// Reads everything the child writes (for small outputs such as ffprobe's).
    func readAll() -> [UInt8] {
        [UInt8](output.fileHandleForReading.readDataToEndOfFile())
    }

    /// Writes all of `bytes` to the child's standard input; false if the child went away.
    func write(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard let input else { return false }
        let fd = input.fileHandleForWriting.fileDescriptor
        var written = 0
        while written < bytes.count {
            let n = Glibc.write(fd, bytes.baseAddress! + written, bytes.count - written)
            if n < 0 { if errno == EINTR { continue }; return false }
            written += n
        }
        return true
    }

    func closeInput() {
        try? input?.fileHandleForWriting.close()
    }

    /// Waits for the child; returns its exit status (128 + signal when killed).
    @discardableResult
    func wait() -> Int32 {
        if !waited {
            try? output.fileHandleForReading.close()
            process.waitUntilExit()
            waited = true
        }
        return process.terminationReason == .exit ? process.terminationStatus : 128 + process.terminationStatus
    }

    /// Stops the child early (we have what we need, or we gave up).
    func stop() {
        if process.isRunning { process.terminate() }
        wait()
    }

    deinit {
        if !waited { stop() }
    }
}

// SIGPIPE must not kill us when a child (ffmpeg) exits while we still write to it.
let ignoreBrokenPipe: Void = { signal(SIGPIPE, SIG_IGN); return () }()
