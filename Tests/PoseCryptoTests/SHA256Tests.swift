// SHA-256 against the FIPS 180-4 / NIST example vectors, and streaming in any
// chunking against one-shot.
import PoseCore
import XCTest
@testable import PoseCrypto

final class SHA256Tests: XCTestCase {
    func testNISTVectors() {
        XCTAssertEqual(SHA256.hash(Array("abc".utf8)).hex,
                       "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        XCTAssertEqual(SHA256.hash([]).hex,
                       "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        XCTAssertEqual(SHA256.hash(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)).hex,
                       "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        XCTAssertEqual(SHA256.hash(Array("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu".utf8)).hex,
                       "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1")
    }

    func testMillionA() {
        let expected = "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"
        XCTAssertEqual(SHA256.hash([UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000)).hex, expected)
        // The same bytes fed in uneven pieces, crossing block boundaries every which way.
        var hasher = SHA256()
        var fed = 0
        var piece = 1
        while fed < 1_000_000 {
            let count = min(piece, 1_000_000 - fed)
            hasher.update([UInt8](repeating: UInt8(ascii: "a"), count: count))
            fed += count
            piece = piece * 7 % 1000 + 1
        }
        XCTAssertEqual(hasher.finalize().hex, expected)
    }

    func testStreamingMatchesOneShotAtEveryPaddingLength() {
        // Lengths 0...130 cover every position of the padding marker and the 56-byte boundary.
        var generator = SplitMix64(seed: 7)
        for length in 0...130 {
            let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let whole = SHA256.hash(bytes)
            var hasher = SHA256()
            for byte in bytes { hasher.update([byte]) }
            XCTAssertEqual(hasher.finalize(), whole, "length \(length)")
        }
    }

    func testFinalizeLeavesTheHasherUsable() {
        var hasher = SHA256()
        hasher.update(Array("ab".utf8))
        _ = hasher.finalize()
        hasher.update(Array("c".utf8))
        XCTAssertEqual(hasher.finalize().hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }

    func testDigestHexRoundTrip() {
        let digest = SHA256.hash(Array("abc".utf8))
        XCTAssertEqual(SHA256Digest(hex: digest.hex), digest)
        XCTAssertEqual(SHA256Digest(hex: digest.hex.uppercased()), digest)
        XCTAssertNil(SHA256Digest(hex: "abc"))
        XCTAssertNil(SHA256Digest(hex: String(repeating: "g", count: 64)))
    }
}
