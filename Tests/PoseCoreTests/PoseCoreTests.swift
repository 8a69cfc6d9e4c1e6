// Tests of the shared vocabulary: crop geometry, PoseTrack naming and format.
import Foundation
import XCTest
import PoseCore

final class GeometryTests: XCTestCase {
    func testAspectFixAndEnlargement() {
        // Tall box: width grows to 0.75 * height.
        let tall = CropGeometry(box: BoundingBox(x: 10, y: 20, width: 30, height: 200), inputWidth: 192, inputHeight: 256)
        XCTAssertEqual(tall.centerX, 25); XCTAssertEqual(tall.centerY, 120)
        XCTAssertEqual(tall.scaleWidth, 150 * 1.25, accuracy: 1e-9)
        XCTAssertEqual(tall.scaleHeight, 200 * 1.25, accuracy: 1e-9)
        // Wide box: height grows to width / 0.75.
        let wide = CropGeometry(box: BoundingBox(x: 0, y: 0, width: 300, height: 100), inputWidth: 192, inputHeight: 256)
        XCTAssertEqual(wide.scaleHeight, 400 * 1.25, accuracy: 1e-9)
    }

    func testHeatmapAndCropRoundTrip() {
        let geometry = CropGeometry(box: BoundingBox(x: 40, y: 50, width: 60, height: 120), inputWidth: 192, inputHeight: 256)
        for (px, py) in [(0.0, 0.0), (24.0, 32.0), (47.25, 63.75), (13.5, 7.25)] {
            let image = geometry.imagePoint(heatmapX: px, heatmapY: py, heatmapWidth: 48, heatmapHeight: 64)
            let back = geometry.cropPoint(x: image.x, y: image.y, width: 48, height: 64)
            XCTAssertEqual(back.u, px, accuracy: 1e-9); XCTAssertEqual(back.v, py, accuracy: 1e-9)
        }
        // The heatmap centre maps to the box centre.
        let centre = geometry.imagePoint(heatmapX: 24, heatmapY: 32, heatmapWidth: 48, heatmapHeight: 64)
        XCTAssertEqual(centre.x, 70, accuracy: 1e-9); XCTAssertEqual(centre.y, 110, accuracy: 1e-9)
    }

    func testClipAndIoU() {
        let box = BoundingBox(x: -10, y: 5, width: 30, height: 1000).clipped(frameWidth: 100, frameHeight: 200)
        XCTAssertEqual(box, BoundingBox(x: 0, y: 5, width: 20, height: 195))
        let a = BoundingBox(x: 0, y: 0, width: 10, height: 10), b = BoundingBox(x: 5, y: 0, width: 10, height: 10)
        XCTAssertEqual(a.iou(b), 50.0 / 150.0, accuracy: 1e-12)
        XCTAssertEqual(a.iou(BoundingBox(x: 50, y: 50, width: 1, height: 1)), 0)
    }
}

final class PoseTrackFormatTests: XCTestCase {
    func testNaming() {
        XCTAssertEqual(PoseTrackNaming.imageID(videoName: "012834_mpii_test", frame: 0), 10_128_340_000)
        XCTAssertEqual(PoseTrackNaming.imageID(videoName: "000001_bonn_train", frame: 17), 20_000_010_017)
        XCTAssertNil(PoseTrackNaming.imageID(videoName: "holiday", frame: 0))
        XCTAssertEqual(PoseTrackNaming.fileName(videoName: "012834_mpii_test", frame: 7), "images/val/012834_mpii_test/000007.jpg")
    }

    func testRoundTripAndDeterministicBytes() throws {
        let file = PoseTrackFile(
            images: [PoseTrackImage(fileName: "images/val/000001_mpii_test/000000.jpg", id: 10_000_010_000, frameID: 10_000_010_000,
                                    videoID: "000001", frameCount: 1)],
            annotations: [PoseTrackAnnotation(id: 1, imageID: 10_000_010_000, trackID: 0,
                                              keypoints: Array(repeating: 1.5, count: 51), scores: Array(repeating: 0.25, count: 17),
                                              bbox: [1, 2, 3, 4], score: 0.9)])
        let bytes = try file.encoded()
        XCTAssertEqual(try file.encoded(), bytes)
        XCTAssertEqual(try PoseTrackFile.decode(Data(bytes), path: "x.json"), file)
        let text = String(decoding: bytes, as: UTF8.self)
        XCTAssertTrue(text.contains("\"file_name\":\"images/val/000001_mpii_test/000000.jpg\""))
    }

    func testWrongShapeNamesTheField() {
        let data = Data(#"{"images": [{"file_name": 3, "id": 1}], "annotations": [], "categories": []}"#.utf8)
        XCTAssertThrowsError(try PoseTrackFile.decode(data, path: "bad.json")) { error in
            XCTAssertTrue("\(error)".contains("bad.json"), "\(error)")
            XCTAssertTrue("\(error)".contains("file_name"), "\(error)")
        }
    }
}

final class ExactScoreTests: XCTestCase {
    func testExactKeepsTheFloatsDigitsAndSeparatesNeighbours() throws {
        let a: Float = 0.123456789, b = a.nextUp
        XCTAssertEqual(PoseTrackNaming.exact(a), Double("\(a)"))
        XCTAssertNotEqual(PoseTrackNaming.exact(a), PoseTrackNaming.exact(b))
        XCTAssertEqual(Float(PoseTrackNaming.exact(b)), b)
        XCTAssertEqual(PoseTrackNaming.exact(.nan), 0)
        // Encodes as the short form, not a 17-digit binary expansion.
        let file = PoseTrackFile(images: [], annotations: [PoseTrackAnnotation(imageID: 0, scores: [PoseTrackNaming.exact(0.1)])])
        XCTAssertTrue(String(decoding: try file.encoded(), as: UTF8.self).contains("[0.1]"))
    }
}

/// The pull parser under the detection and PoseTrack readers: every kind of value, escapes,
/// the number grammar, skipping nested values without recursion, the limits, error positions.
final class JSONReaderTests: XCTestCase {
    private func withReader<T>(_ text: String, _ body: (inout JSONReader) throws -> T) throws -> T {
        let bytes = Array(text.utf8)
        return try bytes.withUnsafeBufferPointer { buffer in
            var reader = JSONReader(buffer)
            return try body(&reader)
        }
    }

    private func validate(_ text: String) throws {
        try Array(text.utf8).withUnsafeBufferPointer { try JSONReader.validate($0) }
    }

    func testValuesAndEscapes() throws {
        let text = "\u{FEFF}{\"a\": [1, -2.5e3, true, false, null], \"s\": \"q\\\"\\\\\\/\\n\\u00e9\\ud83d\\ude00\", \"o\": {\"x\": {}}}"
        try withReader(text) { reader in
            try reader.beginObject()
            XCTAssertEqual(try reader.nextKey(), "a")
            try reader.beginArray()
            XCTAssertTrue(try reader.nextElement()); XCTAssertEqual(try reader.readNumber().integer, 1)
            XCTAssertTrue(try reader.nextElement()); XCTAssertEqual(try reader.readNumber().value, -2500)
            XCTAssertTrue(try reader.nextElement()); XCTAssertEqual(try reader.readBool(), true)
            XCTAssertTrue(try reader.nextElement()); XCTAssertEqual(try reader.readBool(), false)
            XCTAssertTrue(try reader.nextElement()); XCTAssertTrue(try reader.readNull())
            XCTAssertFalse(try reader.nextElement())
            XCTAssertEqual(try reader.nextKey(), "s")
            XCTAssertEqual(try reader.readString(), "q\"\\/\n\u{e9}\u{1F600}")
            XCTAssertEqual(try reader.nextKey(), "o")
            try reader.skipValue()
            XCTAssertNil(try reader.nextKey())
            try reader.finish()
        }
    }

    func testNumberGrammarAndRange() throws {
        for good in ["0", "-0", "12", "1.5", "1e3", "1E-3", "-0.25e+2", "9223372036854775807"] { XCTAssertNoThrow(try validate(good), good) }
        for (bad, phrase) in [("01", "leading zeros"), ("1.", "after '.'"), ("-", "digits"), ("1e", "exponent"), ("+1", "expected a value"),
                              (".5", "expected a value"), ("NaN", "NaN"), ("-Infinity", "Infinity"), ("1e999", "too large"),
                              (String(repeating: "1", count: 65), "longer than 64")] {
            XCTAssertThrowsError(try validate(bad), bad) { XCTAssertTrue("\($0)".contains(phrase), "\($0) should mention \(phrase)") }
        }
        try withReader("9223372036854775808") { XCTAssertNil(try $0.readNumber().integer, "2^63 does not fit an Int") }
        try withReader("3.0") { XCTAssertEqual(try $0.readNumber().integer, 3) }
        try withReader("3.5") { XCTAssertNil(try $0.readNumber().integer) }
    }

    func testSyntaxErrorsSayLineAndColumn() {
        let cases: [(String, String)] = [
            ("[1,\n 2,\n ]", "line 3, column 2: a trailing comma"),
            ("{\"a\" 1}", "line 1, column 6: expected ':'"),
            ("{1: 2}", "line 1, column 2: expected a key in quotes"),
            ("[1 2]", "line 1, column 4: expected ',' or ']'"),
            ("[\"abc", "line 1, column 2: a string is not closed"),
            ("\"a\tb\"", "control character"),
            ("\"\\x\"", "not a JSON escape"),
            ("[1]\n2", "line 2, column 1: unexpected '2' after the end"),
            ("", "unexpected end of the file"),
            ("[", "unexpected end of the file inside a list"),
        ]
        for (text, expected) in cases {
            XCTAssertThrowsError(try validate(text), text) { XCTAssertTrue("\($0)".contains(expected), "\($0) should contain \(expected)") }
        }
    }

    func testNestingLimitWithoutRecursion() throws {
        let limit = JSONReader.depthMax
        XCTAssertNoThrow(try validate(String(repeating: "[", count: limit) + String(repeating: "]", count: limit)))
        XCTAssertNoThrow(try validate(String(repeating: "{\"a\":", count: limit - 1) + "[]" + String(repeating: "}", count: limit - 1)))
        for deep in [limit + 1, 100_000] {
            let text = String(repeating: "[", count: deep) + String(repeating: "]", count: deep)
            XCTAssertThrowsError(try validate(text)) { error in
                XCTAssertEqual((error as? JSONError)?.column, limit + 1)
                XCTAssertTrue("\(error)".contains("nested deeper than \(limit) levels"), "\(error)")
            }
        }
    }

    func testDecodingErrorsNameNoSwiftTypes() {
        struct Shape: Decodable { var items: [Int]; var name: String; var flag: Bool }
        for (text, expected) in [("{\"items\": 1, \"name\": \"a\", \"flag\": true}", "items: expected a list"),
                                 ("{\"items\": [\"x\"], \"name\": \"a\", \"flag\": true}", "items[0]: expected a whole number"),
                                 ("{\"items\": [], \"name\": 1, \"flag\": true}", "name: expected a string"),
                                 ("{\"items\": [], \"name\": \"a\", \"flag\": 1}", "flag: expected true or false"),
                                 ("{\"items\": [], \"name\": \"a\"}", "flag: missing"),
                                 ("[]", "the top level: expected an object")] {
            XCTAssertThrowsError(try JSONDocument.decode(Shape.self, from: Data(text.utf8)), text) { error in
                XCTAssertTrue("\(error)".contains(expected), "\(error) should contain \(expected)")
                for typeName in ["Array<", "Dictionary<", "Int", "String", "Bool", "Swift"] {
                    XCTAssertFalse("\(error)".contains(typeName), "\(error) names a Swift type")
                }
            }
        }
    }
}
