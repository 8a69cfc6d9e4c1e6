// Handshake proofs bind the token, both nonces and the role; the limits check
// their relations at start-up.
import XCTest
import PoseCrypto
@testable import PoseWire

final class HandshakeAndLimitsTests: XCTestCase {
    let token = Array("s3cret cluster token".utf8)
    let challengeNonce = [UInt8](repeating: 1, count: 32)
    let helloNonce = [UInt8](repeating: 2, count: 32)

    func testPeerProofBindsTokenNoncesRoleAndName() {
        let proof = HandshakeProof.peer(token: token, role: .worker, name: "w1", challengeNonce: challengeNonce, helloNonce: helloNonce)
        XCTAssertEqual(proof.count, 32)
        XCTAssertTrue(HandshakeProof.verify(proof, expected: HandshakeProof.peer(token: token, role: .worker, name: "w1",
                                                                                 challengeNonce: challengeNonce, helloNonce: helloNonce)))
        let variants = [
            HandshakeProof.peer(token: Array("other".utf8), role: .worker, name: "w1", challengeNonce: challengeNonce, helloNonce: helloNonce),
            HandshakeProof.peer(token: token, role: .statusClient, name: "w1", challengeNonce: challengeNonce, helloNonce: helloNonce),
            HandshakeProof.peer(token: token, role: .worker, name: "w2", challengeNonce: challengeNonce, helloNonce: helloNonce),
            HandshakeProof.peer(token: token, role: .worker, name: "w1", challengeNonce: helloNonce, helloNonce: helloNonce),
            HandshakeProof.peer(token: token, role: .worker, name: "w1", challengeNonce: challengeNonce, helloNonce: challengeNonce),
        ]
        for variant in variants { XCTAssertFalse(HandshakeProof.verify(variant, expected: proof)) }
    }

    func testCoordinatorProofCannotBeReflected() {
        let coordinator = HandshakeProof.coordinator(token: token, sessionID: 7, challengeNonce: challengeNonce, helloNonce: helloNonce)
        XCTAssertNotEqual(coordinator, HandshakeProof.coordinator(token: token, sessionID: 8, challengeNonce: challengeNonce, helloNonce: helloNonce))
        XCTAssertNotEqual(coordinator, HandshakeProof.peer(token: token, role: .worker, name: "", challengeNonce: challengeNonce, helloNonce: helloNonce))
        XCTAssertNotEqual(coordinator, HandshakeProof.none)
    }

    func testProofIsTheDocumentedHMAC() {
        // docs/PROTOCOL.md spells the MAC input out; this keeps the two in step.
        var message = Array("posecluster/\(WireProtocol.version) peer".utf8) + [1, 2, 0, 0, 0] + Array("w1".utf8)
        message += challengeNonce + helloNonce
        XCTAssertEqual(HandshakeProof.peer(token: token, role: .worker, name: "w1", challengeNonce: challengeNonce, helloNonce: helloNonce),
                       HMACSHA256.authenticationCode(for: message, key: token))
    }

    func testDefaultLimitsAreValid() throws {
        try WireLimits.default.validate()
    }

    func testLimitRelationsAreChecked() {
        func assertInvalid(_ change: (inout WireLimits) -> Void, mentions word: String, line: UInt = #line) {
            var limits = WireLimits()
            change(&limits)
            XCTAssertThrowsError(try limits.validate(), line: line) { error in
                guard case .invalidLimits(let reason)? = error as? WireError else { return XCTFail("\(error)", line: line) }
                XCTAssertTrue(reason.contains(word), "\(reason)", line: line)
            }
        }
        assertInvalid({ $0.frameBytesMax = 100 }, mentions: "frameBytesMax")
        assertInvalid({ $0.frameBytesMax = 1 << 33 }, mentions: "u32 length")
        assertInvalid({ $0.jointsMax = 0 }, mentions: "jointsMax")
        assertInvalid({ $0.modelChunkBytesMax = 64 << 20 }, mentions: "modelChunkBytesMax")
        assertInvalid({ $0.statusBytesMax = 64 << 20 }, mentions: "statusBytesMax")
        assertInvalid({ $0.unitRawBytesMax = 64 << 20 }, mentions: "unitRawBytesMax")
        assertInvalid({ $0.cropSideMax = 4096 }, mentions: "largest geometry")
        assertInvalid({ $0.windowsPerUnitMax = 100_000; $0.jointsMax = 64 }, mentions: "RESULT")
    }
}
