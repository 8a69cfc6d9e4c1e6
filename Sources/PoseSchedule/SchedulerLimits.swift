// Every limit the scheduler enforces, named, with the relations between them checked once at
// start-up (`validate()`), so a bad configuration is a readable error, not a stuck job.

/// Limits of the scheduling state machine. Times are milliseconds of the coordinator's
/// monotonic clock.
public struct SchedulerLimits: Sendable, Equatable, Codable {
    /// How long a worker may hold a unit before the unit goes back to the queue. It must cover
    /// the time a unit waits in the worker's own queue (up to its credits) plus its compute.
    public var leaseDurationMs: Int64 = 300_000
    /// How often workers send HEARTBEAT; also the longest a new worker waits for work when the
    /// coordinator ticks at least this often.
    public var heartbeatIntervalMs: Int64 = 5_000
    /// A worker silent for `heartbeatIntervalMs * heartbeatMissesMax` is disconnected and its
    /// units go back to the queue.
    public var heartbeatMissesMax: Int = 3
    /// A unit whose attempts (FAIL reports, or being the unit a worker was working on when it was
    /// lost or stalled) reach this count is marked failed.
    public var attemptsMax: Int = 3
    /// An attempt counted for a lost connection (the unit the worker was working on) waits this
    /// long for the same worker process (HELLO's instance) to reconnect; if it does, the loss was
    /// the network's and is not counted.
    public var reconnectGraceMs: Int64 = 30_000
    /// How many available units the producer keeps queued ahead of the workers (`unitsWanted`).
    public var unitsQueuedMax: Int = 256
    /// The most units one worker may advertise (CREDIT); more is a protocol error.
    public var creditsPerWorkerMax: Int = 64
    /// The most workers connected at once; more are refused with `.disconnect`.
    public var workersMax: Int = 1_024
    /// A unit held by one worker for this fraction of `leaseDurationMs` is a straggler: when a
    /// worker has free credits and nothing queued to take, it may get a speculative copy.
    /// 1.0 turns speculation off (the lease expires first).
    public var speculativeAfterFraction: Double = 0.5

    public init() {}

    public init(
        leaseDurationMs: Int64 = 300_000,
        heartbeatIntervalMs: Int64 = 5_000,
        heartbeatMissesMax: Int = 3,
        attemptsMax: Int = 3,
        unitsQueuedMax: Int = 256,
        creditsPerWorkerMax: Int = 64,
        workersMax: Int = 1_024,
        speculativeAfterFraction: Double = 0.5,
        reconnectGraceMs: Int64 = 30_000
    ) {
        self.leaseDurationMs = leaseDurationMs
        self.heartbeatIntervalMs = heartbeatIntervalMs
        self.heartbeatMissesMax = heartbeatMissesMax
        self.attemptsMax = attemptsMax
        self.unitsQueuedMax = unitsQueuedMax
        self.creditsPerWorkerMax = creditsPerWorkerMax
        self.workersMax = workersMax
        self.speculativeAfterFraction = speculativeAfterFraction
        self.reconnectGraceMs = reconnectGraceMs
    }

    /// Silence after which a worker is considered lost.
    public var heartbeatTimeoutMs: Int64 { heartbeatIntervalMs * Int64(heartbeatMissesMax) }

    /// Age after which a lease held alone is a straggler.
    public var speculativeAfterMs: Int64 {
        Int64((Double(leaseDurationMs) * speculativeAfterFraction).rounded(.up))
    }

    /// Checks every limit and the relations between them.
    public func validate() throws(SchedulerLimitsError) {
        func require(_ condition: Bool, _ message: @autoclosure () -> String) throws(SchedulerLimitsError) {
            if !condition { throw SchedulerLimitsError(message: message()) }
        }
        try require(heartbeatIntervalMs >= 1, "heartbeatIntervalMs must be at least 1, got \(heartbeatIntervalMs)")
        try require(heartbeatMissesMax >= 1, "heartbeatMissesMax must be at least 1, got \(heartbeatMissesMax)")
        try require(heartbeatIntervalMs <= Int64.max / 4 / Int64(heartbeatMissesMax),
                    "heartbeatIntervalMs * heartbeatMissesMax overflows")
        try require(leaseDurationMs >= 2 * heartbeatIntervalMs,
                    "leaseDurationMs (\(leaseDurationMs)) must be at least 2 * heartbeatIntervalMs (\(heartbeatIntervalMs)): a lease must outlive a heartbeat or every unit expires before a worker can report")
        try require(leaseDurationMs <= Int64.max / 4, "leaseDurationMs is too large: \(leaseDurationMs)")
        try require(reconnectGraceMs >= heartbeatIntervalMs && reconnectGraceMs <= Int64.max / 4,
                    "reconnectGraceMs (\(reconnectGraceMs)) must be at least heartbeatIntervalMs (\(heartbeatIntervalMs)): a worker needs time to notice a broken connection and reconnect")
        try require(attemptsMax >= 1, "attemptsMax must be at least 1, got \(attemptsMax)")
        try require(unitsQueuedMax >= 1, "unitsQueuedMax must be at least 1, got \(unitsQueuedMax)")
        try require(creditsPerWorkerMax >= 1, "creditsPerWorkerMax must be at least 1, got \(creditsPerWorkerMax)")
        try require(workersMax >= 1, "workersMax must be at least 1, got \(workersMax)")
        try require(speculativeAfterFraction > 0 && speculativeAfterFraction <= 1,
                    "speculativeAfterFraction must be in (0, 1], got \(speculativeAfterFraction)")
    }
}

/// A configuration whose limits do not fit together.
public struct SchedulerLimitsError: Error, Equatable, Sendable, CustomStringConvertible {
    public var message: String
    public var description: String { "invalid scheduler limits: \(message)" }
}
