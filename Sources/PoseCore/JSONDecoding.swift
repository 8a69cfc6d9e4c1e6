// Decoding JSON input files with Codable, with errors people can act on: the syntax and the
// nesting depth are checked first by `JSONReader` (line and column, `depthMax`), then decoding
// errors give the key path and the kind of value expected in words, never a Swift type name.
import Foundation

public enum JSONDocument {
    /// Decodes `data` as `T`; errors read like "line 3, column 7: ..." or
    /// "images[3].file_name: expected a string".
    public static func decode<T: Decodable>(_ type: T.Type, from data: Data) throws -> T {
        try data.withUnsafeBytes { raw in try JSONReader.validate(raw.bindMemory(to: UInt8.self), wholeNumbersMustFit: true) }
        do {
            return try JSONDecoder().decode(T.self, from: data)
        } catch let error as DecodingError {
            throw JSONError(line: 0, column: 0, reason: error.readableDescription)
        }
    }
}

extension DecodingError {
    /// Where in the document and what went wrong, e.g. `images[3].file_name: expected a string`.
    public var readableDescription: String {
        func at(_ path: [CodingKey]) -> String {
            guard !path.isEmpty else { return "the top level" }
            let text = path.map { key in key.intValue.map { "[\($0)]" } ?? ".\(key.stringValue)" }.joined()
            return text.hasPrefix(".") ? String(text.dropFirst()) : text
        }
        switch self {
        case .typeMismatch(let type, let context): return "\(at(context.codingPath)): expected \(Self.words(for: type))"
        case .valueNotFound(let type, let context): return "\(at(context.codingPath)): expected \(Self.words(for: type)), found null"
        case .keyNotFound(let key, let context): return "\(at(context.codingPath + [key])): missing"
        case .dataCorrupted(let context):
            // Foundation's texts here name no Swift type ("Number 9223372036854775808 is not representable in Swift").
            let text = context.debugDescription.replacingOccurrences(of: " in Swift", with: " as a 64-bit number")
            return "\(at(context.codingPath)): \(text)"
        @unknown default: return "the value does not fit the expected shape"
        }
    }

    /// A value's kind in words: "a list", "an object", "a string", "a number", "true or false".
    static func words(for type: Any.Type) -> String {
        let name = String(describing: type)
        if name.hasPrefix("Array<") || name.hasPrefix("[") || name.hasPrefix("ContiguousArray<") { return "a list" }
        if name.hasPrefix("Dictionary<") || name.hasPrefix("KeyedDecodingContainer") { return "an object" }
        if name.hasPrefix("UnkeyedDecodingContainer") { return "a list" }
        switch name {
        case "String", "Substring", "Character": return "a string"
        case "Bool": return "true or false"
        case "Int", "Int8", "Int16", "Int32", "Int64", "UInt", "UInt8", "UInt16", "UInt32", "UInt64": return "a whole number"
        case "Double", "Float", "Float16", "Decimal": return "a number"
        default: return "an object"   // a struct of ours: decoded from a JSON object
        }
    }
}
