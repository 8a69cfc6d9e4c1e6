// Every limit of the coordinator and worker processes, named in one place and checked
// against each other at start-up.
import Foundation

public struct ClusterLimits: Sendable, Equatable {
    /// Most peer connections (workers and not-yet-authenticated sockets) open at once.
    public var connectionsMax = 1024
    /// A peer must finish HELLO/AUTH within this time or is dropped.
    public var handshakeTimeoutMs = 5_000
    /// Most bytes a peer may have buffered with us before its handshake is done (HELLO and AUTH are small).
    public var handshakeBytesMax = 64 * 1024
    /// Most bytes waiting in one connection's send queue before the peer counts as stuck.
    public var outboundBytesMax = 256 * 1024 * 1024
    /// Worker heartbeat period; the coordinator's lease and silence limits are multiples of it.
    public var heartbeatIntervalMs = 1_000
    /// A worker silent this long is treated as gone (its units go back to the queue).
    public var peerSilenceMaxMs = 10_000
    // Units prepared ahead of the workers and units per worker are the scheduler's limits
    // (SchedulerLimits.unitsQueuedMax, creditsPerWorkerMax), set by `posecoord serve`.
    /// Bytes a peer's zstd frames may inflate to per second, after authentication (before it,
    /// compressed frames are refused). Workers send only RESULTs (at most ~50 KiB each) compressed.
    public var inflatedBytesPerSecondMax = 16 << 20
    /// Inflation a peer may bank while quiet; also the largest single compressed frame it can send.
    public var inflatedBytesBurstMax = 16 << 20
    /// Bytes of one MODEL chunk.
    public var modelChunkBytes = 1 << 20
    /// Worker reconnect backoff, first delay and cap.
    public var reconnectDelayMinMs = 200
    public var reconnectDelayMaxMs = 5_000
    /// Progress line period.
    public var progressIntervalMs = 2_000

    public init() {}

    /// Checks the relations between limits; a broken one is a programming or configuration error.
    public func validate() throws {
        func check(_ ok: Bool, _ message: String) throws {
            if !ok { throw ClusterLimitsError(message: message) }
        }
        try check(connectionsMax >= 1, "connectionsMax must be at least 1")
        try check(handshakeTimeoutMs >= 100, "handshakeTimeoutMs must be at least 100")
        try check(peerSilenceMaxMs >= 3 * heartbeatIntervalMs, "peerSilenceMaxMs must be at least 3 heartbeats")
        try check(handshakeBytesMax >= 4096, "handshakeBytesMax must be at least 4096 (a HELLO must fit)")
        try check(reconnectDelayMinMs >= 1 && reconnectDelayMaxMs >= reconnectDelayMinMs, "reconnect delays must satisfy 1 <= min <= max")
        try check(inflatedBytesPerSecondMax >= 1 << 20 && inflatedBytesBurstMax >= 1 << 20,
                  "inflatedBytesPerSecondMax and inflatedBytesBurstMax must be at least 1 MiB (a RESULT must fit)")
        try check(modelChunkBytes >= 4096 && modelChunkBytes <= outboundBytesMax, "modelChunkBytes must be in 4096...outboundBytesMax")
    }
}

public struct ClusterLimitsError: Error, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}

/// The shared secret, from `--token-file` or `POSECLUSTER_TOKEN`. Surrounding whitespace is not part of it.
public enum ClusterToken {
    /// Shortest token accepted: a guessable secret is worse than a missing one, because it looks safe.
    public static let bytesMin = 8
    public static let environmentVariable = "POSECLUSTER_TOKEN"

    public static func load(file: String?, environment: [String: String]) throws -> [UInt8]? {
        var text: String?
        if let file {
            guard let data = FileManager.default.contents(atPath: file) else {
                throw ClusterLimitsError(message: "cannot read the token file \(file)")
            }
            text = String(decoding: data, as: UTF8.self)
        } else if let value = environment[environmentVariable] {
            text = value
        }
        guard let raw = text else { return nil }
        let token = raw.trimmingWhitespace()
        guard token.utf8.count >= bytesMin else {
            throw ClusterLimitsError(message: "the cluster token must be at least \(bytesMin) bytes (got \(token.utf8.count))")
        }
        return Array(token.utf8)
    }
}

extension String {
    func trimmingWhitespace() -> String {
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }) else { return "" }
        let last = scalars.lastIndex(where: { !$0.properties.isWhitespace })!
        return String(scalars[first...last])
    }
}
