// HMAC-SHA256 against RFC 4231 test cases 1-7, and the constant-time comparison.
import XCTest
@testable import PoseCrypto

final class HMACTests: XCTestCase {
    private func mac(_ key: [UInt8], _ data: [UInt8]) -> String {
        hexString(HMACSHA256.authenticationCode(for: data, key: key))
    }

    func testRFC4231() {
        XCTAssertEqual(mac([UInt8](repeating: 0x0b, count: 20), Array("Hi There".utf8)),
                       "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7")
        XCTAssertEqual(mac(Array("Jefe".utf8), Array("what do ya want for nothing?".utf8)),
                       "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
        XCTAssertEqual(mac([UInt8](repeating: 0xaa, count: 20), [UInt8](repeating: 0xdd, count: 50)),
                       "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe")
        XCTAssertEqual(mac(Array(1...25), [UInt8](repeating: 0xcd, count: 50)),
                       "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b")
        // Case 5 is specified truncated to 128 bits.
        XCTAssertEqual(String(mac([UInt8](repeating: 0x0c, count: 20), Array("Test With Truncation".utf8)).prefix(32)),
                       "a3b6167473100ee06e0c796c2955552b")
        XCTAssertEqual(mac([UInt8](repeating: 0xaa, count: 131), Array("Test Using Larger Than Block-Size Key - Hash Key First".utf8)),
                       "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54")
        let case7 = "This is a test using a larger than block-size key and a larger than block-size data. The key needs to be hashed before being used by the HMAC algorithm."
        XCTAssertEqual(mac([UInt8](repeating: 0xaa, count: 131), Array(case7.utf8)),
                       "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2")
    }

    func testStreamingMatchesOneShot() {
        let key = Array("cluster token".utf8)
        let message = Array(repeating: Array("nonce-and-role".utf8), count: 20).flatMap { $0 }
        var streaming = HMACSHA256(key: key)
        streaming.update(Array(message[..<100]))
        streaming.update(Array(message[100...]))
        XCTAssertEqual(streaming.finalize(), HMACSHA256.authenticationCode(for: message, key: key))
    }

    func testConstantTimeEquals() {
        XCTAssertTrue(constantTimeEquals([1, 2, 3], [1, 2, 3]))
        XCTAssertFalse(constantTimeEquals([1, 2, 3], [1, 2, 4]))
        XCTAssertFalse(constantTimeEquals([0, 2, 3], [1, 2, 3]))
        XCTAssertFalse(constantTimeEquals([1, 2], [1, 2, 3]))
        XCTAssertTrue(constantTimeEquals([], []))
    }
}
