// CRC32C (Castagnoli, the iSCSI polynomial), slicing-by-8. It guards every wire
// frame and every record of the coordinator's journal against corruption.

/// CRC32C of byte strings, one-shot or running:
///
///     var crc = CRC32C()
///     crc.update(part1); crc.update(part2)
///     let value = crc.value            // == CRC32C.checksum(part1 + part2)
public struct CRC32C: Sendable, Equatable {
    /// Reflected Castagnoli polynomial 0x1EDC6F41.
    public static let polynomial: UInt32 = 0x82F6_3B78

    private var state: UInt32 = 0xFFFF_FFFF

    public init() {}

    /// The checksum of everything given so far.
    public var value: UInt32 { state ^ 0xFFFF_FFFF }

    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress else { return }
        var crc = state
        var index = 0
        let count = bytes.count
        Self.tables.withUnsafeBufferPointer { t in
            while count - index >= 8 {
                let word = UInt64(littleEndian: base.loadUnaligned(fromByteOffset: index, as: UInt64.self)) ^ UInt64(crc)
                crc = t[7 * 256 + Int(word & 0xff)] ^ t[6 * 256 + Int((word >> 8) & 0xff)]
                    ^ t[5 * 256 + Int((word >> 16) & 0xff)] ^ t[4 * 256 + Int((word >> 24) & 0xff)]
                    ^ t[3 * 256 + Int((word >> 32) & 0xff)] ^ t[2 * 256 + Int((word >> 40) & 0xff)]
                    ^ t[1 * 256 + Int((word >> 48) & 0xff)] ^ t[Int(word >> 56)]
                index += 8
            }
            while index < count {
                crc = t[Int((crc ^ UInt32(base.load(fromByteOffset: index, as: UInt8.self))) & 0xff)] ^ (crc >> 8)
                index += 1
            }
        }
        state = crc
    }

    public mutating func update(_ bytes: [UInt8]) { bytes.withUnsafeBytes { update($0) } }

    public static func checksum(_ bytes: [UInt8]) -> UInt32 {
        var crc = CRC32C()
        crc.update(bytes)
        return crc.value
    }

    public static func checksum(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        var crc = CRC32C()
        crc.update(bytes)
        return crc.value
    }

    /// The plain bit-at-a-time definition, kept beside the fast one for the tests.
    public static func referenceChecksum(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = (crc & 1) != 0 ? (crc >> 1) ^ polynomial : crc >> 1 }
        }
        return crc ^ 0xFFFF_FFFF
    }

    /// Table k maps a byte to its CRC after k further zero bytes (slicing-by-8).
    private static let tables: [UInt32] = {
        var t = [UInt32](repeating: 0, count: 8 * 256)
        for n in 0..<256 {
            var crc = UInt32(n)
            for _ in 0..<8 { crc = (crc & 1) != 0 ? (crc >> 1) ^ polynomial : crc >> 1 }
            t[n] = crc
        }
        for k in 1..<8 {
            for n in 0..<256 {
                let previous = t[(k - 1) * 256 + n]
                t[k * 256 + n] = t[Int(previous & 0xff)] ^ (previous >> 8)
            }
        }
        return t
    }()
}
