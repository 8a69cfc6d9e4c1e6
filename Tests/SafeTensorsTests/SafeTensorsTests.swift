// Round trips and one corrupt file per failure class of the safetensors reader.
import Foundation
import XCTest
@testable import SafeTensors

final class SafeTensorsTests: XCTestCase {
    private func sample() -> [UInt8] {
        var writer = SafeTensorsWriter(metadata: ["ftp_pose.config": "{\"a\": \"b\\\"\"}", "prune": "6,6"])
        writer.add("weights", shape: [2, 3], floats: [1, 2, 3, 4, 5, -6.5])
        writer.add("indices", shape: [4], int32s: [7, -1, 0, 3])
        writer.add("bytes", dtype: .u8, shape: [3], values: [UInt8(1), 2, 255])
        writer.add("wide", dtype: .f64, shape: [1], values: [Double.pi])
        writer.add("long", dtype: .i64, shape: [2], values: [Int64.min, 42])
        writer.add("empty", shape: [0, 4], floats: [])
        return writer.serialized()
    }

    func testRoundTripFromBytes() throws {
        let file = try SafeTensorsFile(bytes: sample())
        XCTAssertEqual(file.metadata["prune"], "6,6")
        XCTAssertEqual(file.metadata["ftp_pose.config"], "{\"a\": \"b\\\"\"}")
        XCTAssertEqual(try file.floats("weights"), [1, 2, 3, 4, 5, -6.5])
        XCTAssertEqual(try file.info("weights").shape, [2, 3])
        XCTAssertEqual(try file.int32s("indices"), [7, -1, 0, 3])
        XCTAssertEqual(try file.uint8s("bytes"), [1, 2, 255])
        XCTAssertEqual(try file.doubles("wide"), [Double.pi])
        XCTAssertEqual(try file.int64s("long"), [Int64.min, 42])
        XCTAssertEqual(try file.floats("empty"), [])
        XCTAssertEqual(Set(file.names), ["weights", "indices", "bytes", "wide", "long", "empty"])
    }

    func testBorrowedBytesReadTheSameAsCopiedBytes() throws {
        let bytes = sample()
        let values = try bytes.withUnsafeBytes { raw -> [Float] in
            let file = try SafeTensorsFile(unsafeBorrowing: raw)
            XCTAssertEqual(file.metadata["prune"], "6,6")
            return try file.floats("weights")
        }
        XCTAssertEqual(values, try SafeTensorsFile(bytes: bytes).floats("weights"))
        XCTAssertThrowsError(try Array(bytes.prefix(20)).withUnsafeBytes { try SafeTensorsFile(unsafeBorrowing: $0) })
    }

    func testRoundTripFromMappedFile() throws {
        let path = NSTemporaryDirectory() + "safetensors-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).safetensors"
        defer { try? FileManager.default.removeItem(atPath: path) }
        var writer = SafeTensorsWriter()
        writer.add("x", shape: [3], floats: [0.5, 1.5, 2.5])
        try writer.write(toFile: path)
        let file = try SafeTensorsFile(contentsOfFile: path)
        XCTAssertEqual(try file.floats("x"), [0.5, 1.5, 2.5])
        XCTAssertTrue(file.metadata.isEmpty)
    }

    func testHeaderIsPaddedToEightBytes() {
        let bytes = sample()
        let length = bytes[0..<8].enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
        XCTAssertEqual(length % 8, 0)
    }

    func testMissingFile() {
        XCTAssertThrowsError(try SafeTensorsFile(contentsOfFile: "/nonexistent/x.safetensors")) { error in
            guard case SafeTensorsError.cannotOpen = error else { return XCTFail("\(error)") }
        }
    }

    func testTooSmall() {
        XCTAssertThrowsError(try SafeTensorsFile(bytes: [1, 2, 3])) { XCTAssertEqual($0 as? SafeTensorsError, .tooSmall(byteCount: 3)) }
    }

    func testHeaderLengthBeyondFile() {
        var bytes = sample()
        let huge = UInt64(bytes.count)  // more than what follows the 8 length bytes
        for i in 0..<8 { bytes[i] = UInt8(truncatingIfNeeded: huge >> (8 * UInt64(i))) }
        XCTAssertThrowsError(try SafeTensorsFile(bytes: bytes)) { error in
            XCTAssertEqual(error as? SafeTensorsError, .headerLengthOutOfRange(headerLength: huge, available: bytes.count - 8))
        }
        for i in 0..<8 { bytes[i] = 0xFF }
        XCTAssertThrowsError(try SafeTensorsFile(bytes: bytes)) { error in
            guard case SafeTensorsError.headerTooLarge = error else { return XCTFail("\(error)") }
        }
    }

    /// Issue 12: a file of another format is named as such, not "header length 3475222254926655346".
    func testOtherFormatsAreNamed() throws {
        let zip: [UInt8] = [0x50, 0x4B, 0x03, 0x04, 0x14, 0x00, 0x00, 0x08, 0x08, 0x00] + [UInt8](repeating: 7, count: 100)
        let pickle: [UInt8] = [0x80, 0x02, 0x63, 0x63, 0x6F, 0x6C, 0x6C, 0x65, 0x63, 0x74] + [UInt8](repeating: 0, count: 100)
        let text = Array("{\"weights\": [1, 2, 3]} and more text to make it long enough".utf8)
        for (bytes, phrase) in [(zip, "zip archive"), (pickle, "pickle"), (text, "JSON or text"), (Array("GGUF0000000000000".utf8), "GGUF")] {
            XCTAssertThrowsError(try SafeTensorsFile(bytes: bytes)) { error in
                guard case SafeTensorsError.notSafeTensors = error else { return XCTFail("\(error)") }
                XCTAssertTrue("\(error)".contains("not a safetensors file"), "\(error)")
                XCTAssertTrue("\(error)".contains(phrase), "\(error) should say \(phrase)")
                XCTAssertFalse("\(error)".contains("header length"), "\(error)")
            }
        }
        // From a file, the message names it.
        let path = NSTemporaryDirectory() + "not-weights-\(UUID().uuidString).pt"
        try Data(zip).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        XCTAssertThrowsError(try SafeTensorsFile(contentsOfFile: path)) { error in
            XCTAssertTrue("\(error)".hasPrefix(path + " is not a safetensors file (it is a zip archive"), "\(error)")
        }
        // A real safetensors file with a damaged length keeps the precise error.
        var damaged = sample()
        damaged[7] = 0x7F
        XCTAssertThrowsError(try SafeTensorsFile(bytes: damaged)) { error in
            guard case SafeTensorsError.headerTooLarge = error else { return XCTFail("\(error)") }
        }
    }

    func testTruncatedData() {
        let bytes = Array(sample().dropLast(5))
        XCTAssertThrowsError(try SafeTensorsFile(bytes: bytes)) { error in
            guard case let SafeTensorsError.dataOutOfRange(tensor, _, _) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(tensor, "long")
        }
    }

    private func file(header: String, dataBytes: Int) -> [UInt8] {
        var out: [UInt8] = []
        let json = Array(header.utf8)
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { out.append(contentsOf: $0) }
        return out + json + [UInt8](repeating: 0, count: dataBytes)
    }

    func testMalformedHeaders() {
        let cases: [(String, (SafeTensorsError) -> Bool)] = [
            ("not json", { if case .headerNotJSON = $0 { return true }; return false }),
            ("[1, 2]", { if case .headerNotJSON = $0 { return true }; return false }),
            (#"{"__metadata__": {"a": 1}}"#, { if case .badMetadata = $0 { return true }; return false }),
            (#"{"t": {"dtype": "Q8", "shape": [1], "data_offsets": [0, 1]}}"#, { $0 == .unknownDType(tensor: "t", dtype: "Q8") }),
            (#"{"t": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 4]}}"#, { if case .badEntry(tensor: "t", _) = $0 { return true }; return false }),
            (#"{"t": {"dtype": "F32", "shape": [2], "data_offsets": [4, 0]}}"#, { if case .badEntry(tensor: "t", _) = $0 { return true }; return false }),
            (#"{"t": {"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}}"#, { $0 == .sizeMismatch(tensor: "t", expectedBytes: 12, gotBytes: 8) }),
            (#"{"t": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}, "u": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}}"#,
             { $0 == .overlap(tensor: "u", other: "t") }),
            (#"{"t": {"dtype": "F32", "shape": [4], "data_offsets": [8, 24]}}"#, { $0 == .dataOutOfRange(tensor: "t", end: 24, dataByteCount: 16) }),
        ]
        for (header, matches) in cases {
            XCTAssertThrowsError(try SafeTensorsFile(bytes: file(header: header, dataBytes: 16)), header) { error in
                guard let typed = error as? SafeTensorsError, matches(typed) else { return XCTFail("\(header): \(error)") }
                XCTAssertFalse(typed.description.isEmpty)
            }
        }
    }

    func testWrongDTypeAndMissingTensor() throws {
        let file = try SafeTensorsFile(bytes: sample())
        XCTAssertThrowsError(try file.int32s("weights")) {
            XCTAssertEqual($0 as? SafeTensorsError, .wrongDType(tensor: "weights", expected: .i32, got: .f32))
        }
        XCTAssertThrowsError(try file.floats("nope")) { XCTAssertEqual($0 as? SafeTensorsError, .missingTensor("nope")) }
    }

    func testEveryTruncationFailsCleanly() {
        // Any prefix of a valid file is either a valid file or a typed error, never a crash.
        let bytes = sample()
        for length in stride(from: 0, to: bytes.count, by: 3) {
            do { _ = try SafeTensorsFile(bytes: Array(bytes[0..<length])) } catch { XCTAssertTrue(error is SafeTensorsError, "\(error)") }
        }
    }
}
