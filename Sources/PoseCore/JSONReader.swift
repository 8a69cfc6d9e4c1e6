// A pull parser for JSON input files (detections, PoseTrack files): the caller walks the document
// and keeps only what it needs, so reading a file costs the file plus the values kept, not a tree
// of boxed objects. Errors say where: line and column, and the key path when the caller gives it.
// Nesting is bounded (`depthMax`) and walked without recursion; numbers must be JSON numbers
// (no NaN or Infinity) that fit a 64-bit float.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Bad JSON, or a value of the wrong kind: where it is and what was expected.
public struct JSONError: Error, CustomStringConvertible, Equatable, Sendable {
    /// 1-based line and column (the column counts bytes); 0 when unknown.
    public let line: Int
    public let column: Int
    /// The key path of the value, like `[12].bbox[2]`, or "" when unknown.
    public let path: String
    public let reason: String
    public init(line: Int, column: Int, path: String = "", reason: String) {
        self.line = line; self.column = column; self.path = path; self.reason = reason
    }
    public var description: String {
        let place = line > 0 ? "line \(line), column \(column)" + (path.isEmpty ? "" : " (\(path))") : path
        return place.isEmpty ? reason : place + ": " + reason
    }
}

/// A JSON number as written, with its value as a Double.
public struct JSONNumber: Equatable, Sendable {
    public let text: String
    public let value: Double
    /// The value when the text is a whole number that fits an Int exactly, else nil.
    public var integer: Int? {
        if let exact = Int(text) { return exact }
        guard value == value.rounded(), abs(value) < 9_007_199_254_740_992 else { return nil }
        return Int(value)
    }
}

public struct JSONReader {
    /// Deepest nesting of arrays and objects accepted.
    public static let depthMax = 64
    /// Longest string accepted, in bytes.
    public static let stringBytesMax = 1 << 20

    public enum Kind: Equatable, Sendable { case object, array, string, number, bool, null }

    private let bytes: UnsafeBufferPointer<UInt8>
    /// Offset of the next byte to read.
    public private(set) var offset = 0
    /// Refuse whole numbers (no fraction or exponent) that do not fit an Int: for documents decoded
    /// by Foundation, which reports them as "not valid JSON" with no position.
    public var wholeNumbersMustFit = false
    /// The containers open, innermost last: a list or an object, and whether it has had an
    /// element yet (so the next one needs a comma).
    private var open: [(isArray: Bool, hasElement: Bool)] = []

    /// Reads `bytes`, which must outlive the reader (use inside `withUnsafeBytes`).
    public init(_ bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
        if bytes.count >= 3, bytes[0] == 0xEF, bytes[1] == 0xBB, bytes[2] == 0xBF { offset = 3 }   // UTF-8 byte order mark
    }

    // MARK: Positions and errors

    /// Line and column of byte `offset` of `bytes` (counted on demand: errors are rare).
    public static func position(of offset: Int, in bytes: UnsafeBufferPointer<UInt8>) -> (line: Int, column: Int) {
        let end = min(offset, bytes.count)
        var line = 1, lineStart = 0
        for i in 0..<end where bytes[i] == UInt8(ascii: "\n") { line += 1; lineStart = i + 1 }
        return (line, end - lineStart + 1)
    }

    /// An error at byte `offset` of `bytes`.
    public static func error(_ reason: String, path: String = "", at offset: Int, in bytes: UnsafeBufferPointer<UInt8>) -> JSONError {
        let (line, column) = position(of: offset, in: bytes)
        return JSONError(line: line, column: column, path: path, reason: reason)
    }

    /// An error at the reader's offset (or `at`), with the caller's key path.
    public func error(_ reason: String, path: String = "", at: Int? = nil) -> JSONError {
        Self.error(reason, path: path, at: at ?? offset, in: bytes)
    }

    private mutating func skipWhitespace() {
        while offset < bytes.count {
            switch bytes[offset] {
            case 0x20, 0x0A, 0x0D, 0x09: offset += 1
            default: return
            }
        }
    }

    private func describeHere() -> String {
        guard offset < bytes.count else { return "the end of the file" }
        let byte = bytes[offset]
        if byte >= 0x21 && byte < 0x7F { return "'\(Character(Unicode.Scalar(byte)))'" }
        return "byte 0x" + String(byte, radix: 16)
    }

    // MARK: What comes next

    /// The kind of the next value (after whitespace), or an error if none can start here.
    public mutating func peek(path: String = "") throws -> Kind {
        skipWhitespace()
        guard offset < bytes.count else { throw error("unexpected end of the file, expected a value", path: path) }
        switch bytes[offset] {
        case UInt8(ascii: "{"): return .object
        case UInt8(ascii: "["): return .array
        case UInt8(ascii: "\""): return .string
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number
        case UInt8(ascii: "t"), UInt8(ascii: "f"): return .bool
        case UInt8(ascii: "n"): return .null
        case UInt8(ascii: "N"), UInt8(ascii: "I"):
            throw error("NaN and Infinity are not JSON numbers (Python writes them unless json.dump(..., allow_nan=False))", path: path)
        default: throw error("expected a value, found \(describeHere())", path: path)
        }
    }

    // MARK: Containers

    /// Consumes `[`.
    public mutating func beginArray(path: String = "") throws {
        try begin(UInt8(ascii: "["), what: "a list", path: path)
    }

    /// Consumes `{`.
    public mutating func beginObject(path: String = "") throws {
        try begin(UInt8(ascii: "{"), what: "an object", path: path)
    }

    private mutating func begin(_ opening: UInt8, what: String, path: String) throws {
        let kind = try peek(path: path)
        guard bytes[offset] == opening else { throw error("expected \(what), found \(Self.name(kind))", path: path) }
        guard open.count < Self.depthMax else {
            throw error("nested deeper than \(Self.depthMax) levels (JSONReader.depthMax)", path: path)
        }
        offset += 1
        open.append((isArray: opening == UInt8(ascii: "["), hasElement: false))
    }

    /// After `beginArray` or an element: true when another element follows (its value is next),
    /// false when `]` ended the array (consumed).
    public mutating func nextElement(path: String = "") throws -> Bool {
        try next(close: UInt8(ascii: "]"), path: path)
    }

    /// After `beginObject` or a member's value: the next key (its value is next), or nil when `}`
    /// ended the object (consumed).
    public mutating func nextKey(path: String = "") throws -> String? {
        guard try next(close: UInt8(ascii: "}"), path: path) else { return nil }
        guard try peek(path: path) == .string else { throw error("expected a key in quotes, found \(describeHere())", path: path) }
        let key = try readString(path: path)
        skipWhitespace()
        guard offset < bytes.count, bytes[offset] == UInt8(ascii: ":") else {
            throw error("expected ':' after the key \"\(key)\", found \(describeHere())", path: path)
        }
        offset += 1
        return key
    }

    private mutating func next(close: UInt8, path: String) throws -> Bool {
        precondition(!open.isEmpty && open[open.count - 1].isArray == (close == UInt8(ascii: "]")), "JSONReader: next element outside its container")
        skipWhitespace()
        guard offset < bytes.count else { throw error("unexpected end of the file inside \(close == UInt8(ascii: "]") ? "a list" : "an object")", path: path) }
        if bytes[offset] == close {
            offset += 1
            open.removeLast()
            return false
        }
        if open[open.count - 1].hasElement {
            guard bytes[offset] == UInt8(ascii: ",") else {
                throw error("expected ',' or '\(Character(Unicode.Scalar(close)))', found \(describeHere())", path: path)
            }
            offset += 1
            skipWhitespace()
            if offset < bytes.count, bytes[offset] == close { throw error("a trailing comma is not JSON", path: path) }
        }
        open[open.count - 1].hasElement = true
        return true
    }

    // MARK: Scalars

    public mutating func readString(path: String = "") throws -> String {
        let kind = try peek(path: path)
        guard kind == .string else { throw error("expected a string, found \(Self.name(kind))", path: path) }
        let start = offset
        offset += 1
        var result: [UInt8] = []
        while true {
            guard offset < bytes.count else { throw error("a string is not closed", path: path, at: start) }
            let byte = bytes[offset]
            if byte == UInt8(ascii: "\"") { offset += 1; break }
            guard byte >= 0x20 else { throw error("a control character inside a string must be escaped", path: path) }
            guard result.count < Self.stringBytesMax else {
                throw error("a string longer than \(Self.stringBytesMax) bytes (JSONReader.stringBytesMax)", path: path, at: start)
            }
            if byte != UInt8(ascii: "\\") { result.append(byte); offset += 1; continue }
            guard offset + 1 < bytes.count else { throw error("a string is not closed", path: path, at: start) }
            let escape = bytes[offset + 1]
            offset += 2
            switch escape {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): result.append(escape)
            case UInt8(ascii: "b"): result.append(0x08)
            case UInt8(ascii: "f"): result.append(0x0C)
            case UInt8(ascii: "n"): result.append(0x0A)
            case UInt8(ascii: "r"): result.append(0x0D)
            case UInt8(ascii: "t"): result.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = try readHex4(path: path)
                if (0xD800..<0xDC00).contains(scalar), offset + 1 < bytes.count,
                   bytes[offset] == UInt8(ascii: "\\"), bytes[offset + 1] == UInt8(ascii: "u") {
                    offset += 2
                    let low = try readHex4(path: path)
                    guard (0xDC00..<0xE000).contains(low) else { throw error("a \\u escape pairs a high surrogate with no low one", path: path) }
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                }
                let character = Unicode.Scalar(scalar) ?? "\u{FFFD}"
                result.append(contentsOf: Array(String(Character(character)).utf8))
            default: throw error("\\\(Character(Unicode.Scalar(escape))) is not a JSON escape", path: path)
            }
        }
        return String(decoding: result, as: UTF8.self)
    }

    private mutating func readHex4(path: String) throws -> UInt32 {
        guard offset + 4 <= bytes.count else { throw error("a \\u escape needs 4 hex digits", path: path) }
        var value: UInt32 = 0
        for _ in 0..<4 {
            guard let digit = Character(Unicode.Scalar(bytes[offset])).hexDigitValue else {
                throw error("a \\u escape needs 4 hex digits", path: path)
            }
            value = value << 4 | UInt32(digit)
            offset += 1
        }
        return value
    }

    /// Longest number text accepted (digits beyond this carry no information for a Double).
    public static let numberBytesMax = 64

    public mutating func readNumber(path: String = "") throws -> JSONNumber {
        let kind = try peek(path: path)
        guard kind == .number else { throw error("expected a number, found \(Self.name(kind))", path: path) }
        let start = offset
        func digits() -> Int {
            let first = offset
            while offset < bytes.count, bytes[offset] >= UInt8(ascii: "0"), bytes[offset] <= UInt8(ascii: "9") { offset += 1 }
            return offset - first
        }
        if bytes[offset] == UInt8(ascii: "-") { offset += 1 }
        if offset < bytes.count, bytes[offset] == UInt8(ascii: "I") {
            throw error("NaN and Infinity are not JSON numbers (Python writes them unless json.dump(..., allow_nan=False))", path: path, at: start)
        }
        let whole = digits()
        guard whole > 0 else { throw error("a number needs digits after '-'", path: path, at: start) }
        if whole > 1, bytes[start + (bytes[start] == UInt8(ascii: "-") ? 1 : 0)] == UInt8(ascii: "0") {
            throw error("a JSON number has no leading zeros", path: path, at: start)
        }
        if offset < bytes.count, bytes[offset] == UInt8(ascii: ".") {
            offset += 1
            guard digits() > 0 else { throw error("a number needs digits after '.'", path: path, at: start) }
        }
        if offset < bytes.count, bytes[offset] == UInt8(ascii: "e") || bytes[offset] == UInt8(ascii: "E") {
            offset += 1
            if offset < bytes.count, bytes[offset] == UInt8(ascii: "+") || bytes[offset] == UInt8(ascii: "-") { offset += 1 }
            guard digits() > 0 else { throw error("a number needs digits in its exponent", path: path, at: start) }
        }
        guard offset - start <= Self.numberBytesMax else {
            throw error("a number longer than \(Self.numberBytesMax) characters (JSONReader.numberBytesMax)", path: path, at: start)
        }
        let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<offset]), as: UTF8.self)
        guard let value = Double(text), value.isFinite else {
            throw error("the number \(text) is too large for a 64-bit float", path: path, at: start)
        }
        if wholeNumbersMustFit, !text.contains(where: { $0 == "." || $0 == "e" || $0 == "E" }), Int(text) == nil {
            throw error("the whole number \(text) does not fit 64 bits", path: path, at: start)
        }
        return JSONNumber(text: text, value: value)
    }

    public mutating func readBool(path: String = "") throws -> Bool {
        let kind = try peek(path: path)
        guard kind == .bool else { throw error("expected true or false, found \(Self.name(kind))", path: path) }
        if try literal("true") { return true }
        if try literal("false") { return false }
        throw error("expected true or false, found \(describeHere())", path: path)
    }

    /// Consumes `null` if it is next; false (nothing consumed) otherwise.
    public mutating func readNull(path: String = "") throws -> Bool {
        guard try peek(path: path) == .null else { return false }
        guard try literal("null") else { throw error("expected null, found \(describeHere())", path: path) }
        return true
    }

    private mutating func literal(_ word: StaticString) throws -> Bool {
        let count = word.utf8CodeUnitCount
        guard offset + count <= bytes.count else { return false }
        for i in 0..<count where bytes[offset + i] != word.utf8Start[i] { return false }
        offset += count
        return true
    }

    /// Skips one value of any kind, however nested (within `depthMax`), without recursion.
    public mutating func skipValue(path: String = "") throws {
        let startDepth = open.count
        repeat {
            if open.count > startDepth {
                // Inside a container this call opened: step to its next element or member.
                if open[open.count - 1].isArray {
                    if try !nextElement(path: path) { continue }
                } else {
                    if try nextKey(path: path) == nil { continue }
                }
            }
            switch try peek(path: path) {
            case .object: try beginObject(path: path)
            case .array: try beginArray(path: path)
            case .string: _ = try readString(path: path)
            case .number: _ = try readNumber(path: path)
            case .bool: _ = try readBool(path: path)
            case .null: _ = try readNull(path: path)
            }
        } while open.count > startDepth
    }

    /// After the top-level value: only whitespace may follow.
    public mutating func finish() throws {
        skipWhitespace()
        guard offset == bytes.count else { throw error("unexpected \(describeHere()) after the end of the JSON value") }
    }

    /// Checks that `bytes` hold one JSON value within the limits (syntax only).
    public static func validate(_ bytes: UnsafeBufferPointer<UInt8>, wholeNumbersMustFit: Bool = false) throws {
        var reader = JSONReader(bytes)
        reader.wholeNumbersMustFit = wholeNumbersMustFit
        try reader.skipValue()
        try reader.finish()
    }

    public static func name(_ kind: Kind) -> String {
        switch kind {
        case .object: return "an object"
        case .array: return "a list"
        case .string: return "a string"
        case .number: return "a number"
        case .bool: return "true or false"
        case .null: return "null"
        }
    }
}
