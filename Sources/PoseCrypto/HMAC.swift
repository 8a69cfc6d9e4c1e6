// HMAC-SHA256 (RFC 2104) for the cluster's challenge-response handshake, and a
// comparison whose time does not depend on where two MACs first differ.

/// HMAC-SHA256, streaming: `update` the message, then `finalize`.
public struct HMACSHA256: Sendable {
    private var inner: SHA256
    private var outer: SHA256

    public init(key: [UInt8]) {
        var block = key.count > SHA256.blockByteCount ? SHA256.hash(key).bytes : key
        block.append(contentsOf: repeatElement(0, count: SHA256.blockByteCount - block.count))
        inner = SHA256()
        inner.update(block.map { $0 ^ 0x36 })
        outer = SHA256()
        outer.update(block.map { $0 ^ 0x5c })
    }

    public mutating func update(_ bytes: [UInt8]) { inner.update(bytes) }
    public mutating func update(_ bytes: UnsafeRawBufferPointer) { inner.update(bytes) }

    public func finalize() -> [UInt8] {
        var outer = self.outer
        outer.update(inner.finalize().bytes)
        return outer.finalize().bytes
    }

    /// The 32-byte authentication code of `message` under `key`.
    public static func authenticationCode(for message: [UInt8], key: [UInt8]) -> [UInt8] {
        var mac = HMACSHA256(key: key)
        mac.update(message)
        return mac.finalize()
    }
}

/// True when `a` and `b` hold the same bytes. For equal lengths the time taken does not
/// depend on the contents, so comparing a received MAC leaks nothing about the expected one.
/// Lengths are not secret (a MAC is always 32 bytes): different lengths return false at once.
public func constantTimeEquals(_ a: [UInt8], _ b: [UInt8]) -> Bool {
    guard a.count == b.count else { return false }
    var difference: UInt8 = 0
    for index in 0..<a.count { difference |= a[index] ^ b[index] }
    return difference == 0
}
