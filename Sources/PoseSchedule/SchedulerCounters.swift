// Counters the scheduler keeps for /status and /metrics, and a per-worker view.
// Monotonic counts since start-up (the Prometheus way); gauges are computed properties of
// `Scheduler` (`queuedCount`, `inFlightCount`, ...).

/// Totals since the scheduler started.
public struct SchedulerCounters: Sendable, Equatable, Codable {
    /// Units the producer made available (restored ones included).
    public var unitsAvailable = 0
    /// `unitAvailable` for units already accepted or failed (journal replay): skipped.
    public var unitsSkippedDone = 0
    /// Leases granted, speculative ones included.
    public var leasesGranted = 0
    /// Leases of a unit that had been leased before (after a loss, expiry or FAIL), not speculative.
    public var releases = 0
    /// Speculative copies of stragglers.
    public var speculativeLeases = 0
    /// Leases whose deadline passed before the worker answered.
    public var leasesExpired = 0
    /// Results accepted (exactly one per unit).
    public var accepted = 0
    /// Of `accepted`: results that came under an expired, superseded or unknown lease.
    public var acceptedFromStaleLeases = 0
    /// Results for units already accepted or failed.
    public var duplicatesDropped = 0
    /// Results for units this scheduler does not know.
    public var unknownResultsDropped = 0
    /// FAIL reports received under a matching lease.
    public var failureReports = 0
    /// FAIL reports under a lease the worker does not hold: ignored.
    public var failureReportsIgnored = 0
    /// Attempts counted against units (FAIL reports, lost or stalled workers).
    public var attemptsCharged = 0
    /// Lost connections not counted against their unit because the same worker process
    /// reconnected within `reconnectGraceMs` (the network was at fault).
    public var attemptsForgiven = 0
    /// Units marked failed.
    public var unitsFailed = 0
    /// Units restored from the journal (accepted or failed before this run).
    public var unitsRestored = 0
    /// Videos completed (restored ones included).
    public var videosComplete = 0
    public var workersJoined = 0
    /// Workers gone for any reason (BYE, disconnect, timeout, protocol error).
    public var workersLeft = 0
    /// Of `workersLeft`: silent for `heartbeatTimeoutMs`.
    public var workersTimedOut = 0
    /// Of `workersLeft`: heartbeating but a whole `leaseDurationMs` past their oldest lease's deadline.
    public var workersStuck = 0
    /// Workers refused at join or disconnected for a bad CREDIT.
    public var workersRefused = 0

    public init() {}
}

/// One worker as /status shows it.
public struct WorkerSnapshot: Sendable, Equatable, Codable {
    public var id: WorkerID
    /// Units it can hold at once.
    public var credits: Int
    /// Leases it holds (expired and superseded ones included: it still has them in memory).
    public var inFlight: Int
    public var draining: Bool
    /// Results accepted from it.
    public var accepted: Int
    public var joinedAtMs: Int64
    public var lastHeardAtMs: Int64
    /// Accepted results per second since it joined.
    public var acceptedPerSecond: Double
}
