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
        var parts: [String] = []
        if !metadata.isEmpty {
            let items = metadata.keys.sorted().map { "\(Self.quote($0)):\(Self.quote(metadata[$0]!))" }
            parts.append("\"__metadata__\":{" + items.joined(separator: ",") + "}")
        }
        var offset = 0
        for entry in entries {
            let shape = entry.shape.map(String.init).joined(separator: ",")
            parts.append("\(Self.quote(entry.name)):{\"dtype\":\"\(entry.dtype.rawValue)\",\"shape\":[\(shape)],\"data_offsets\":[\(offset),\(offset + entry.bytes.count)]}")
            offset += entry.bytes.count
        }
        var headerBytes = Array(("{" + parts.joined(separator: ",") + "}").utf8)
        while headerBytes.count % 8 != 0 { headerBytes.append(0x20) }
        var out: [UInt8] = []
        out.reserveCapacity(8 + headerBytes.count + offset)
        withUnsafeBytes(of: UInt64(headerBytes.count).littleEndian) { out.append(contentsOf: $0) }
        out.append(contentsOf: headerBytes)
        for entry in entries { out.append(contentsOf: entry.bytes) }
        return out
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
