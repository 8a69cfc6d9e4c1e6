// The coordinator's scheduling state machine, sans-IO: events in, actions out, time passed in.
// It decides which worker holds which unit, when a unit goes back to the queue, when a result
// is accepted (exactly once per unit), when a unit is given up as failed, and when a video and
// the whole job are complete. docs/SCHEDULING.md describes the rules; the seeded simulation
// (ClusterSimulation.swift) checks them under faults.

/// The scheduling state machine of the coordinator.
///
/// A unit is in exactly one state:
/// - **queued**: available, no live lease (waiting in `queue`, lowest `UnitID` leased first);
/// - **leased**: one live lease, or two when a speculative copy races a straggler;
/// - **accepted** / **failed**: done, remembered per video until the video completes,
///   then only as "video complete".
///
/// A lease stays with its worker until the worker answers for it (RESULT or FAIL) or leaves,
/// even after it stops being *live* for its unit (deadline passed, or the unit was accepted
/// from another copy): the worker still holds the unit in memory, so it still uses a credit.
public struct Scheduler: Sendable {
    public let limits: SchedulerLimits
    /// Last time seen (coordinator monotonic ms).
    public private(set) var now: Int64
    public private(set) var counters = SchedulerCounters()
    /// Run `invariants()` after every event. On by default in debug builds; tests turn it on.
    public var checksInvariants: Bool

    private var units: [UnitID: UnitRecord] = [:]
    /// Queued units, sorted ascending, no duplicates.
    private var queue: [UnitID] = []
    private var leases: [LeaseID: LeaseRecord] = [:]
    private var workers: [WorkerID: WorkerRecord] = [:]
    /// Videos with planned count or done units, not yet complete.
    private var videos: [Int: VideoProgress] = [:]
    /// Completed videos: unit count and the (rare) failed unit indices.
    private var completedVideos: [Int: CompletedVideo] = [:]
    private var archiveExhausted = false
    public private(set) var isJobComplete = false
    private var nextLeaseID: UInt64
    /// Attempts pending from lost connections of known worker processes, oldest first: counted
    /// after `reconnectGraceMs` unless the same process reconnects first (then the network was
    /// at fault, not the unit). At most `workersMax` entries.
    private var pendingLossCharges: [PendingLossCharge] = []

    private struct PendingLossCharge: Sendable {
        var instance: UInt64
        var unit: UnitID
        var worker: WorkerID
        var lostAt: Int64
        var reason: String
    }

    private struct UnitRecord: Sendable {
        /// Leases that count for this unit, oldest first (at most two).
        var liveLeases: [LeaseID] = []
        var attempts = 0
        /// Entries of `pendingLossCharges` for this unit.
        var pendingLosses = 0
        var triedBy: Set<WorkerID> = []
        var lastFailure: String?
        var everLeased = false
    }

    private struct LeaseRecord: Sendable {
        var unit: UnitID
        var worker: WorkerID
        var leasedAt: Int64
        var deadline: Int64
        var speculative: Bool
        /// Counts for its unit (not expired, unit not done).
        var isLive = true
        /// An attempt was already counted against the unit for this lease.
        var charged = false
    }

    private struct WorkerRecord: Sendable {
        var credits: Int
        /// Held leases in the order granted; the first is the one the worker is working on.
        var leases: [LeaseID] = []
        var joinedAt: Int64
        var lastHeardAt: Int64
        var draining = false
        var drainReported = false
        var accepted = 0
        var instance: UInt64 = 0
    }

    private struct CompletedVideo: Sendable {
        var units: Int
        var failed: Set<Int>
    }

    private struct VideoProgress: Sendable {
        var planned: Int?
        var accepted: Set<Int> = []
        var failed: Set<Int> = []
        var doneCount: Int { accepted.count + failed.count }
    }

    /// - Parameters:
    ///   - limits: must pass `validate()` (checked here as a precondition; call `validate()`
    ///     yourself first to report a readable error).
    ///   - now: the coordinator's monotonic clock at start-up, in ms.
    ///   - firstLeaseID: first lease id to issue; a resumed coordinator may start above the
    ///     previous run's ids (not required for correctness).
    public init(limits: SchedulerLimits = SchedulerLimits(), now: Int64 = 0, firstLeaseID: UInt64 = 1) {
        do { try limits.validate() } catch { preconditionFailure("\(error)") }
        self.limits = limits
        self.now = now
        self.nextLeaseID = firstLeaseID
        #if DEBUG
        self.checksInvariants = true
        #else
        self.checksInvariants = false
        #endif
    }

    // MARK: - Gauges

    /// Units waiting for a worker.
    public var queuedCount: Int { queue.count }
    /// Units with at least one live lease.
    public var leasedCount: Int { units.count - queue.count }
    /// Leases held by workers (live or not).
    public var inFlightCount: Int { leases.count }
    public var workerCount: Int { workers.count }
    /// How many more units the producer should make available now (0 once the archive is exhausted).
    public var unitsWanted: Int { archiveExhausted ? 0 : max(0, limits.unitsQueuedMax - queue.count) }
    public var wantsMoreUnits: Bool { unitsWanted > 0 }
    /// Lost connections waiting `reconnectGraceMs` before they count against a unit.
    public var pendingLossChargeCount: Int { pendingLossCharges.count }
    /// Videos not yet complete that the scheduler knows of (planned or with done units).
    public var videosInProgress: Int { videos.count }

    /// Where a unit stands, as far as this scheduler knows.
    public enum UnitState: Equatable, Sendable {
        case queued
        case leased(copies: Int)
        case accepted
        case failed
    }

    /// The state of `unit`, or nil if it was never made available or restored.
    public func state(of unit: UnitID) -> UnitState? {
        if let record = units[unit] {
            return record.liveLeases.isEmpty ? .queued : .leased(copies: record.liveLeases.count)
        }
        if let progress = videos[unit.video] {
            if progress.accepted.contains(unit.index) { return .accepted }
            if progress.failed.contains(unit.index) { return .failed }
        }
        if let video = completedVideos[unit.video], unit.index < video.units {
            return video.failed.contains(unit.index) ? .failed : .accepted
        }
        return nil
    }

    /// Attempts counted against a unit still queued or leased.
    public func attempts(of unit: UnitID) -> Int? { units[unit]?.attempts }

    /// Connected workers, ordered by id.
    public func workerSnapshots() -> [WorkerSnapshot] {
        workers.keys.sorted().map { id in
            let worker = workers[id]!
            let seconds = Double(max(1, now - worker.joinedAt)) / 1000
            return WorkerSnapshot(
                id: id, credits: worker.credits, inFlight: worker.leases.count,
                draining: worker.draining, accepted: worker.accepted,
                joinedAtMs: worker.joinedAt, lastHeardAtMs: worker.lastHeardAt,
                acceptedPerSecond: Double(worker.accepted) / seconds)
        }
    }

    /// Leases currently held by `worker`, in the order granted (for tests and /status).
    public func leases(of worker: WorkerID) -> [(LeaseID, UnitID)] {
        (workers[worker]?.leases ?? []).map { ($0, leases[$0]!.unit) }
    }

    // MARK: - Events

    /// Feeds one event observed at `now` (coordinator monotonic ms, never decreasing) and
    /// returns what the coordinator must do, in order.
    public mutating func handle(_ event: SchedulerEvent, now: Int64) -> [SchedulerAction] {
        precondition(now >= self.now, "scheduler time went backwards: \(now) < \(self.now); use a monotonic clock")
        self.now = now
        var actions: [SchedulerAction] = []
        switch event {
        case .workerJoined(let worker, let credits, let instance):
            workerJoined(worker, credits: credits, instance: instance, into: &actions)
        case .credit(let worker, let credits):
            guard heard(worker) else { break }
            if let reason = creditProblem(credits) {
                counters.workersRefused += 1
                actions.append(.disconnect(worker, reason: reason))
                removeWorker(worker, charge: false, cause: "disconnected: \(reason)", into: &actions)
            } else {
                workers[worker]!.credits = credits
            }
        case .heartbeat(let worker):
            heard(worker)
        case .drain(let worker):
            guard heard(worker) else { break }
            workers[worker]!.draining = true
            reportDrainedIfIdle(worker, into: &actions)
        case .workerLeft(let worker, let graceful):
            if workers[worker] != nil {
                removeWorker(worker, charge: !graceful, cause: graceful ? "left" : "disconnected", into: &actions)
            }
        case .unitAvailable(let unit):
            unitAvailable(unit)
        case .videoPlanned(let video, let count):
            videoPlanned(video, count: count, into: &actions)
        case .archiveExhausted:
            archiveExhausted = true
            checkJobComplete(into: &actions)
        case .result(let worker, let unit, let lease):
            result(from: worker, unit: unit, lease: lease, into: &actions)
        case .failure(let worker, let unit, let lease, let reason):
            failure(from: worker, unit: unit, lease: lease, reason: reason, into: &actions)
        case .tick:
            expireSilentWorkers(into: &actions)
            expireLeases(into: &actions)
            disconnectStuckWorkers(into: &actions)
            confirmLossCharges(olderThan: now - limits.reconnectGraceMs, into: &actions)
        case .restoreAccepted(let unit):
            restore(unit, failedReason: nil, into: &actions)
        case .restoreFailed(let unit, let reason):
            restore(unit, failedReason: reason, into: &actions)
        }
        dispatch(into: &actions)
        if checksInvariants { invariants() }
        return actions
    }

    private func creditProblem(_ credits: Int) -> String? {
        if credits < 0 { return "credits \(credits) are negative" }
        if credits > limits.creditsPerWorkerMax {
            return "credits \(credits) exceed creditsPerWorkerMax \(limits.creditsPerWorkerMax)"
        }
        return nil
    }

    private mutating func workerJoined(_ worker: WorkerID, credits: Int, instance: UInt64, into actions: inout [SchedulerAction]) {
        precondition(workers[worker] == nil, "\(worker) joined twice; give every connection a fresh WorkerID")
        if workers.count >= limits.workersMax {
            counters.workersRefused += 1
            actions.append(.disconnect(worker, reason: "too many workers: workersMax is \(limits.workersMax)"))
            return
        }
        if let reason = creditProblem(credits) {
            counters.workersRefused += 1
            actions.append(.disconnect(worker, reason: reason))
            return
        }
        workers[worker] = WorkerRecord(credits: credits, joinedAt: now, lastHeardAt: now, instance: instance)
        counters.workersJoined += 1
        forgiveLossCharges(of: instance)
    }

    /// The process is alive: the connection it lost was the network's fault, not the unit's.
    private mutating func forgiveLossCharges(of instance: UInt64) {
        guard instance != 0 else { return }
        for charge in pendingLossCharges where charge.instance == instance {
            counters.attemptsForgiven += 1
            if units[charge.unit] != nil { units[charge.unit]!.pendingLosses -= 1 }
        }
        pendingLossCharges.removeAll { $0.instance == instance }
    }

    /// Counts the pending loss charges whose process did not come back in time.
    private mutating func confirmLossCharges(olderThan cutoff: Int64, into actions: inout [SchedulerAction]) {
        while let first = pendingLossCharges.first, first.lostAt <= cutoff {
            pendingLossCharges.removeFirst()
            guard units[first.unit] != nil else { continue }
            units[first.unit]!.pendingLosses -= 1
            charge(first.unit, worker: first.worker, reason: first.reason)
            settle(first.unit, into: &actions)
        }
    }

    /// Records a sign of life; false if the worker is unknown (already gone).
    @discardableResult
    private mutating func heard(_ worker: WorkerID) -> Bool {
        guard workers[worker] != nil else { return false }
        workers[worker]!.lastHeardAt = now
        return true
    }

    private mutating func unitAvailable(_ unit: UnitID) {
        precondition(unit.video >= 0 && unit.index >= 0, "\(unit): negative index")
        counters.unitsAvailable += 1
        if isDone(unit) {
            counters.unitsSkippedDone += 1
            return
        }
        precondition(units[unit] == nil, "\(unit) made available twice")
        if let planned = videos[unit.video]?.planned {
            precondition(unit.index < planned, "\(unit) beyond the \(planned) units planned for video \(unit.video)")
        }
        units[unit] = UnitRecord()
        enqueue(unit)
    }

    private mutating func videoPlanned(_ video: Int, count: Int, into actions: inout [SchedulerAction]) {
        precondition(count >= 0, "video \(video) planned with \(count) units")
        if let done = completedVideos[video] {
            precondition(done.units == count, "video \(video) planned again with \(count) units, was \(done.units)")
            return
        }
        var progress = videos[video] ?? VideoProgress()
        precondition(progress.planned == nil || progress.planned == count,
                     "video \(video) planned again with \(count) units, was \(progress.planned!)")
        precondition(progress.accepted.allSatisfy { $0 < count } && progress.failed.allSatisfy { $0 < count },
                     "video \(video) planned with \(count) units but has done units beyond")
        precondition(!units.keys.contains { $0.video == video && $0.index >= count },
                     "video \(video) planned with \(count) units but has available units beyond")
        progress.planned = count
        videos[video] = progress
        checkVideoComplete(video, into: &actions)
    }

    private mutating func result(from worker: WorkerID, unit: UnitID, lease: LeaseID, into actions: inout [SchedulerAction]) {
        heard(worker)
        let matching = leaseMatches(lease, worker: worker, unit: unit)
        let wasLive = matching && leases[lease]!.isLive
        if matching { releaseLease(lease) }
        defer { reportDrainedIfIdle(worker, into: &actions) }

        if isDone(unit) {
            counters.duplicatesDropped += 1
            actions.append(.drop(unit, from: worker, lease, .duplicate))
            return
        }
        guard units[unit] != nil else {
            counters.unknownResultsDropped += 1
            actions.append(.drop(unit, from: worker, lease, .unknownUnit))
            return
        }
        counters.accepted += 1
        if !wasLive { counters.acceptedFromStaleLeases += 1 }
        if workers[worker] != nil { workers[worker]!.accepted += 1 }
        actions.append(.accept(unit, from: worker, lease))
        finish(unit, failedReason: nil, into: &actions)
    }

    private mutating func failure(from worker: WorkerID, unit: UnitID, lease: LeaseID, reason: String, into actions: inout [SchedulerAction]) {
        heard(worker)
        guard leaseMatches(lease, worker: worker, unit: unit) else {
            counters.failureReportsIgnored += 1
            return
        }
        counters.failureReports += 1
        let charged = leases[lease]!.charged
        releaseLease(lease)
        if units[unit] != nil && !charged {
            charge(unit, worker: worker, reason: "\(worker): \(reason)")
        }
        settle(unit, into: &actions)
        reportDrainedIfIdle(worker, into: &actions)
    }

    private mutating func restore(_ unit: UnitID, failedReason: String?, into actions: inout [SchedulerAction]) {
        guard !isDone(unit) else { return }
        counters.unitsRestored += 1
        finish(unit, failedReason: failedReason, into: &actions)
    }

    // MARK: - Time

    private mutating func expireSilentWorkers(into actions: inout [SchedulerAction]) {
        let timeout = limits.heartbeatTimeoutMs
        for id in workers.keys.sorted() where now - workers[id]!.lastHeardAt > timeout {
            let reason = "no message for \(now - workers[id]!.lastHeardAt) ms (heartbeatIntervalMs \(limits.heartbeatIntervalMs) x heartbeatMissesMax \(limits.heartbeatMissesMax))"
            counters.workersTimedOut += 1
            actions.append(.disconnect(id, reason: reason))
            removeWorker(id, charge: true, cause: "silent", into: &actions)
        }
    }

    /// A worker that heartbeats but has not answered its oldest lease a whole lease duration
    /// after its deadline is stuck on it (a hung kernel, a poison unit that loops): disconnect it,
    /// so its credits and its other units are not held forever.
    private mutating func disconnectStuckWorkers(into actions: inout [SchedulerAction]) {
        for id in workers.keys.sorted() {
            guard let oldest = workers[id]!.leases.first else { continue }
            let lease = leases[oldest]!
            let overdue = now - lease.deadline
            guard overdue >= limits.leaseDurationMs else { continue }
            counters.workersStuck += 1
            actions.append(.disconnect(id, reason: "stuck: \(lease.unit) (\(oldest)) is \(overdue) ms past its deadline (leaseDurationMs \(limits.leaseDurationMs))"))
            removeWorker(id, charge: true, cause: "stuck", into: &actions)
        }
    }

    private mutating func expireLeases(into actions: inout [SchedulerAction]) {
        for id in workers.keys.sorted() {
            let held = workers[id]!.leases
            for (position, leaseID) in held.enumerated() {
                let lease = leases[leaseID]!
                guard lease.isLive, lease.deadline <= now else { continue }
                counters.leasesExpired += 1
                leases[leaseID]!.isLive = false
                units[lease.unit]!.liveLeases.removeAll { $0 == leaseID }
                // Workers work in lease order: only the oldest held unit is the one it stalled on.
                if position == 0 {
                    leases[leaseID]!.charged = true
                    charge(lease.unit, worker: id, reason: "\(id): lease expired after \(limits.leaseDurationMs) ms")
                }
                settle(lease.unit, into: &actions)
            }
        }
    }

    // MARK: - Leasing

    /// Leases queued units (then straggler copies) to workers with free credits, one unit per
    /// worker per round so that workers share the queue fairly.
    private mutating func dispatch(into actions: inout [SchedulerAction]) {
        // Filter before sorting: after most events only one or two workers have a free credit.
        var candidates = workers.keys.filter { hasFreeCredit($0) }.sorted()
        if candidates.isEmpty { return }
        // Straggler leases, oldest first, computed once per dispatch and only when needed: the
        // scan is over every lease, and the tail of a big job has many idle workers.
        var stragglers: [(leasedAt: Int64, unit: UnitID)]?
        while !candidates.isEmpty {
            var next: [WorkerID] = []
            for worker in candidates {
                if let unit = queuedUnit(for: worker) {
                    grant(unit, to: worker, speculative: false, into: &actions)
                } else {
                    if stragglers == nil { stragglers = findStragglers() }
                    guard let index = stragglers!.firstIndex(where: { mayCopy($0.unit, to: worker) }) else { continue }
                    grant(stragglers!.remove(at: index).unit, to: worker, speculative: true, into: &actions)
                }
                if hasFreeCredit(worker) { next.append(worker) }
            }
            candidates = next
        }
    }

    private func hasFreeCredit(_ worker: WorkerID) -> Bool {
        let record = workers[worker]!
        return !record.draining && record.leases.count < record.credits
    }

    private func holds(_ worker: WorkerID, _ unit: UnitID) -> Bool {
        workers[worker]!.leases.contains { leases[$0]!.unit == unit }
    }

    /// The lowest queued unit this worker may take: one it has not tried, unless every
    /// connected worker that could take it (not draining, some credits) has (then retrying on
    /// the same worker beats waiting forever on a small cluster). Never a unit it still holds.
    private func queuedUnit(for worker: WorkerID) -> UnitID? {
        for unit in queue where !holds(worker, unit) {
            let record = units[unit]!
            // Possibly poison: wait for the pending losses to be forgiven or counted rather
            // than crash more workers with it.
            if record.attempts + record.pendingLosses >= limits.attemptsMax { continue }
            if !record.triedBy.contains(worker) { return unit }
            let someoneFresh = workers.keys.contains { other in
                let candidate = workers[other]!
                return other != worker && !candidate.draining && candidate.credits > 0
                    && !record.triedBy.contains(other) && !holds(other, unit)
            }
            if !someoneFresh { return unit }
        }
        return nil
    }

    /// Units held by a single live lease older than `speculativeAfterMs`, oldest lease first.
    private func findStragglers() -> [(leasedAt: Int64, unit: UnitID)] {
        let threshold = now - limits.speculativeAfterMs
        var found: [(leasedAt: Int64, unit: UnitID)] = []
        for lease in leases.values where lease.isLive && lease.leasedAt <= threshold {
            let record = units[lease.unit]!
            if record.liveLeases.count == 1 && record.attempts + record.pendingLosses < limits.attemptsMax {
                found.append((lease.leasedAt, lease.unit))
            }
        }
        return found.sorted { ($0.leasedAt, $0.unit) < ($1.leasedAt, $1.unit) }
    }

    /// Whether `worker` may get a speculative copy of a straggler: not its own, not one it tried.
    /// At most one copy per unit at a time (the straggler list holds lone leases only).
    private func mayCopy(_ unit: UnitID, to worker: WorkerID) -> Bool {
        !units[unit]!.triedBy.contains(worker) && !holds(worker, unit)
    }

    private mutating func grant(_ unit: UnitID, to worker: WorkerID, speculative: Bool, into actions: inout [SchedulerAction]) {
        precondition(workers[worker]!.leases.count < workers[worker]!.credits, "\(worker) has no free credit")
        let id = LeaseID(nextLeaseID)
        nextLeaseID += 1
        let deadline = now + limits.leaseDurationMs
        leases[id] = LeaseRecord(unit: unit, worker: worker, leasedAt: now, deadline: deadline, speculative: speculative)
        workers[worker]!.leases.append(id)
        var record = units[unit]!
        if record.liveLeases.isEmpty { dequeue(unit) }
        record.liveLeases.append(id)
        counters.leasesGranted += 1
        if speculative {
            counters.speculativeLeases += 1
        } else if record.everLeased {
            counters.releases += 1
        }
        record.everLeased = true
        units[unit] = record
        actions.append(.lease(unit, to: worker, id, deadline: deadline, speculative: speculative))
    }

    // MARK: - Bookkeeping

    /// Whether `worker` holds `lease`, granted for `unit` (live or not): the only RESULT or FAIL an
    /// honest worker sends. The coordinator refuses any other before it becomes an event.
    public func holds(_ lease: LeaseID, of unit: UnitID, by worker: WorkerID) -> Bool {
        leaseMatches(lease, worker: worker, unit: unit)
    }

    private func leaseMatches(_ lease: LeaseID, worker: WorkerID, unit: UnitID) -> Bool {
        guard let record = leases[lease] else { return false }
        return record.worker == worker && record.unit == unit
    }

    /// The worker answered for this lease: it frees a credit and stops counting for its unit.
    private mutating func releaseLease(_ id: LeaseID) {
        let lease = leases.removeValue(forKey: id)!
        workers[lease.worker]!.leases.removeAll { $0 == id }
        if lease.isLive { units[lease.unit]!.liveLeases.removeAll { $0 == id } }
    }

    private mutating func removeWorker(_ worker: WorkerID, charge chargeOldest: Bool, cause: String, into actions: inout [SchedulerAction]) {
        let held = workers[worker]!.leases
        // The same process already reconnected (a half-open connection timing out late): not a crash.
        let instance = workers[worker]!.instance
        let instanceAlive = instance != 0 && workers.contains { $0.key != worker && $0.value.instance == instance }
        var touched: [UnitID] = []
        for (position, id) in held.enumerated() {
            let lease = leases.removeValue(forKey: id)!
            if lease.isLive { units[lease.unit]!.liveLeases.removeAll { $0 == id } }
            // The worker works in lease order: only the oldest held unit may have killed it.
            if chargeOldest && position == 0 && !lease.charged && units[lease.unit] != nil && !instanceAlive {
                let reason = "\(worker) \(cause) while working on it"
                if instance == 0 {
                    charge(lease.unit, worker: worker, reason: reason)
                } else {
                    pendingLossCharges.append(PendingLossCharge(instance: instance, unit: lease.unit, worker: worker, lostAt: now, reason: reason))
                    units[lease.unit]!.pendingLosses += 1
                }
            }
            if units[lease.unit] != nil { touched.append(lease.unit) }
        }
        workers.removeValue(forKey: worker)
        counters.workersLeft += 1
        for unit in touched { settle(unit, into: &actions) }
        if pendingLossCharges.count > limits.workersMax {
            confirmLossCharges(olderThan: pendingLossCharges[pendingLossCharges.count - limits.workersMax - 1].lostAt, into: &actions)
        }
    }

    private mutating func charge(_ unit: UnitID, worker: WorkerID, reason: String) {
        counters.attemptsCharged += 1
        units[unit]!.attempts += 1
        units[unit]!.triedBy.insert(worker)
        units[unit]!.lastFailure = reason
    }

    /// After a unit lost a lease or an attempt was counted: back to the queue, or failed.
    private mutating func settle(_ unit: UnitID, into actions: inout [SchedulerAction]) {
        guard let record = units[unit], record.liveLeases.isEmpty else { return }
        if record.attempts >= limits.attemptsMax {
            let reason = "failed \(record.attempts) attempts (workers \(record.triedBy.sorted().map { String($0.rawValue) }.joined(separator: ", "))); last: \(record.lastFailure ?? "unknown")"
            counters.unitsFailed += 1
            actions.append(.markFailed(unit, reason: reason))
            finish(unit, failedReason: reason, into: &actions)
        } else {
            enqueue(unit)
        }
    }

    /// The unit is done (accepted, failed, or restored as either): forget it and its live
    /// leases (their workers keep the leases until they answer), then complete its video.
    private mutating func finish(_ unit: UnitID, failedReason: String?, into actions: inout [SchedulerAction]) {
        if let record = units.removeValue(forKey: unit) {
            // A unit without live leases is queued, or on its way back from a lost lease.
            if record.liveLeases.isEmpty { removeFromQueueIfPresent(unit) }
            for id in record.liveLeases { leases[id]!.isLive = false }
        }
        var progress = videos[unit.video] ?? VideoProgress()
        if failedReason == nil { progress.accepted.insert(unit.index) } else { progress.failed.insert(unit.index) }
        videos[unit.video] = progress
        checkVideoComplete(unit.video, into: &actions)
    }

    private func isDone(_ unit: UnitID) -> Bool {
        // A whole completed video is done, whatever index a late result names.
        if completedVideos[unit.video] != nil { return true }
        guard let progress = videos[unit.video] else { return false }
        return progress.accepted.contains(unit.index) || progress.failed.contains(unit.index)
    }

    private mutating func checkVideoComplete(_ video: Int, into actions: inout [SchedulerAction]) {
        guard let progress = videos[video], let planned = progress.planned, progress.doneCount == planned else { return }
        videos.removeValue(forKey: video)
        completedVideos[video] = CompletedVideo(units: planned, failed: progress.failed)
        counters.videosComplete += 1
        actions.append(.videoComplete(video))
        checkJobComplete(into: &actions)
    }

    private mutating func checkJobComplete(into actions: inout [SchedulerAction]) {
        guard archiveExhausted, !isJobComplete, units.isEmpty, videos.isEmpty else { return }
        isJobComplete = true
        actions.append(.jobComplete)
    }

    private mutating func reportDrainedIfIdle(_ worker: WorkerID, into actions: inout [SchedulerAction]) {
        guard let record = workers[worker], record.draining, !record.drainReported, record.leases.isEmpty else { return }
        workers[worker]!.drainReported = true
        actions.append(.workerDrained(worker))
    }

    private mutating func enqueue(_ unit: UnitID) {
        let position = insertionIndex(unit)
        if position < queue.count && queue[position] == unit { return }
        queue.insert(unit, at: position)
    }

    private mutating func dequeue(_ unit: UnitID) {
        let position = insertionIndex(unit)
        precondition(position < queue.count && queue[position] == unit, "\(unit) not queued")
        queue.remove(at: position)
    }

    private mutating func removeFromQueueIfPresent(_ unit: UnitID) {
        let position = insertionIndex(unit)
        if position < queue.count && queue[position] == unit { queue.remove(at: position) }
    }

    private func insertionIndex(_ unit: UnitID) -> Int {
        var low = 0, high = queue.count
        while low < high {
            let mid = (low + high) / 2
            if queue[mid] < unit { low = mid + 1 } else { high = mid }
        }
        return low
    }

    // MARK: - Invariants

    /// Checks every structural rule; a violation is a bug in the scheduler (precondition).
    public func invariants() {
        // Queue: sorted, unique, exactly the active units without a live lease.
        for i in queue.indices.dropFirst() { precondition(queue[i - 1] < queue[i], "queue not sorted/unique at \(i)") }
        var queuedActive = 0
        for (unit, record) in units {
            precondition(!isDone(unit), "\(unit) both active and done")
            precondition(record.liveLeases.count <= 2, "\(unit) has \(record.liveLeases.count) live leases")
            precondition(record.attempts < limits.attemptsMax || !record.liveLeases.isEmpty,
                         "\(unit) queued with \(record.attempts) attempts")
            if record.liveLeases.isEmpty {
                queuedActive += 1
                let position = insertionIndex(unit)
                precondition(position < queue.count && queue[position] == unit, "\(unit) has no lease and is not queued")
            }
            var holders: Set<WorkerID> = []
            for id in record.liveLeases {
                guard let lease = leases[id] else { preconditionFailure("\(unit) names missing \(id)") }
                precondition(lease.isLive && lease.unit == unit, "\(id) is not a live lease of \(unit)")
                precondition(holders.insert(lease.worker).inserted, "\(unit) leased twice to \(lease.worker)")
            }
        }
        precondition(queuedActive == queue.count, "queue holds \(queue.count) units, \(queuedActive) active units have no lease")
        // Leases: each held by exactly one known worker, live ones listed by their unit.
        var heldTotal = 0
        for (id, worker) in workers {
            precondition(worker.leases.count <= limits.creditsPerWorkerMax, "\(id) holds \(worker.leases.count) leases")
            precondition(worker.credits >= 0 && worker.credits <= limits.creditsPerWorkerMax, "\(id) has \(worker.credits) credits")
            precondition(Set(worker.leases).count == worker.leases.count, "\(id) lists a lease twice")
            var unitsHeld: Set<UnitID> = []
            for leaseID in worker.leases {
                guard let lease = leases[leaseID] else { preconditionFailure("\(id) holds missing \(leaseID)") }
                precondition(lease.worker == id, "\(leaseID) held by \(id) but leased to \(lease.worker)")
                precondition(unitsHeld.insert(lease.unit).inserted, "\(id) holds \(lease.unit) twice")
                if lease.isLive {
                    precondition(units[lease.unit]?.liveLeases.contains(leaseID) == true, "live \(leaseID) not listed by \(lease.unit)")
                }
            }
            heldTotal += worker.leases.count
        }
        precondition(heldTotal == leases.count, "\(leases.count) leases but workers hold \(heldTotal)")
        // Counts: every done unit was accepted, failed or restored exactly once.
        var doneTotal = completedVideos.values.reduce(0) { $0 + $1.units }
        for (video, progress) in videos {
            precondition(progress.accepted.isDisjoint(with: progress.failed), "video \(video): a unit both accepted and failed")
            if let planned = progress.planned {
                precondition(progress.doneCount < planned, "video \(video) done but not completed")
            }
            doneTotal += progress.doneCount
        }
        precondition(doneTotal == counters.accepted + counters.unitsFailed + counters.unitsRestored,
                     "\(doneTotal) done units but accepted \(counters.accepted) + failed \(counters.unitsFailed) + restored \(counters.unitsRestored)")
        precondition(!isJobComplete || (units.isEmpty && videos.isEmpty), "job complete with work left")
        var pendingByUnit: [UnitID: Int] = [:]
        for charge in pendingLossCharges where units[charge.unit] != nil { pendingByUnit[charge.unit, default: 0] += 1 }
        for (unit, record) in units {
            precondition(record.pendingLosses == pendingByUnit[unit, default: 0],
                         "\(unit) counts \(record.pendingLosses) pending losses, \(pendingByUnit[unit, default: 0]) listed")
        }
        precondition(pendingLossCharges.count <= limits.workersMax, "\(pendingLossCharges.count) pending loss charges")
        precondition(counters.workersJoined - counters.workersLeft == workers.count,
                     "joined \(counters.workersJoined) - left \(counters.workersLeft) != \(workers.count) connected")
    }
}
