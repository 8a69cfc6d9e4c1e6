// The proofs of the challenge-response handshake. Each side proves it knows
// the cluster token with an HMAC-SHA256 over both nonces and a label naming
// its role, so a proof cannot be replayed on another connection or reflected
// back as the other side's.
import PoseCrypto

public enum HandshakeProof {
    /// What a worker (or status client) sends in AUTH:
    /// HMAC-SHA256(token, "posecluster/1 peer" | role u8 | u32 name length | name | challenge nonce | hello nonce).
    public static func peer(token: [UInt8], role: PeerRole, name: String,
                            challengeNonce: [UInt8], helloNonce: [UInt8]) -> [UInt8] {
        var mac = HMACSHA256(key: token)
        mac.update(Array("posecluster/\(WireProtocol.version) peer".utf8))
        mac.update([role.rawValue])
        let nameBytes = Array(name.utf8)
        mac.update(withUnsafeBytes(of: UInt32(truncatingIfNeeded: nameBytes.count).littleEndian, Array.init))
        mac.update(nameBytes)
        mac.update(challengeNonce)
        mac.update(helloNonce)
        return mac.finalize()
    }

    /// What the coordinator sends in WELCOME:
    /// HMAC-SHA256(token, "posecluster/1 coordinator" | session id u64 | hello nonce | challenge nonce).
    public static func coordinator(token: [UInt8], sessionID: UInt64,
                                   challengeNonce: [UInt8], helloNonce: [UInt8]) -> [UInt8] {
        var mac = HMACSHA256(key: token)
        mac.update(Array("posecluster/\(WireProtocol.version) coordinator".utf8))
        mac.update(withUnsafeBytes(of: sessionID.littleEndian, Array.init))
        mac.update(helloNonce)
        mac.update(challengeNonce)
        return mac.finalize()
    }

    /// The proof field when no token is configured.
    public static let none = [UInt8](repeating: 0, count: WireProtocol.proofByteCount)

    /// Checks a received proof in constant time.
    public static func verify(_ received: [UInt8], expected: [UInt8]) -> Bool {
        constantTimeEquals(received, expected)
    }
}
