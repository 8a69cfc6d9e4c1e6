// Every message's payload decoder against truncation, trailing bytes, bit flips
// and hand-made hostile fields; each hostile field asserted to its typed error.
import XCTest
import PoseCore
import PoseCrypto
@testable import PoseWire

final class MessageTests: XCTestCase {
    func testEveryPayloadRoundTrips() throws {
        for message in WireSamples.all() {
            let payload = try message.encodePayload()
            XCTAssertEqual(try WireMessage.decode(type: message.type.rawValue, payload: payload), message)
        }
    }

    func testEveryTruncationIsATypedError() throws {
        for message in WireSamples.all() {
            let payload = try message.encodePayload()
            for length in 0..<payload.count {
                XCTAssertThrowsError(try WireMessage.decode(type: message.type.rawValue, payload: Array(payload[..<length])),
                                     "\(message.type) cut to \(length) of \(payload.count) bytes") { error in
                    guard case .truncated(let type, _, let needed, let remaining)? = error as? WireError else {
                        return XCTFail("\(message.type) cut to \(length): \(error)")
                    }
                    XCTAssertEqual(type, message.type)
                    XCTAssertGreaterThan(needed, remaining)
                }
            }
            XCTAssertThrowsError(try WireMessage.decode(type: message.type.rawValue, payload: payload + [0])) {
                XCTAssertEqual($0 as? WireError, .trailingBytes(message: message.type, count: 1))
            }
        }
    }

    func testBitFlipsInPayloadsNeverTrap() throws {
        // Flips inside numbers or floats may still decode to a valid message; anything else must be
        // a WireError. What is asserted: no trap, and no other error type.
        var decoded = 0, refused = 0
        for message in WireSamples.all() {
            let payload = try message.encodePayload()
            for bit in 0..<min(payload.count * 8, 4096) {
                var corrupted = payload
                corrupted[bit / 8] ^= 1 << UInt8(bit % 8)
                do {
                    let result = try WireMessage.decode(type: message.type.rawValue, payload: corrupted)
                    XCTAssertEqual(result.type, message.type)
                    decoded += 1
                } catch is WireError {
                    refused += 1
                }
            }
        }
        XCTAssertGreaterThan(refused, 100, "length and magic flips are refused")
        XCTAssertGreaterThan(decoded, 100, "flips inside numbers decode")
    }

    func testRandomGarbageNeverTraps() {
        var generator = SplitMix64(seed: 99)
        for _ in 0..<3000 {
            let count = Int.random(in: 0...200, using: &generator)
            let bytes = (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let type = UInt8.random(in: 0...20, using: &generator)
            do { _ = try WireMessage.decode(type: type, payload: bytes) } catch is WireError {} catch {
                XCTFail("non-wire error \(error)")
            }
        }
    }

    func testBadMagicAndVersionAreRefusedWithAReason() throws {
        var hello = try WireSamples.all()[0].encodePayload()
        hello[0] ^= 0xFF
        XCTAssertThrowsError(try WireMessage.decode(type: 1, payload: hello)) { error in
            guard case .badMagic? = error as? WireError else { return XCTFail("\(error)") }
            XCTAssertEqual((error as? WireError)?.rejectCode, .badMagic)
            XCTAssertTrue("\(error)".contains("not a posecluster node"))
        }
        let future = WireMessage.hello(Hello(protocolVersion: WireProtocol.version + 1, role: .worker, name: "w", threads: 1, cachedModel: nil,
                                             capabilities: [], nonce: Array(repeating: 0, count: 32)))
        XCTAssertThrowsError(try WireMessage.decode(type: 1, payload: try future.encodePayload())) { error in
            let ours = WireProtocol.version
            XCTAssertEqual(error as? WireError, .versionMismatch(peer: ours + 1, ours: ours))
            XCTAssertEqual((error as? WireError)?.rejectCode, .versionMismatch)
            XCTAssertTrue("\(error)".contains("the peer speaks version \(ours + 1), this build speaks version \(ours)"))
        }
        let oldChallenge = WireMessage.challenge(Challenge(protocolVersion: 0, nonce: Array(repeating: 0, count: 32), authRequired: true))
        XCTAssertThrowsError(try WireMessage.decode(type: 2, payload: try oldChallenge.encodePayload())) {
            XCTAssertEqual($0 as? WireError, .versionMismatch(peer: 0, ours: WireProtocol.version))
        }
    }

    func testOversizedStringIsRefusedBeforeReading() {
        // REJECT: code, then a string claiming 4 GiB.
        let payload: [UInt8] = [2, 0, 0xFF, 0xFF, 0xFF, 0xFF, 65, 66]
        XCTAssertThrowsError(try WireMessage.decode(type: MessageType.reject.rawValue, payload: payload)) {
            XCTAssertEqual($0 as? WireError, .limitExceeded(message: .reject, field: "reason", value: 0xFFFF_FFFF, max: 4096))
        }
        // Within the limit but longer than what is left.
        XCTAssertThrowsError(try WireMessage.decode(type: MessageType.reject.rawValue, payload: [2, 0, 100, 0, 0, 0, 65])) {
            XCTAssertEqual($0 as? WireError, .truncated(message: .reject, field: "reason", needed: 100, remaining: 1))
        }
        XCTAssertThrowsError(try WireMessage.bye(Bye(reason: String(repeating: "x", count: 4097))).encodePayload()) {
            XCTAssertEqual($0 as? WireError, .limitExceeded(message: .bye, field: "reason", value: 4097, max: 4096))
        }
    }

    func testInvalidUTF8AndBooleans() {
        XCTAssertThrowsError(try WireMessage.decode(type: MessageType.bye.rawValue, payload: [2, 0, 0, 0, 0xC3, 0x28])) {
            XCTAssertEqual($0 as? WireError, .invalidField(message: .bye, field: "reason", reason: "not valid UTF-8"))
        }
        var challenge = try! WireMessage.challenge(Challenge(nonce: Array(repeating: 1, count: 32), authRequired: true)).encodePayload()
        challenge[challenge.count - 1] = 2
        XCTAssertThrowsError(try WireMessage.decode(type: 2, payload: challenge)) {
            XCTAssertEqual($0 as? WireError, .invalidField(message: .challenge, field: "authRequired", reason: "a boolean is 0 or 1, got 2"))
        }
    }

    func testResultCountsAreCheckedBeforeAllocating() throws {
        // A RESULT that claims the maximum windows and joints but carries no keypoints.
        var w = WireWriter(.result)
        try w.encode(WireSamples.unitID, limits: .default)
        w.u64(1)
        w.u32(64)
        w.u32(64)
        XCTAssertThrowsError(try WireMessage.decode(type: MessageType.result.rawValue, payload: w.bytes)) {
            XCTAssertEqual($0 as? WireError, .truncated(message: .result, field: "keypoints", needed: 64 * 64 * 12, remaining: 0))
        }
        var over = WireWriter(.result)
        try over.encode(WireSamples.unitID, limits: .default)
        over.u64(1)
        over.u32(0xFFFF_FFFF)
        XCTAssertThrowsError(try WireMessage.decode(type: MessageType.result.rawValue, payload: over.bytes)) {
            XCTAssertEqual($0 as? WireError, .limitExceeded(message: .result, field: "windowCount", value: 0xFFFF_FFFF, max: 64))
        }
        let ragged = WireMessage.result(UnitResult(id: WireSamples.unitID, leaseID: 1,
                                                   windows: [WindowKeypoints(values: [1, 2, 3]), WindowKeypoints(values: [1, 2])], computeMicros: 0))
        XCTAssertThrowsError(try ragged.encodePayload())
    }

    func testUnitFieldsAreChecked() throws {
        func unitPayload(width: UInt32 = 8, height: UInt32 = 6, frames: UInt32 = 3, windows: UInt32 = 2,
                         encoding: UInt8 = 0, rawCount: UInt64? = nil, crops: [UInt8]? = nil) throws -> [UInt8] {
            var w = WireWriter(.unit)
            try w.encode(WireSamples.unitID, limits: .default)
            w.u64(5); w.u32(1000)
            w.u32(width); w.u32(height); w.u32(frames); w.u32(17); w.u32(windows)
            w.u8(encoding)
            let raw = UInt64(width) * UInt64(height) * UInt64(frames) * 3 * UInt64(windows)
            w.u64(rawCount ?? raw)
            let bytes = crops ?? [UInt8](repeating: 7, count: Int(min(raw, 1 << 20)))
            w.u32(UInt32(bytes.count)); w.raw(bytes)
            return w.bytes
        }
        let unit = MessageType.unit.rawValue
        guard case .unit(let good) = try WireMessage.decode(type: unit, payload: try unitPayload()) else { return XCTFail() }
        XCTAssertEqual(try good.crops.decode(windows: 2, shape: good.inputShape), [UInt8](repeating: 7, count: 864))
        XCTAssertThrowsError(try WireMessage.decode(type: unit, payload: try unitPayload(width: 5000))) {
            XCTAssertEqual($0 as? WireError, .limitExceeded(message: .unit, field: "width", value: 5000, max: 1024))
        }
        XCTAssertThrowsError(try WireMessage.decode(type: unit, payload: try unitPayload(frames: 0))) {
            XCTAssertEqual($0 as? WireError, .invalidField(message: .unit, field: "frames", reason: "must be at least 1, got 0"))
        }
        XCTAssertThrowsError(try WireMessage.decode(type: unit, payload: try unitPayload(windows: 65))) {
            XCTAssertEqual($0 as? WireError, .limitExceeded(message: .unit, field: "windowCount", value: 65, max: 64))
        }
        XCTAssertThrowsError(try WireMessage.decode(type: unit, payload: try unitPayload(width: 1024, height: 1024, frames: 15, windows: 64))) {
            XCTAssertEqual($0 as? WireError, .limitExceeded(message: .unit, field: "rawByteCount", value: 64 * 15 * 1024 * 1024 * 3, max: 56 << 20))
        }
        XCTAssertThrowsError(try WireMessage.decode(type: unit, payload: try unitPayload(rawCount: 1))) {
            XCTAssertEqual($0 as? WireError, .invalidField(message: .unit, field: "rawByteCount", reason: "expected 864 (2 windows of 3 x 6 x 8 x 3), got 1"))
        }
        XCTAssertThrowsError(try WireMessage.decode(type: unit, payload: try unitPayload(encoding: 9))) {
            XCTAssertEqual($0 as? WireError, .invalidField(message: .unit, field: "encoding", reason: "unknown crop encoding 9"))
        }
        XCTAssertThrowsError(try WireMessage.decode(type: unit, payload: try unitPayload(crops: [1, 2, 3]))) {
            XCTAssertEqual($0 as? WireError, .invalidField(message: .unit, field: "crops", reason: "raw crops must be 864 bytes, got 3"))
        }
    }

    func testModelChunkBounds() throws {
        let past = WireMessage.modelChunk(ModelChunk(sha256: WireSamples.digest, offset: 105, totalByteCount: 110, bytes: Array(0..<10)))
        XCTAssertThrowsError(try past.encodePayload()) {
            XCTAssertEqual($0 as? WireError, .invalidField(message: .modelChunk, field: "offset", reason: "chunk 105 + 10 bytes runs past the model's 110 bytes"))
        }
        var w = WireWriter(.modelChunk)
        w.digest(WireSamples.digest); w.u64(0); w.u64(UInt64.max); w.u32(0)
        XCTAssertThrowsError(try WireMessage.decode(type: MessageType.modelChunk.rawValue, payload: w.bytes)) {
            XCTAssertEqual($0 as? WireError, .limitExceeded(message: .modelChunk, field: "totalByteCount", value: UInt64.max, max: 8 << 30))
        }
        XCTAssertTrue(ModelChunk(sha256: WireSamples.digest, offset: 100, totalByteCount: 110, bytes: Array(0..<10)).isLast)
    }

    func testErrorsReadLikeSentences() {
        let error = WireError.limitExceeded(message: .unit, field: "windowCount", value: 65, max: 64)
        XCTAssertEqual(error.description, "UNIT field windowCount is 65, at most 64 allowed")
        XCTAssertEqual(WireError.truncated(message: .result, field: "keypoints", needed: 12, remaining: 4).description,
                       "RESULT is truncated at field keypoints: needs 12 bytes, 4 left")
    }
}
