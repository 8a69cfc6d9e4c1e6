// Little-endian fixed-width writing and checked reading of message payloads.
// The reader checks every length against its limit and against the bytes left
// before it allocates, and names the message and field in every error.
import PoseCrypto

/// Appends payload fields. Lengths over their limits throw, so nothing is sent
/// that the peer (with the same limits) would refuse.
struct WireWriter {
    let message: MessageType
    private(set) var bytes: [UInt8] = []

    init(_ message: MessageType, capacity: Int = 64) {
        self.message = message
        bytes.reserveCapacity(capacity)
    }

    mutating func u8(_ value: UInt8) { bytes.append(value) }
    mutating func u16(_ value: UInt16) { withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) } }
    mutating func u32(_ value: UInt32) { withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) } }
    mutating func u64(_ value: UInt64) { withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) } }
    mutating func bool(_ value: Bool) { bytes.append(value ? 1 : 0) }
    mutating func raw(_ value: [UInt8]) { bytes.append(contentsOf: value) }

    /// A count that must fit a u32 and a limit.
    mutating func count(_ value: Int, field: String, max: Int) throws {
        guard value >= 0, value <= max, UInt64(value) <= UInt64(UInt32.max) else {
            throw WireError.limitExceeded(message: message, field: field, value: UInt64(Swift.max(value, 0)), max: UInt64(max))
        }
        u32(UInt32(value))
    }

    /// Exactly `count` bytes (nonces, proofs).
    mutating func fixed(_ value: [UInt8], count: Int, field: String) throws {
        guard value.count == count else {
            throw WireError.invalidField(message: message, field: field, reason: "must be \(count) bytes, got \(value.count)")
        }
        bytes.append(contentsOf: value)
    }

    mutating func string(_ value: String, field: String, max: Int) throws {
        let utf8 = Array(value.utf8)
        try count(utf8.count, field: field, max: max)
        bytes.append(contentsOf: utf8)
    }

    mutating func blob(_ value: [UInt8], field: String, max: Int) throws {
        try count(value.count, field: field, max: max)
        bytes.append(contentsOf: value)
    }

    mutating func digest(_ value: SHA256Digest) { bytes.append(contentsOf: value.bytes) }

    mutating func floats(_ values: [Float]) {
        for value in values { u32(value.bitPattern) }
    }
}

/// Reads payload fields in order; every read is checked against the bytes left.
struct WireReader {
    let message: MessageType
    private let bytes: [UInt8]
    private var offset = 0

    init(_ message: MessageType, _ bytes: [UInt8]) {
        self.message = message
        self.bytes = bytes
    }

    var remaining: Int { bytes.count - offset }

    private mutating func take(_ count: Int, field: String) throws -> Int {
        guard count <= remaining else {
            throw WireError.truncated(message: message, field: field, needed: count, remaining: remaining)
        }
        let start = offset
        offset += count
        return start
    }

    mutating func u8(_ field: String) throws -> UInt8 {
        bytes[try take(1, field: field)]
    }

    mutating func u16(_ field: String) throws -> UInt16 {
        let start = try take(2, field: field)
        return UInt16(bytes[start]) | UInt16(bytes[start + 1]) << 8
    }

    mutating func u32(_ field: String) throws -> UInt32 {
        let start = try take(4, field: field)
        return bytes.withUnsafeBytes { UInt32(littleEndian: $0.loadUnaligned(fromByteOffset: start, as: UInt32.self)) }
    }

    mutating func u64(_ field: String) throws -> UInt64 {
        let start = try take(8, field: field)
        return bytes.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(fromByteOffset: start, as: UInt64.self)) }
    }

    mutating func bool(_ field: String) throws -> Bool {
        switch try u8(field) {
        case 0: return false
        case 1: return true
        case let other: throw WireError.invalidField(message: message, field: field, reason: "a boolean is 0 or 1, got \(other)")
        }
    }

    /// A u32 count in `minimum...max`.
    mutating func count(_ field: String, max: Int, minimum: Int = 0) throws -> Int {
        let value = try u32(field)
        guard UInt64(value) <= UInt64(max) else {
            throw WireError.limitExceeded(message: message, field: field, value: UInt64(value), max: UInt64(max))
        }
        guard Int(value) >= minimum else {
            throw WireError.invalidField(message: message, field: field, reason: "must be at least \(minimum), got \(value)")
        }
        return Int(value)
    }

    mutating func fixed(_ count: Int, field: String) throws -> [UInt8] {
        let start = try take(count, field: field)
        return Array(bytes[start..<start + count])
    }

    mutating func digest(_ field: String) throws -> SHA256Digest {
        SHA256Digest(bytes: try fixed(SHA256Digest.byteCount, field: field))
    }

    mutating func blob(_ field: String, max: Int) throws -> [UInt8] {
        let count = try count(field, max: max)
        return try fixed(count, field: field)
    }

    mutating func string(_ field: String, max: Int) throws -> String {
        let utf8 = try blob(field, max: max)
        guard let string = String(validating: utf8, as: UTF8.self) else {
            throw WireError.invalidField(message: message, field: field, reason: "not valid UTF-8")
        }
        return string
    }

    /// `count` float32 values; the byte count is checked before the array is made.
    mutating func floats(_ count: Int, field: String) throws -> [Float] {
        let start = try take(count * 4, field: field)
        return bytes.withUnsafeBytes { raw in
            (0..<count).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: start + 4 * $0, as: UInt32.self))) }
        }
    }

    func finish() throws {
        if remaining != 0 { throw WireError.trailingBytes(message: message, count: remaining) }
    }
}
