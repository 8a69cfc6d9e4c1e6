// Builds safetensors files: tensors in insertion order, a JSON header with sorted keys padded
// with spaces to a multiple of 8 bytes (so float data is aligned when the file is mapped).
import Foundation

public struct SafeTensorsWriter {
    private var entries: [(name: String, dtype: SafeTensorsDType, shape: [Int], bytes: [UInt8])] = []
    public var metadata: [String: String]

    public init(metadata: [String: String] = [:]) { self.metadata = metadata }

    /// Adds a tensor from raw little-endian bytes. A repeated name or a size that does not match
    /// the shape is a programming error.
    public mutating func add(_ name: String, dtype: SafeTensorsDType, shape: [Int], bytes: [UInt8]) {
        precondition(name != "__metadata__" && !entries.contains { $0.name == name }, "duplicate tensor \(name)")
        precondition(shape.reduce(1, *) * dtype.byteCount == bytes.count, "\(name): shape \(shape) does not match \(bytes.count) bytes")
        entries.append((name, dtype, shape, bytes))
    }

    public mutating func add<T: BitwiseCopyable>(_ name: String, dtype: SafeTensorsDType, shape: [Int], values: [T]) {
        precondition(MemoryLayout<T>.stride == dtype.byteCount)
        add(name, dtype: dtype, shape: shape, bytes: values.withUnsafeBytes { Array($0) })
    }

    public mutating func add(_ name: String, shape: [Int], floats: [Float]) { add(name, dtype: .f32, shape: shape, values: floats) }
    public mutating func add(_ name: String, shape: [Int], int32s: [Int32]) { add(name, dtype: .i32, shape: shape, values: int32s) }

    /// The complete file.
    public func serialized() -> [UInt8] {
        let headerBytes = self.headerBytes(sizes: entries.map(\.bytes.count))
        var out: [UInt8] = []
        out.reserveCapacity(8 + headerBytes.count + entries.reduce(0) { $0 + $1.bytes.count })
        withUnsafeBytes(of: UInt64(headerBytes.count).littleEndian) { out.append(contentsOf: $0) }
        out.append(contentsOf: headerBytes)
        for entry in entries { out.append(contentsOf: entry.bytes) }
        return out
    }

    /// The JSON header padded with spaces to a multiple of 8, for data of the given sizes.
    func headerBytes(sizes: [Int]) -> [UInt8] {
        var parts: [String] = []
        if !metadata.isEmpty {
            let items = metadata.keys.sorted().map { "\(Self.quote($0)):\(Self.quote(metadata[$0]!))" }
            parts.append("\"__metadata__\":{" + items.joined(separator: ",") + "}")
        }
        var offset = 0
        for (entry, size) in zip(entries, sizes) {
            let shape = entry.shape.map(String.init).joined(separator: ",")
            parts.append("\(Self.quote(entry.name)):{\"dtype\":\"\(entry.dtype.rawValue)\",\"shape\":[\(shape)],\"data_offsets\":[\(offset),\(offset + size)]}")
            offset += size
        }
        var headerBytes = Array(("{" + parts.joined(separator: ",") + "}").utf8)
        while headerBytes.count % 8 != 0 { headerBytes.append(0x20) }
        return headerBytes
    }

    /// Writes the file atomically (temporary file then rename).
    public func write(toFile path: String) throws {
        try Data(serialized()).write(to: URL(fileURLWithPath: path), options: .atomic)
    }

    static func quote(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 {
                    out += String(format: "\\u%04x", scalar.value)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }
}

extension SafeTensorsWriter {
    /// Builds a file without holding each tensor twice: the header comes from the shapes, then
    /// `fill(i, bytes)` writes tensor i's data in place (used for large random weight files).
    public static func serialized(
        metadata: [String: String], layout: [(name: String, dtype: SafeTensorsDType, shape: [Int])],
        fill: (Int, UnsafeMutableRawBufferPointer) -> Void
    ) -> [UInt8] {
        var header = SafeTensorsWriter(metadata: metadata)
        for entry in layout { header.entries.append((entry.name, entry.dtype, entry.shape, [])) }
        let sizes = layout.map { $0.shape.reduce(1, *) * $0.dtype.byteCount }
        let headerBytes = header.headerBytes(sizes: sizes)
        let total = 8 + headerBytes.count + sizes.reduce(0, +)
        return [UInt8](unsafeUninitializedCapacity: total) { buffer, count in
            let raw = UnsafeMutableRawBufferPointer(buffer)
            raw.storeBytes(of: UInt64(headerBytes.count).littleEndian, as: UInt64.self)
            headerBytes.withUnsafeBytes { raw.baseAddress!.advanced(by: 8).copyMemory(from: $0.baseAddress!, byteCount: headerBytes.count) }
            var offset = 8 + headerBytes.count
            for (i, size) in sizes.enumerated() {
                let slice = UnsafeMutableRawBufferPointer(start: raw.baseAddress! + offset, count: size)
                slice.initializeMemory(as: UInt8.self, repeating: 0)
                fill(i, slice)
                offset += size
            }
            count = total
        }
    }
}
