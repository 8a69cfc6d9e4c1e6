// CRC32C against the check value and the iSCSI vectors (RFC 3720 B.4), and the
// slicing-by-8 kernel against the bit-at-a-time reference.
import PoseCore
import XCTest
@testable import PoseCrypto

final class CRC32CTests: XCTestCase {
    func testCheckValueAndISCSIVectors() {
        XCTAssertEqual(CRC32C.checksum(Array("123456789".utf8)), 0xE306_9283)
        XCTAssertEqual(CRC32C.checksum([UInt8](repeating: 0, count: 32)), 0x8A91_36AA)
        XCTAssertEqual(CRC32C.checksum([UInt8](repeating: 0xff, count: 32)), 0x62A8_AB43)
        XCTAssertEqual(CRC32C.checksum(Array(0...31)), 0x46DD_794E)
        XCTAssertEqual(CRC32C.checksum(Array((0...31).reversed())), 0x113F_DB5C)
        let readPDU: [UInt8] = [
            0x01, 0xc0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
            0x14, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x18,
            0x28, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        ]
        XCTAssertEqual(CRC32C.checksum(readPDU), 0xD996_3A56)
        XCTAssertEqual(CRC32C.checksum([]), 0)
    }

    func testSlicingMatchesReferenceAndStreaming() {
        var generator = SplitMix64(seed: 42)
        for length in [0, 1, 7, 8, 9, 15, 16, 17, 63, 64, 65, 1000, 4099] {
            let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let expected = CRC32C.referenceChecksum(bytes)
            XCTAssertEqual(CRC32C.checksum(bytes), expected, "length \(length)")
            var running = CRC32C()
            var index = 0
            while index < length {
                let step = Int.random(in: 1...13, using: &generator)
                running.update(Array(bytes[index..<min(length, index + step)]))
                index += step
            }
            XCTAssertEqual(running.value, expected, "streamed, length \(length)")
        }
    }
}
