// What the coordinator's journal holds: the job's fingerprint first, then one record per
// accepted unit (with its keypoints) and per failed unit. Units are named by video name and
// unit index, not by position in a scan, so a resumed or watching coordinator that finds more
// videos still matches its records. Little-endian, length-prefixed, checked on decode.
import PoseCore

public enum JournalRecord: Equatable, Sendable {
    /// The job this state belongs to (archive, options, weights); a resumed run must match it.
    case job(fingerprint: String)
    /// A unit's result; `kernelClass` is the class of the worker that computed it (the job report
    /// lists it per video, also after a restart). Records of earlier versions have none.
    case accepted(video: String, unit: Int, keypoints: [WindowKeypoints], kernelClass: String?)
    case failed(video: String, unit: Int, reason: String)

    /// Limits on decoded fields: a record never makes us allocate more than these.
    public static let stringBytesMax = 64 * 1024
    public static let windowsMax = 4096
    public static let valuesPerWindowMax = 64 * 3

    public func encoded() -> [UInt8] {
        var bytes: [UInt8] = []
        func u32(_ value: Int) {
            let v = UInt32(truncatingIfNeeded: value)
            bytes += [UInt8(v & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v >> 16 & 0xFF), UInt8(v >> 24)]
        }
        func string(_ text: String) {
            let utf8 = Array(text.utf8.prefix(JournalRecord.stringBytesMax))
            u32(utf8.count)
            bytes += utf8
        }
        switch self {
        case .job(let fingerprint):
            bytes.append(1)
            string(fingerprint)
        case .accepted(let video, let unit, let keypoints, let kernelClass):
            // Type 2 (no class) stays what earlier versions wrote; type 4 adds the class after the unit.
            bytes.append(kernelClass == nil ? 2 : 4)
            string(video)
            u32(unit)
            if let kernelClass { string(kernelClass) }
            u32(keypoints.count)
            u32(keypoints.first?.values.count ?? 0)
            for window in keypoints {
                precondition(window.values.count == keypoints[0].values.count, "windows of one unit hold the same joints")
                for value in window.values { u32(Int(value.bitPattern)) }
            }
        case .failed(let video, let unit, let reason):
            bytes.append(3)
            string(video)
            u32(unit)
            string(reason)
        }
        return bytes
    }

    public struct DecodeError: Error, CustomStringConvertible {
        public let description: String
    }

    public static func decode(_ bytes: [UInt8]) throws -> JournalRecord {
        var offset = 0
        func u32() throws -> Int {
            guard bytes.count - offset >= 4 else { throw DecodeError(description: "record truncated at byte \(offset)") }
            let value = UInt32(bytes[offset]) | UInt32(bytes[offset + 1]) << 8 | UInt32(bytes[offset + 2]) << 16 | UInt32(bytes[offset + 3]) << 24
            offset += 4
            return Int(value)
        }
        func count(_ field: String, max: Int) throws -> Int {
            let value = try u32()
            guard value <= max else { throw DecodeError(description: "\(field) is \(value), at most \(max)") }
            return value
        }
        func string(_ field: String) throws -> String {
            let length = try count(field, max: stringBytesMax)
            guard bytes.count - offset >= length else { throw DecodeError(description: "\(field) truncated") }
            defer { offset += length }
            return String(decoding: bytes[offset..<offset + length], as: UTF8.self)
        }
        guard let type = bytes.first else { throw DecodeError(description: "empty record") }
        offset = 1
        let record: JournalRecord
        switch type {
        case 1:
            record = .job(fingerprint: try string("fingerprint"))
        case 2, 4:
            let video = try string("video")
            let unit = try u32()
            let kernelClass = type == 4 ? try string("kernel class") : nil
            let windows = try count("windows", max: windowsMax)
            let values = try count("values", max: valuesPerWindowMax)
            guard bytes.count - offset == windows * values * 4 else {
                throw DecodeError(description: "keypoints need \(windows * values * 4) bytes, record has \(bytes.count - offset)")
            }
            var keypoints: [WindowKeypoints] = []
            keypoints.reserveCapacity(windows)
            for _ in 0..<windows {
                var window: [Float] = []
                window.reserveCapacity(values)
                for _ in 0..<values { window.append(Float(bitPattern: UInt32(try u32()))) }
                keypoints.append(WindowKeypoints(values: window))
            }
            record = .accepted(video: video, unit: unit, keypoints: keypoints, kernelClass: kernelClass)
        case 3:
            let video = try string("video")
            let unit = try u32()
            record = .failed(video: video, unit: unit, reason: try string("reason"))
        default:
            throw DecodeError(description: "unknown record type \(type)")
        }
        guard offset == bytes.count else { throw DecodeError(description: "\(bytes.count - offset) bytes after the record") }
        return record
    }
}
