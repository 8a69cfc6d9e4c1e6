// The streaming decoder fed whole, byte by byte and in seeded random chunks;
// header errors (lengths, flags, checksum, foreign protocols) asserted one by one.
import XCTest
import PoseCore
@testable import PoseWire

final class FrameDecoderTests: XCTestCase {
    private func decodeAll(_ bytes: [UInt8], chunks: [Int]) throws -> [WireMessage] {
        var decoder = FrameDecoder()
        var messages: [WireMessage] = []
        var index = 0
        for chunk in chunks {
            decoder.feed(Array(bytes[index..<min(bytes.count, index + chunk)]))
            index += chunk
            while let message = try decoder.next() {
                messages.append(message)
                decoder.invariants()
            }
            decoder.invariants()
        }
        XCTAssertEqual(decoder.state, .readingHeader)
        XCTAssertEqual(decoder.bufferedByteCount, 0)
        return messages
    }

    func testEveryMessageWholeByteByByteAndInRandomChunks() throws {
        let messages = WireSamples.all()
        XCTAssertEqual(Set(messages.map(\.type)), Set(MessageType.allCases), "a sample of every message type")
        var stream: [UInt8] = []
        for message in messages {
            let frame = try message.encode()
            XCTAssertEqual(try decodeAll(frame, chunks: [frame.count]), [message], "\(message.type) whole")
            XCTAssertEqual(try decodeAll(frame, chunks: Array(repeating: 1, count: frame.count)), [message], "\(message.type) byte by byte")
            stream += frame
        }
        XCTAssertEqual(try decodeAll(stream, chunks: [stream.count]), messages)
        var generator = SplitMix64(seed: 2024)
        for _ in 0..<20 {
            var chunks: [Int] = []
            var total = 0
            while total < stream.count {
                let chunk = Int.random(in: 1...300, using: &generator)
                chunks.append(chunk)
                total += chunk
            }
            XCTAssertEqual(try decodeAll(stream, chunks: chunks), messages)
        }
    }

    func testCompressedFramesRoundTrip() throws {
        let json = "{\"videos\": [" + Array(repeating: "{\"name\": \"video\", \"done\": false}", count: 200).joined(separator: ",") + "]}"
        let message = WireMessage.status(StatusReport(json: json))
        let frame = try message.encode(compression: .standard)
        XCTAssertEqual(frame[5] & FrameFlags.zstd.rawValue, FrameFlags.zstd.rawValue, "a large repetitive payload is compressed")
        XCTAssertLessThan(frame.count, json.utf8.count / 4)
        XCTAssertEqual(try decodeAll(frame, chunks: [7, 1, frame.count]), [message])
        // Tiny payloads are not worth compressing.
        XCTAssertEqual(try WireMessage.credit(Credit(units: 1)).encode(compression: .standard)[5], 0)
    }

    func testEverySingleBitFlipIsRejected() throws {
        // CRC32C catches every single-bit error in type, flags, checksum and payload; a flipped
        // length either waits for bytes that never come, or fails the checksum or a limit.
        for message in [WireSamples.all()[0], WireSamples.all()[13], .statusRequest] {
            let frame = try message.encode()
            for bit in 0..<(frame.count * 8) {
                var corrupted = frame
                corrupted[bit / 8] ^= 1 << UInt8(bit % 8)
                var decoder = FrameDecoder()
                decoder.feed(corrupted)
                switch decoder.nextFrame() {
                case .frame(let frame):
                    XCTFail("bit \(bit) of \(message.type): a corrupted frame was accepted: \(frame)")
                case .needMoreBytes:
                    XCTAssertLessThan(bit, 32, "only a flipped length makes the decoder wait")
                    XCTAssertEqual(decoder.state.isReadingPayload, true, "bit \(bit): waiting for the payload")
                case .invalid(let error):
                    switch (bit < 32, error) {
                    case (true, .frameTooLarge(let length, _)):
                        XCTAssertEqual(length, UInt64(readLength(corrupted)), "bit \(bit)")
                    case (true, .frameTooShort), (true, .foreignProtocol), (_, .checksumMismatch):
                        break
                    default:
                        XCTFail("bit \(bit) of \(message.type): unexpected \(error)")
                    }
                }
                decoder.invariants()
            }
        }
    }

    private func readLength(_ frame: [UInt8]) -> UInt32 {
        UInt32(frame[0]) << 24 | UInt32(frame[1]) << 16 | UInt32(frame[2]) << 8 | UInt32(frame[3])
    }

    func testRandomStreamsNeverTrap() throws {
        // Random bytes, and valid frames of every type with random payloads, in random chunks.
        var generator = SplitMix64(seed: 77)
        for round in 0..<400 {
            var stream: [UInt8]
            if round % 2 == 0 {
                stream = (0..<Int.random(in: 0...64, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            } else {
                let payload = (0..<Int.random(in: 0...80, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
                stream = try Frame.encode(type: UInt8.random(in: 0...17, using: &generator), flags: [], payload: payload)
            }
            var decoder = FrameDecoder()
            var index = 0
            while index < stream.count {
                let step = Int.random(in: 1...9, using: &generator)
                decoder.feed(Array(stream[index..<min(stream.count, index + step)]))
                index += step
                do { while try decoder.next() != nil {} } catch is WireError { break }
                decoder.invariants()
            }
        }
    }

    func testHugeLengthIsRejectedFromTheFourLengthBytesAlone() {
        var decoder = FrameDecoder()
        decoder.feed([0xFF, 0xFF, 0xFF])
        XCTAssertEqual(decoder.nextFrame(), .needMoreBytes)
        decoder.feed([0xFF])
        XCTAssertEqual(decoder.nextFrame(), .invalid(.frameTooLarge(length: 0xFFFF_FFFF, max: 64 << 20)))
        XCTAssertEqual(decoder.bufferedByteCount, 0, "nothing kept after the error")
        // One byte over the configured maximum.
        var limits = WireLimits()
        limits.frameBytesMax = 5000
        var small = FrameDecoder(limits: limits)
        small.feed([0, 0, 0x13, 0x89])
        XCTAssertEqual(small.nextFrame(), .invalid(.frameTooLarge(length: 5001, max: 5000)))
    }

    func testTooShortLength() {
        var decoder = FrameDecoder()
        decoder.feed([0, 0, 0, 5, 1, 0, 0, 0, 0, 0])
        XCTAssertEqual(decoder.nextFrame(), .invalid(.frameTooShort(length: 5)))
    }

    func testForeignProtocolsAreNamed() {
        var http = FrameDecoder()
        http.feed(Array("GET /metrics HTTP/1.1\r\n".utf8))
        XCTAssertEqual(http.nextFrame(), .invalid(.foreignProtocol("HTTP")))
        var tls = FrameDecoder()
        tls.feed([0x16, 0x03, 0x01, 0x02, 0x00])
        XCTAssertEqual(tls.nextFrame(), .invalid(.foreignProtocol("TLS")))
        XCTAssertTrue(WireError.foreignProtocol("HTTP").description.contains("not the posecluster protocol"))
    }

    func testUnknownFlagsAndTypeWithAValidChecksum() throws {
        var decoder = FrameDecoder()
        decoder.feed(try Frame.encode(type: MessageType.heartbeat.rawValue, flags: FrameFlags(rawValue: 0x80), payload: [0, 0, 0, 0, 0, 0, 0, 0]))
        XCTAssertEqual(decoder.nextFrame(), .invalid(.unknownFlags(0x80)))
        var unknownType = FrameDecoder()
        unknownType.feed(try Frame.encode(type: 200, flags: [], payload: []))
        XCTAssertThrowsError(try unknownType.next()) { XCTAssertEqual($0 as? WireError, .unknownMessageType(200)) }
        // A message number's payload that does not fit its layout is a typed error too.
        var wrongPayload = FrameDecoder()
        wrongPayload.feed(try Frame.encode(type: MessageType.heartbeat.rawValue, flags: [], payload: [1, 2, 3]))
        XCTAssertThrowsError(try wrongPayload.next()) {
            XCTAssertEqual($0 as? WireError, .truncated(message: .heartbeat, field: "sequence", needed: 8, remaining: 3))
        }
    }

    func testFailureIsSticky() throws {
        var decoder = FrameDecoder()
        decoder.feed([0, 0, 0, 1])
        XCTAssertThrowsError(try decoder.next())
        decoder.feed(try WireMessage.credit(Credit(units: 1)).encode())
        XCTAssertEqual(decoder.nextFrame(), .invalid(.frameTooShort(length: 1)), "no resynchronisation after an error")
    }

    func testZstdBombInAFrameIsRejectedBeforeAllocating() throws {
        // A zstd frame of 100 MB of zeros is a few KB; its declared content size is over the limit.
        let bomb = Zstd.compress([UInt8](repeating: 0, count: 100 << 20), level: 1)
        XCTAssertLessThan(bomb.count, 64 << 10)
        var decoder = FrameDecoder()
        decoder.feed(try Frame.encode(type: MessageType.status.rawValue, flags: .zstd, payload: bomb))
        XCTAssertEqual(decoder.nextFrame(), .invalid(.decompressedTooLarge(what: "frame payload (type 16)", declared: 100 << 20, max: 64 << 20)))
        // Garbage with the zstd flag.
        var garbage = FrameDecoder()
        garbage.feed(try Frame.encode(type: MessageType.status.rawValue, flags: .zstd, payload: [1, 2, 3, 4, 5, 6, 7, 8]))
        guard case .invalid(.decompressionFailed) = garbage.nextFrame() else { return XCTFail("garbage zstd accepted") }
    }

    func testHeaderLayoutIsBigEndianLengthTypeFlagsChecksum() throws {
        let frame = try WireMessage.credit(Credit(units: 0x0102_0304)).encode()
        XCTAssertEqual(frame.count, 14)
        XCTAssertEqual(Array(frame[0..<4]), [0, 0, 0, 10], "length counts type, flags, crc and the 4-byte payload")
        XCTAssertEqual(frame[4], 7)
        XCTAssertEqual(frame[5], 0)
        XCTAssertEqual(Array(frame[10..<14]), [4, 3, 2, 1], "payload numbers are little-endian")
        let crc = UInt32(frame[6]) << 24 | UInt32(frame[7]) << 16 | UInt32(frame[8]) << 8 | UInt32(frame[9])
        XCTAssertEqual(crc, Frame.checksum(type: 7, flags: 0, payload: [4, 3, 2, 1]))
    }

    func testOversizedMessageIsRefusedWhenEncoding() {
        var limits = WireLimits()
        limits.frameBytesMax = 4096
        limits.statusBytesMax = 1 << 20
        let json = String(repeating: "x", count: 5000)
        XCTAssertThrowsError(try WireMessage.status(StatusReport(json: json)).encode(limits: limits)) {
            XCTAssertEqual($0 as? WireError, .frameTooLarge(length: 5010, max: 4096))
        }
    }
}

extension FrameDecoder.State {
    var isReadingPayload: Bool {
        if case .readingPayload = self { return true }
        return false
    }
}

final class MagicTests: XCTestCase {
    func testMagicReadsPCLUOnTheWire() throws {
        let hello = try WireSamples.all()[0].encodePayload()
        XCTAssertEqual(Array(hello[0..<4]), Array("PCLU".utf8))
        XCTAssertEqual(Array(hello[4..<6]), [2, 0], "version 2, little-endian")
    }
}

final class InflationBudgetTests: XCTestCase {
    /// A STATUS frame whose payload is zstd and inflates to about `bytes` bytes.
    private func compressedStatus(_ bytes: Int) throws -> [UInt8] {
        let frame = try WireMessage.status(StatusReport(json: String(repeating: " ", count: bytes))).encode(compression: .standard)
        XCTAssertEqual(frame[5], FrameFlags.zstd.rawValue, "the sample must be compressed")
        return frame
    }

    func testNoBudgetRefusesCompressedFramesAndABudgetIsSpentBeforeInflating() throws {
        var closed = FrameDecoder()
        closed.inflationBytesAllowed = 0
        closed.feed(try compressedStatus(100_000))
        XCTAssertThrowsError(try closed.next()) { error in
            XCTAssertEqual(error as? WireError, .compressionNotAllowed(type: MessageType.status.rawValue))
        }
        // Uncompressed frames still pass with no budget (HELLO and AUTH are small).
        var plain = FrameDecoder()
        plain.inflationBytesAllowed = 0
        plain.feed(try WireMessage.heartbeat(Heartbeat(sequence: 1)).encode())
        XCTAssertEqual(try plain.next(), .heartbeat(Heartbeat(sequence: 1)))

        var budgeted = FrameDecoder()
        budgeted.inflationBytesAllowed = 250_000
        budgeted.feed(try compressedStatus(100_000))
        XCTAssertNotNil(try budgeted.next())
        let left = try XCTUnwrap(budgeted.inflationBytesAllowed)
        XCTAssertLessThan(left, 150_001)
        XCTAssertGreaterThan(left, 149_000)
        budgeted.feed(try compressedStatus(200_000))
        XCTAssertThrowsError(try budgeted.next(), "a frame declaring more than what is left is refused before inflating") { error in
            guard case .decompressedTooLarge(_, let declared?, let max)? = error as? WireError else { return XCTFail("\(error)") }
            XCTAssertGreaterThan(Int(declared), max)
            XCTAssertEqual(max, left)
        }
    }
}
