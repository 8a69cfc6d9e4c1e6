// The coordinator's append-only journal: what it has accepted survives a SIGKILL or a power
// cut. Records are `u32 length (LE) | u32 CRC32C of the payload (LE) | payload`. Only bytes
// after which no valid record follows are a torn tail (the write a crash interrupted): they are
// cut off. Damage followed by valid records is corruption, not a crash: the file is copied aside
// untouched, the damaged bytes are dropped, every record whose checksum verifies is kept, and
// the replay says so. Appends are fsynced in batches, and an append's completion runs only
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

    /// What replay found: the records in order, the bytes of torn tail cut, and any damage in
    /// the middle (byte ranges of the file as it was, and where its untouched copy is).
    public struct Replay {
        public var records: [[UInt8]]
        public var truncatedBytes: Int
        public var damaged: [Range<Int>] = []
        public var damagedCopyPath: String?
        /// Records after the first damaged range (recovered, not lost).
        public var recoveredAfterDamage = 0
        public var damagedBytes: Int { damaged.reduce(0) { $0 + $1.count } }
    }

    /// Opens (creating) the journal at `path`, replays it, cuts any torn tail and, if records
    /// follow damaged bytes, keeps a copy of the file (`path.damaged-N`) and rewrites it without them.
    public static func open(path: String) throws -> (Journal, Replay) {
        var fd = Glibc.open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw FileError(path: path, operation: "open", code: errno) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 { if errno == EINTR { continue }; let code = errno; Glibc.close(fd); throw FileError(path: path, operation: "read", code: code) }
            if n == 0 { break }
            bytes.append(contentsOf: chunk[0..<n])
        }
        let scan = parse(bytes)
        var replay = Replay(records: scan.records.map { Array(bytes[$0]) }, truncatedBytes: bytes.count - scan.end,
                            damaged: scan.damaged)
        if !scan.damaged.isEmpty {
            Glibc.close(fd)
            // Keep the evidence as it was, then write the verified records in order and rename over.
            var copy = path + ".damaged-1"
            var number = 1
            while access(copy, F_OK) == 0 { number += 1; copy = path + ".damaged-\(number)" }
            try AtomicFile.write(bytes, to: copy)
            var clean: [UInt8] = []
            for payload in replay.records { clean += frame(payload) }
            try AtomicFile.write(clean, to: path)
            replay.damagedCopyPath = copy
            replay.recoveredAfterDamage = scan.records.filter { $0.lowerBound > scan.damaged[0].lowerBound }.count
            fd = Glibc.open(path, O_RDWR | O_CLOEXEC)
            guard fd >= 0 else { throw FileError(path: path, operation: "open", code: errno) }
        } else if scan.end < bytes.count {
            guard ftruncate(fd, off_t(scan.end)) == 0 else {
                let code = errno; Glibc.close(fd); throw FileError(path: path, operation: "ftruncate", code: code)
            }
            fsync(fd)
        }
        guard lseek(fd, 0, SEEK_END) >= 0 else {
            let code = errno; Glibc.close(fd); throw FileError(path: path, operation: "lseek", code: code)
        }
        return (Journal(path: path, fd: fd), replay)
    }

    private init(path: String, fd: Int32) { self.path = path; self.fd = fd }

    deinit { if fd >= 0 { Glibc.close(fd) } }

    /// Most bytes after a damaged record searched for the next valid one when the damaged
    /// record's own length field cannot be trusted. A record is a few KiB.
    static let resyncScanBytesMax = 4 << 20

    /// What `parse` found: payload ranges of the valid records in order, damaged byte ranges that
    /// valid records follow, and where the trusted bytes end (the rest is a torn tail).
    struct Scan {
        var records: [Range<Int>] = []
        var damaged: [Range<Int>] = []
        var end = 0
    }

    /// Reads records from the start. At a record that does not verify: if valid records resume
    /// later (`recordsResume`), the bytes in between are damage and reading goes on there;
    /// otherwise what is left is a torn tail.
    static func parse(_ bytes: [UInt8]) -> Scan {
        var scan = Scan()
        var offset = 0
        while offset < bytes.count {
            if let payload = record(in: bytes, at: offset) {
                scan.records.append(payload)
                offset = payload.upperBound
                continue
            }
            // The damaged record's own length, if sane, says where the next one starts.
            var candidates: [Int] = []
            if bytes.count - offset >= headerBytes {
                let length = Int(readLE32(bytes, offset))
                if length <= recordBytesMax { candidates.append(offset + headerBytes + length) }
            }
            let resync = candidates.first { $0 < bytes.count && recordsResume(bytes, from: $0) }
                ?? (offset + 1 ..< min(bytes.count, offset + 1 + resyncScanBytesMax)).first { recordsResume(bytes, from: $0) }
            guard let next = resync else { break }
            scan.damaged.append(offset..<next)
            offset = next
        }
        scan.end = offset
        return scan
    }

    /// The payload range of a valid record at `offset`, or nil.
    private static func record(in bytes: [UInt8], at offset: Int) -> Range<Int>? {
        guard bytes.count - offset >= headerBytes else { return nil }
        let length = Int(readLE32(bytes, offset))
        guard length <= recordBytesMax, bytes.count - offset - headerBytes >= length else { return nil }
        let payload = (offset + headerBytes)..<(offset + headerBytes + length)
        let crc = bytes.withUnsafeBytes { CRC32C.checksum(UnsafeRawBufferPointer(rebasing: $0[payload])) }
        return crc == readLE32(bytes, offset + 4) ? payload : nil
    }

    /// Whether valid records resume at `offset`: two in a row (random bytes pass two checksums in
    /// a row about once in 2^64 tries), or one that ends the file or is followed by an incomplete
    /// last record.
    private static func recordsResume(_ bytes: [UInt8], from start: Int) -> Bool {
        var offset = start
        var count = 0
        while count < 2, let payload = record(in: bytes, at: offset) {
            count += 1
            offset = payload.upperBound
        }
        if count == 2 { return true }
        guard count > 0 else { return false }
        if offset == bytes.count { return true }
        // An incomplete last record: a header cut short, or one announcing more than is left.
        if bytes.count - offset < headerBytes { return true }
        let length = Int(readLE32(bytes, offset))
        return length <= recordBytesMax && bytes.count - offset - headerBytes < length
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
