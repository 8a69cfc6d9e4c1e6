// Reads safetensors files: an 8-byte little-endian header length, a JSON header naming every
// tensor (dtype, shape, data_offsets) plus an optional `__metadata__` string map, then the data.
// Files are memory-mapped (nothing is copied until a tensor is asked for); the same parser reads
// bytes that came over the wire. Every bound is checked and bad input is a typed error that
// names the tensor.
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Element types of safetensors (the ones the project writes and reads, plus common ones).
public enum SafeTensorsDType: String, Sendable, CaseIterable {
    case f64 = "F64", f32 = "F32", f16 = "F16", bf16 = "BF16"
    case i64 = "I64", i32 = "I32", i16 = "I16", i8 = "I8"
    case u64 = "U64", u32 = "U32", u16 = "U16", u8 = "U8", bool = "BOOL"

    public var byteCount: Int {
        switch self {
        case .f64, .i64, .u64: return 8
        case .f32, .i32, .u32: return 4
        case .f16, .bf16, .i16, .u16: return 2
        case .i8, .u8, .bool: return 1
        }
    }
}

/// Why a safetensors file could not be read. Each case names the file part or tensor at fault.
public enum SafeTensorsError: Error, Equatable, CustomStringConvertible {
    case cannotOpen(path: String, reason: String)
    /// The bytes are another format (the header JSON must start right after the length).
    case notSafeTensors(path: String?, looksLike: String)
    case tooSmall(byteCount: Int)
    case headerLengthOutOfRange(headerLength: UInt64, available: Int)
    case headerTooLarge(headerLength: UInt64, limit: Int)
    case headerNotJSON(reason: String)
    case badMetadata(reason: String)
    case badEntry(tensor: String, reason: String)
    case unknownDType(tensor: String, dtype: String)
    case dataOutOfRange(tensor: String, end: Int, dataByteCount: Int)
    case sizeMismatch(tensor: String, expectedBytes: Int, gotBytes: Int)
    case overlap(tensor: String, other: String)
    case missingTensor(String)
    case wrongDType(tensor: String, expected: SafeTensorsDType, got: SafeTensorsDType)

    public var description: String {
        switch self {
        case let .cannotOpen(path, reason): return "cannot open \(path): \(reason)"
        case let .notSafeTensors(path, looksLike):
            return (path.map { "\($0) is" } ?? "the weights are") + " not a safetensors file (\(looksLike)); weights must be safetensors: 8 bytes giving the size of a JSON header, the header, then the tensors"
        case let .tooSmall(n): return "safetensors data is \(n) bytes, smaller than the 8-byte header length"
        case let .headerLengthOutOfRange(length, available):
            return "safetensors header length \(length) goes beyond the \(available) bytes that follow it"
        case let .headerTooLarge(length, limit): return "safetensors header length \(length) exceeds the limit of \(limit) bytes"
        case let .headerNotJSON(reason): return "safetensors header is not a JSON object: \(reason)"
        case let .badMetadata(reason): return "safetensors __metadata__ is invalid: \(reason)"
        case let .badEntry(tensor, reason): return "\(tensor): invalid header entry: \(reason)"
        case let .unknownDType(tensor, dtype): return "\(tensor): unknown dtype \"\(dtype)\""
        case let .dataOutOfRange(tensor, end, count):
            return "\(tensor): data ends at byte \(end), beyond the \(count) data bytes of the file"
        case let .sizeMismatch(tensor, expected, got):
            return "\(tensor): dtype and shape need \(expected) bytes, data_offsets give \(got)"
        case let .overlap(tensor, other): return "\(tensor): data overlaps tensor \(other)"
        case let .missingTensor(name): return "\(name): tensor missing"
        case let .wrongDType(tensor, expected, got): return "\(tensor): expected dtype \(expected.rawValue), got \(got.rawValue)"
        }
    }
}

/// One tensor's entry in the header.
public struct SafeTensorInfo: Equatable, Sendable {
    public let name: String
    public let dtype: SafeTensorsDType
    public let shape: [Int]
    /// Byte range relative to the start of the data section.
    public let dataRange: Range<Int>
    public var elementCount: Int { shape.reduce(1, *) }
}

/// A parsed safetensors file whose bytes stay mapped (or held) while the value lives.
public final class SafeTensorsFile: @unchecked Sendable {
    /// Headers larger than this are refused before anything is allocated for them.
    public static let headerBytesMax = 100 * 1024 * 1024

    /// The `__metadata__` map (empty when absent).
    public let metadata: [String: String]
    /// Tensors in the order of their data.
    public let tensors: [SafeTensorInfo]
    private let index: [String: Int]

    // The whole file (mapped or owned); immutable after init, hence safe to share.
    private let base: UnsafeRawPointer
    private let byteCount: Int
    private let dataStart: Int
    private let release: () -> Void

    /// Maps the file at `path` read-only.
    public convenience init(contentsOfFile path: String) throws {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw SafeTensorsError.cannotOpen(path: path, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw SafeTensorsError.cannotOpen(path: path, reason: String(cString: strerror(errno))) }
        guard (info.st_mode & S_IFMT) == S_IFREG else { throw SafeTensorsError.cannotOpen(path: path, reason: "not a regular file") }
        let size = Int(info.st_size)
        if size == 0 { throw SafeTensorsError.tooSmall(byteCount: 0) }
        // Another format is named with its path here (parse() sees only bytes).
        var head = [UInt8](repeating: 0, count: 16)
        let headCount = head.withUnsafeMutableBytes { pread(fd, $0.baseAddress, 16, 0) }
        if headCount > 8, head.withUnsafeBytes({ Self.isOtherFormat(UnsafeRawBufferPointer(rebasing: $0[..<headCount]), byteCount: size) }) {
            throw SafeTensorsError.notSafeTensors(path: path, looksLike: head.withUnsafeBytes { Self.formatGuess(UnsafeRawBufferPointer(rebasing: $0[..<headCount])) })
        }
        guard let mapped = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), mapped != MAP_FAILED else {
            throw SafeTensorsError.cannotOpen(path: path, reason: "mmap failed: " + String(cString: strerror(errno)))
        }
        try self.init(base: UnsafeRawPointer(mapped), byteCount: size, release: { munmap(mapped, size) })
    }

    /// Parses bytes held in memory (e.g. weights received from the coordinator); copies them once.
    public convenience init(bytes: [UInt8]) throws {
        let storage = UnsafeMutableRawPointer.allocate(byteCount: max(bytes.count, 1), alignment: 64)
        bytes.withUnsafeBytes { raw in
            if let source = raw.baseAddress { storage.copyMemory(from: source, byteCount: raw.count) }
        }
        try self.init(base: UnsafeRawPointer(storage), byteCount: bytes.count, release: { storage.deallocate() })
    }

    /// Parses bytes without copying them: only valid while `buffer` stays alive and unchanged
    /// (use inside `withUnsafeBytes`, and do not let the value escape).
    public convenience init(unsafeBorrowing buffer: UnsafeRawBufferPointer) throws {
        guard let base = buffer.baseAddress else { throw SafeTensorsError.tooSmall(byteCount: 0) }
        try self.init(base: base, byteCount: buffer.count, release: {})
    }

    private init(base: UnsafeRawPointer, byteCount: Int, release: @escaping () -> Void) throws {
        let header: Header
        do {
            header = try SafeTensorsFile.parse(base: base, byteCount: byteCount)
        } catch {
            release()
            throw error
        }
        self.metadata = header.metadata
        self.tensors = header.tensors
        self.dataStart = header.dataStart
        self.base = base
        self.byteCount = byteCount
        self.release = release
        var index: [String: Int] = [:]
        for (i, tensor) in header.tensors.enumerated() { index[tensor.name] = i }
        self.index = index
    }

    deinit { release() }

    public var names: [String] { tensors.map(\.name) }

    public func info(_ name: String) throws -> SafeTensorInfo {
        guard let i = index[name] else { throw SafeTensorsError.missingTensor(name) }
        return tensors[i]
    }

    public func contains(_ name: String) -> Bool { index[name] != nil }

    /// The raw bytes of a tensor, valid while `self` lives. Not necessarily aligned.
    public func withRawBytes<R>(of name: String, _ body: (UnsafeRawBufferPointer) throws -> R) throws -> R {
        let tensor = try info(name)
        return try body(UnsafeRawBufferPointer(start: base + dataStart + tensor.dataRange.lowerBound, count: tensor.dataRange.count))
    }

    /// A tensor's elements copied into an array, after checking its dtype.
    public func array<T: BitwiseCopyable>(_ name: String, as type: T.Type, dtype: SafeTensorsDType) throws -> [T] {
        let tensor = try info(name)
        guard tensor.dtype == dtype else { throw SafeTensorsError.wrongDType(tensor: name, expected: dtype, got: tensor.dtype) }
        precondition(MemoryLayout<T>.stride == dtype.byteCount)
        return try withRawBytes(of: name) { raw in
            [T](unsafeUninitializedCapacity: tensor.elementCount) { buffer, count in
                if tensor.elementCount > 0 {
                    UnsafeMutableRawPointer(buffer.baseAddress!).copyMemory(from: raw.baseAddress!, byteCount: raw.count)
                }
                count = tensor.elementCount
            }
        }
    }

    public func floats(_ name: String) throws -> [Float] { try array(name, as: Float.self, dtype: .f32) }
    public func int32s(_ name: String) throws -> [Int32] { try array(name, as: Int32.self, dtype: .i32) }
    public func int64s(_ name: String) throws -> [Int64] { try array(name, as: Int64.self, dtype: .i64) }
    public func doubles(_ name: String) throws -> [Double] { try array(name, as: Double.self, dtype: .f64) }
    public func uint8s(_ name: String) throws -> [UInt8] { try array(name, as: UInt8.self, dtype: .u8) }

    // MARK: - Header parsing

    private struct Header {
        var metadata: [String: String]
        var tensors: [SafeTensorInfo]
        var dataStart: Int
    }

    private static func parse(base: UnsafeRawPointer, byteCount: Int) throws -> Header {
        guard byteCount >= 8 else { throw SafeTensorsError.tooSmall(byteCount: byteCount) }
        let headerLength = UInt64(littleEndian: base.loadUnaligned(as: UInt64.self))
        if isOtherFormat(UnsafeRawBufferPointer(start: base, count: min(byteCount, 16)), byteCount: byteCount) {
            throw SafeTensorsError.notSafeTensors(path: nil, looksLike: formatGuess(UnsafeRawBufferPointer(start: base, count: min(byteCount, 16))))
        }
        guard headerLength <= UInt64(headerBytesMax) else {
            throw SafeTensorsError.headerTooLarge(headerLength: headerLength, limit: headerBytesMax)
        }
        guard headerLength <= UInt64(byteCount - 8) else {
            throw SafeTensorsError.headerLengthOutOfRange(headerLength: headerLength, available: byteCount - 8)
        }
        let dataStart = 8 + Int(headerLength)
        let dataByteCount = byteCount - dataStart
        let json = Data(bytes: base + 8, count: Int(headerLength))
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: json, options: [])
        } catch {
            throw SafeTensorsError.headerNotJSON(reason: "\(error.localizedDescription)")
        }
        guard let root = object as? [String: Any] else { throw SafeTensorsError.headerNotJSON(reason: "top level is not an object") }

        var metadata: [String: String] = [:]
        if let raw = root["__metadata__"] {
            guard let map = raw as? [String: Any] else { throw SafeTensorsError.badMetadata(reason: "not an object") }
            for (key, value) in map {
                guard let text = value as? String else { throw SafeTensorsError.badMetadata(reason: "value of \"\(key)\" is not a string") }
                metadata[key] = text
            }
        }
        // Entries are checked in name order, then ranges in data order, so the tensor an error
        // names does not depend on dictionary order.
        var entries: [(name: String, dtype: SafeTensorsDType, shape: [Int], begin: Int, end: Int, expected: Int)] = []
        for name in root.keys.sorted() where name != "__metadata__" {
            guard let entry = root[name] as? [String: Any] else { throw SafeTensorsError.badEntry(tensor: name, reason: "not an object") }
            guard let dtypeName = entry["dtype"] as? String else { throw SafeTensorsError.badEntry(tensor: name, reason: "no dtype string") }
            guard let dtype = SafeTensorsDType(rawValue: dtypeName) else { throw SafeTensorsError.unknownDType(tensor: name, dtype: dtypeName) }
            guard let shape = integers(entry["shape"]), shape.allSatisfy({ $0 >= 0 }) else {
                throw SafeTensorsError.badEntry(tensor: name, reason: "shape is not a list of non-negative integers")
            }
            guard let offsets = integers(entry["data_offsets"]), offsets.count == 2, offsets[0] >= 0, offsets[1] >= offsets[0] else {
                throw SafeTensorsError.badEntry(tensor: name, reason: "data_offsets is not [begin, end] with 0 <= begin <= end")
            }
            var elements = 1
            for dimension in shape {
                let (product, overflow) = elements.multipliedReportingOverflow(by: dimension)
                guard !overflow else { throw SafeTensorsError.badEntry(tensor: name, reason: "shape \(shape) overflows") }
                elements = product
            }
            let (expected, overflow) = elements.multipliedReportingOverflow(by: dtype.byteCount)
            guard !overflow else { throw SafeTensorsError.badEntry(tensor: name, reason: "shape \(shape) overflows") }
            entries.append((name, dtype, shape, offsets[0], offsets[1], expected))
        }
        entries.sort { ($0.begin, $0.end, $0.name) < ($1.begin, $1.end, $1.name) }
        var tensors: [SafeTensorInfo] = []
        for entry in entries {
            guard entry.end <= dataByteCount else {
                throw SafeTensorsError.dataOutOfRange(tensor: entry.name, end: entry.end, dataByteCount: dataByteCount)
            }
            guard entry.end - entry.begin == entry.expected else {
                throw SafeTensorsError.sizeMismatch(tensor: entry.name, expectedBytes: entry.expected, gotBytes: entry.end - entry.begin)
            }
            tensors.append(SafeTensorInfo(name: entry.name, dtype: entry.dtype, shape: entry.shape, dataRange: entry.begin..<entry.end))
        }
        for i in tensors.indices.dropFirst() {
            let previous = tensors[i - 1], current = tensors[i]
            // Empty tensors occupy nothing and cannot overlap.
            if !current.dataRange.isEmpty && !previous.dataRange.isEmpty && current.dataRange.lowerBound < previous.dataRange.upperBound {
                throw SafeTensorsError.overlap(tensor: current.name, other: previous.name)
            }
        }
        return Header(metadata: metadata, tensors: tensors, dataStart: dataStart)
    }

    /// A header length that cannot be right and no JSON object after it: another format (its
    /// first bytes read as a length only give a meaningless number like 3475222254926655346).
    static func isOtherFormat(_ head: UnsafeRawBufferPointer, byteCount: Int) -> Bool {
        guard head.count > 8 else { return false }
        let length = UInt64(littleEndian: head.loadUnaligned(as: UInt64.self))
        return head[8] != UInt8(ascii: "{") && (length > UInt64(headerBytesMax) || length > UInt64(byteCount - 8))
    }

    /// What a file that is not safetensors probably is, from its first bytes.
    static func formatGuess(_ head: UnsafeRawBufferPointer) -> String {
        let bytes = Array(head)
        func starts(_ prefix: [UInt8], at offset: Int = 0) -> Bool {
            bytes.count >= offset + prefix.count && Array(bytes[offset..<offset + prefix.count]) == prefix
        }
        if starts([0x50, 0x4B, 0x03, 0x04]) { return "it is a zip archive, as PyTorch's torch.save writes .pt/.pth files" }
        if starts([0x80]) && bytes.count > 1 && (2...5).contains(bytes[1]) { return "it is a Python pickle, as older PyTorch checkpoints are" }
        if starts(Array("GGUF".utf8)) { return "it is a GGUF file" }
        if starts([0x89] + Array("HDF".utf8)) { return "it is an HDF5 file, as Keras .h5 weights are" }
        if starts(Array("TFL3".utf8), at: 4) { return "it is a TensorFlow Lite model" }
        if starts(Array("ONNX".utf8)) || starts([0x08]) { return "it may be an ONNX or other protobuf model" }
        if let first = bytes.first(where: { $0 != 0x20 && $0 != 0x0A && $0 != 0x0D && $0 != 0x09 }), first == UInt8(ascii: "{") || first == UInt8(ascii: "[") {
            return "it is JSON or text, not the binary safetensors layout"
        }
        return "it starts with the bytes " + bytes.prefix(8).map { String(format: "%02x", $0) }.joined(separator: " ")
    }

    private static func integers(_ value: Any?) -> [Int]? {
        guard let list = value as? [Any] else { return nil }
        var result: [Int] = []
        for item in list {
            guard let number = item as? NSNumber else { return nil }
            let double = number.doubleValue
            guard double == double.rounded(), abs(double) < 9.0e15 else { return nil }
            result.append(number.intValue)
        }
        return result
    }
}
