// Crop payloads: every encoding round-trips, the delta is chosen when it pays,
// and hostile zstd (bombs, wrong sizes, garbage) is refused before allocating.
import XCTest
import PoseCore
@testable import PoseWire

final class UnitPayloadTests: XCTestCase {
    let shape = WireSamples.demoShape

    func testEveryEncodingRoundTrips() throws {
        let crops = WireSamples.crops(windows: 3, shape: shape)
        for policy in [DeltaPolicy.automatic, .smallest, .always, .never] {
            let payload = UnitPayload.encode(crops: crops, windows: 3, shape: shape, delta: policy)
            XCTAssertEqual(try payload.decode(windows: 3, shape: shape), crops, "\(policy)")
            XCTAssertEqual(payload.rawByteCount, UInt64(crops.count))
            XCTAssertLessThan(payload.bytes.count, crops.count)
        }
        XCTAssertEqual(UnitPayload.encode(crops: crops, windows: 3, shape: shape, delta: .always).encoding, .temporalDeltaZstd)
        XCTAssertEqual(UnitPayload.encode(crops: crops, windows: 3, shape: shape, delta: .never).encoding, .zstd)
    }

    func testDeltaIsItsOwnInverseOnRandomBytes() {
        var generator = SplitMix64(seed: 5)
        let small = ModelInputShape(width: 5, height: 3, frames: 5, joints: 17)
        let crops = (0..<(2 * small.windowBytes)).map { _ in UInt8.random(in: 0...255, using: &generator) }
        var round = UnitPayload.temporalDelta(crops, windows: 2, shape: small)
        XCTAssertNotEqual(round, crops)
        XCTAssertEqual(Array(round[0..<45]), Array(crops[0..<45]), "frame 0 of a window is kept")
        XCTAssertEqual(round[45], crops[45] &- crops[0], "frame 1 is the difference from frame 0, mod 256")
        UnitPayload.undoTemporalDelta(&round, windows: 2, shape: small)
        XCTAssertEqual(round, crops)
    }

    func testAutomaticPicksTheSmallerEncoding() {
        // A static scene under per-frame noise: zstd cannot match whole frames, the delta is small numbers.
        let crops = WireSamples.crops(windows: 2, shape: shape)
        let smallest = UnitPayload.encode(crops: crops, windows: 2, shape: shape, delta: .smallest)
        let plain = UnitPayload.encode(crops: crops, windows: 2, shape: shape, delta: .never)
        let delta = UnitPayload.encode(crops: crops, windows: 2, shape: shape, delta: .always)
        XCTAssertLessThan(delta.bytes.count, plain.bytes.count, "static frames: the delta pays")
        XCTAssertEqual(smallest.encoding, .temporalDeltaZstd)
        XCTAssertEqual(smallest.bytes.count, delta.bytes.count)
        // The first window decides for the unit; here every window is alike, so it decides right.
        XCTAssertEqual(UnitPayload.encode(crops: crops, windows: 2, shape: shape, delta: .automatic).encoding, .temporalDeltaZstd)
        // Frames that change completely from one to the next: the delta does not pay.
        var generator = SplitMix64(seed: 3)
        let small = ModelInputShape(width: 32, height: 32, frames: 3, joints: 17)
        let frameBytes = 32 * 32 * 3
        let pattern = (0..<frameBytes).map { _ in UInt8.random(in: 0...15, using: &generator) &* 16 }
        var moving = [UInt8](repeating: 0, count: small.windowBytes)
        for t in 0..<3 { for i in 0..<frameBytes { moving[t * frameBytes + i] = pattern[(i + 7 * 3 * t) % frameBytes] } }
        let chosen = UnitPayload.encode(crops: moving, windows: 1, shape: small, delta: .smallest)
        XCTAssertEqual(chosen.encoding, .zstd)
        XCTAssertEqual(UnitPayload.encode(crops: moving, windows: 1, shape: small, delta: .automatic).encoding, .zstd)
    }

    func testIncompressibleCropsGoRaw() throws {
        var generator = SplitMix64(seed: 11)
        let small = ModelInputShape(width: 16, height: 16, frames: 3, joints: 17)
        let noise = (0..<small.windowBytes).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let payload = UnitPayload.encode(crops: noise, windows: 1, shape: small)
        XCTAssertEqual(payload.encoding, .raw)
        XCTAssertEqual(try payload.decode(windows: 1, shape: small), noise)
    }

    func testZstdBombAndWrongSizesAreRefused() throws {
        let small = ModelInputShape(width: 8, height: 6, frames: 3, joints: 17)
        // Declares 100 MB: over unitRawBytesMax, refused before allocating.
        let bomb = UnitPayload(encoding: .zstd, rawByteCount: UInt64(small.windowBytes),
                               bytes: Zstd.compress([UInt8](repeating: 0, count: 100 << 20), level: 1))
        XCTAssertThrowsError(try bomb.decode(windows: 1, shape: small)) {
            XCTAssertEqual($0 as? WireError, .decompressedTooLarge(what: "UNIT crops", declared: 100 << 20, max: 56 << 20))
        }
        // Declares fewer bytes than the geometry needs.
        let short = UnitPayload(encoding: .temporalDeltaZstd, rawByteCount: UInt64(small.windowBytes),
                                bytes: Zstd.compress([UInt8](repeating: 1, count: 10), level: 1))
        XCTAssertThrowsError(try short.decode(windows: 1, shape: small)) {
            XCTAssertEqual($0 as? WireError, .decompressionFailed(what: "UNIT crops", reason: "declares 10 bytes, expected 432"))
        }
        // rawByteCount that disagrees with the geometry.
        let crops = WireSamples.crops(windows: 1, shape: small)
        let good = UnitPayload.encode(crops: crops, windows: 1, shape: small)
        XCTAssertThrowsError(try good.decode(windows: 2, shape: small)) {
            XCTAssertEqual($0 as? WireError, .invalidField(message: .unit, field: "rawByteCount", reason: "expected 864, got 432"))
        }
        // Every truncation and bit flip of a compressed payload: an error or the right size, never a trap.
        for cut in 0..<good.bytes.count {
            let truncated = UnitPayload(encoding: good.encoding, rawByteCount: good.rawByteCount, bytes: Array(good.bytes[..<cut]))
            XCTAssertThrowsError(try truncated.decode(windows: 1, shape: small), "cut at \(cut)")
        }
        for bit in 0..<(good.bytes.count * 8) {
            var bytes = good.bytes
            bytes[bit / 8] ^= 1 << UInt8(bit % 8)
            let flipped = UnitPayload(encoding: good.encoding, rawByteCount: good.rawByteCount, bytes: bytes)
            do {
                let decoded = try flipped.decode(windows: 1, shape: small)
                XCTAssertEqual(decoded.count, crops.count)
            } catch is WireError {} catch {
                XCTFail("\(error)")
            }
        }
    }

    func testUnknownContentSizeIsRefused() throws {
        // A zstd frame written by a streaming compressor without the content size.
        // Hand-built: magic, frame header descriptor 0 (no size, window descriptor follows), then a raw last block.
        let frame: [UInt8] = [0x28, 0xB5, 0x2F, 0xFD, 0x00, 0x58, 0x19, 0x00, 0x00, 0x41, 0x42, 0x43]
        let payload = UnitPayload(encoding: .zstd, rawByteCount: 3 * 2 * 2 * 3, bytes: frame)
        XCTAssertThrowsError(try payload.decode(windows: 1, shape: ModelInputShape(width: 2, height: 2, frames: 3, joints: 1))) {
            XCTAssertEqual($0 as? WireError, .decompressedTooLarge(what: "UNIT crops", declared: nil, max: 56 << 20))
        }
    }
}
