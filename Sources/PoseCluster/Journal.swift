// The coordinator's append-only journal: what it has accepted survives a SIGKILL or a power
// cut. Records are `u32 length (LE) | u32 CRC32C of the payload (LE) | payload`. A torn or
// corrupt tail (the write a crash interrupted) ends the replay and is cut off; everything
// before it is trusted. Appends are fsynced in batches, and an append's completion runs only
// after its record is on disk, so nothing counts as done before it is durable.
#if canImport(Glibc)
import Glibc
#endif
import PoseCrypto
import PoseCore

public struct JournalError: Error, CustomStringConvertible {
    public let path: String
    public let reason: String
    public var description: String { "journal \(path): \(reason)" }
}

public final class Journal {
    /// Largest record accepted on replay or append; a unit's result is a few KiB.
    public static let recordBytesMax = 64 * 1024 * 1024
    /// Records waiting for fsync before one is forced.
    public static let syncBatchRecordsMax = 256
    /// Header bytes before each payload.
    static let headerBytes = 8

    public let path: String
    private var fd: Int32
    private var unsynced: [() -> Void] = []
    public private(set) var recordsAppended = 0
    public private(set) var syncs = 0

    /// What replay found: the records in order, and how many bytes of torn tail were cut.
    public struct Replay {
        public var records: [[UInt8]]
        public var truncatedBytes: Int
    }

    /// Opens (creating) the journal at `path`, replays it and cuts any torn tail.
    public static func open(path: String) throws -> (Journal, Replay) {
        let fd = Glibc.open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw FileError(path: path, operation: "open", code: errno) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 { if errno == EINTR { continue }; let code = errno; Glibc.close(fd); throw FileError(path: path, operation: "read", code: code) }
            if n == 0 { break }
            bytes.append(contentsOf: chunk[0..<n])
        }
        let (records, goodBytes) = parse(bytes)
        if goodBytes < bytes.count {
            guard ftruncate(fd, off_t(goodBytes)) == 0 else {
                let code = errno; Glibc.close(fd); throw FileError(path: path, operation: "ftruncate", code: code)
            }
            fsync(fd)
        }
        guard lseek(fd, 0, SEEK_END) >= 0 else {
            let code = errno; Glibc.close(fd); throw FileError(path: path, operation: "lseek", code: code)
        }
        return (Journal(path: path, fd: fd), Replay(records: records, truncatedBytes: bytes.count - goodBytes))
    }

    private init(path: String, fd: Int32) { self.path = path; self.fd = fd }

    deinit { if fd >= 0 { Glibc.close(fd) } }

    /// Valid records from the start and the length of the valid prefix.
    static func parse(_ bytes: [UInt8]) -> (records: [[UInt8]], goodBytes: Int) {
        var records: [[UInt8]] = []
        var offset = 0
        while bytes.count - offset >= headerBytes {
            let length = Int(readLE32(bytes, offset))
            let crc = readLE32(bytes, offset + 4)
            guard length <= recordBytesMax, bytes.count - offset - headerBytes >= length else { break }
            let payload = Array(bytes[(offset + headerBytes)..<(offset + headerBytes + length)])
            guard CRC32C.checksum(payload) == crc else { break }
            records.append(payload)
            offset += headerBytes + length
        }
        return (records, offset)
    }

    static func readLE32(_ bytes: [UInt8], _ offset: Int) -> UInt32 {
        UInt32(bytes[offset]) | UInt32(bytes[offset + 1]) << 8 | UInt32(bytes[offset + 2]) << 16 | UInt32(bytes[offset + 3]) << 24
    }

    static func frame(_ payload: [UInt8]) -> [UInt8] {
        precondition(payload.count <= recordBytesMax, "journal record of \(payload.count) bytes over recordBytesMax")
        var record: [UInt8] = []
        record.reserveCapacity(headerBytes + payload.count)
        for value in [UInt32(payload.count), CRC32C.checksum(payload)] {
            for shift in stride(from: 0, to: 32, by: 8) { record.append(UInt8(truncatingIfNeeded: value >> UInt32(shift))) }
        }
        record.append(contentsOf: payload)
        return record
    }

    /// Writes a record; `durable` runs after the fsync that covers it (at the next `sync()`).
    public func append(_ payload: [UInt8], durable: @escaping () -> Void = {}) throws {
        let record = Journal.frame(payload)
        var written = 0
        while written < record.count {
            let n = record.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + written, $0.count - written) }
            if n < 0 {
                if errno == EINTR { continue }
                throw FileError(path: path, operation: "write", code: errno)
            }
            written += n
        }
        recordsAppended += 1
        unsynced.append(durable)
        if unsynced.count >= Journal.syncBatchRecordsMax { try sync() }
    }

    /// True when some appends wait for their fsync.
    public var hasUnsynced: Bool { !unsynced.isEmpty }

    /// fsyncs, then runs the completions of every record it covers, in append order.
    public func sync() throws {
        guard !unsynced.isEmpty else { return }
        guard fsync(fd) == 0 else { throw FileError(path: path, operation: "fsync", code: errno) }
        syncs += 1
        let done = unsynced
        unsynced.removeAll()
        for completion in done { completion() }
    }

    public func close() {
        try? sync()
        if fd >= 0 { Glibc.close(fd); fd = -1 }
    }
}
