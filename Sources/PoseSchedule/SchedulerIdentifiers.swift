// Identifiers the scheduler deals in: work units, workers, leases.
// They are plain values so that the coordinator, the journal, the wire codec and the
// simulation can all name the same thing without sharing any state.

/// One work unit: up to 16 consecutive key frames of one person track of one video.
/// Ordered by video, then by unit index, which is the order the scheduler leases
/// queued units in (older videos finish first, so the coordinator's merge buffers stay small).
public struct UnitID: Hashable, Comparable, Codable, Sendable, CustomStringConvertible {
    /// Index of the video in the archive's scan order.
    public var video: Int
    /// Index of the unit within its video, from 0.
    public var index: Int

    public init(video: Int, index: Int) {
        self.video = video
        self.index = index
    }

    public static func < (lhs: UnitID, rhs: UnitID) -> Bool {
        (lhs.video, lhs.index) < (rhs.video, rhs.index)
    }

    public var description: String { "unit \(video).\(index)" }
}

/// One worker connection. The coordinator gives every accepted connection a fresh id
/// (a reconnecting worker is a new worker): attempts are counted per lease, and retries
/// prefer ids that have not tried the unit yet.
public struct WorkerID: RawRepresentable, Hashable, Comparable, Codable, Sendable, CustomStringConvertible {
    public var rawValue: UInt64

    public init(rawValue: UInt64) { self.rawValue = rawValue }
    public init(_ rawValue: UInt64) { self.rawValue = rawValue }

    public static func < (lhs: WorkerID, rhs: WorkerID) -> Bool { lhs.rawValue < rhs.rawValue }

    public var description: String { "worker \(rawValue)" }
}

/// One lease of one unit to one worker. Issued by the scheduler, increasing, never reused
/// within one scheduler's life. A result whose lease does not match (a lease of a previous
/// connection or of a previous coordinator run) is still judged by its unit alone, so a
/// collision is harmless.
public struct LeaseID: RawRepresentable, Hashable, Comparable, Codable, Sendable, CustomStringConvertible {
    public var rawValue: UInt64

    public init(rawValue: UInt64) { self.rawValue = rawValue }
    public init(_ rawValue: UInt64) { self.rawValue = rawValue }

    public static func < (lhs: LeaseID, rhs: LeaseID) -> Bool { lhs.rawValue < rhs.rawValue }

    public var description: String { "lease \(rawValue)" }
}
