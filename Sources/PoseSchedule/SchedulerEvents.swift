// What goes into the scheduler (events the coordinator observed) and what comes out
// (actions the coordinator must carry out, in order). No bytes, no sockets, no clocks:
// the result payloads stay with the coordinator, keyed by (unit, lease), until `.accept`.

/// Something the coordinator observed. Time comes with `Scheduler.handle(_:now:)`.
public enum SchedulerEvent: Sendable, Equatable {
    /// A worker finished its handshake and can hold `credits` units at once. `instance` names
    /// the worker *process* (random per process start, sent in HELLO; 0 if unknown): a process
    /// that reconnects after a network break proves it did not crash, so the attempts its lost
    /// connection counted against a unit are given back.
    case workerJoined(WorkerID, credits: Int, instance: UInt64 = 0)
    /// CREDIT: the worker can now hold `credits` units at once, in total (held ones included).
    /// Absolute, not a delta, so a lost or repeated CREDIT cannot drift the count.
    case credit(WorkerID, credits: Int)
    /// HEARTBEAT. Every other message from a worker also counts as a sign of life.
    case heartbeat(WorkerID)
    /// DRAIN: no new leases for this worker; it finishes what it holds.
    case drain(WorkerID)
    /// The connection is gone. `graceful` is true after BYE (the worker says it is alive and
    /// leaving), false for EOF, reset, or a protocol error. Held units go back to the queue;
    /// an ungraceful loss counts an attempt against the unit the worker was working on
    /// (its oldest lease), so a unit that crashes workers is eventually marked failed.
    case workerLeft(WorkerID, graceful: Bool)
    /// The producer made a unit ready (cropped, compressed, kept by the coordinator).
    case unitAvailable(UnitID)
    /// The producer knows a video's unit count (may come before or after its units; 0 is fine).
    case videoPlanned(video: Int, units: Int)
    /// The producer has planned every video and made every unit available.
    case archiveExhausted
    /// RESULT for `unit` under `lease` from `worker` (already decoded and checked by the wire layer).
    case result(WorkerID, UnitID, LeaseID)
    /// FAIL for `unit` under `lease` from `worker`.
    case failure(WorkerID, UnitID, LeaseID, reason: String)
    /// Time passes: expire leases, find silent workers, lease to workers with free credits.
    /// Send one at least every `heartbeatIntervalMs` (once a second is a good rate).
    case tick
    /// Journal replay at start-up: this unit's result is already journalled; never lease it.
    case restoreAccepted(UnitID)
    /// Journal replay at start-up: this unit was already marked failed; never lease it.
    case restoreFailed(UnitID, reason: String)
}

/// Why a result was dropped instead of accepted.
public enum DropReason: Sendable, Equatable, CustomStringConvertible {
    /// The unit already has an accepted result (or was marked failed): first result wins.
    case duplicate
    /// The scheduler does not know this unit (not made available yet in this run).
    case unknownUnit

    public var description: String {
        switch self {
        case .duplicate: "duplicate"
        case .unknownUnit: "unknown unit"
        }
    }
}

/// Something the coordinator must do, in the order given.
public enum SchedulerAction: Sendable, Equatable {
    /// Send UNIT `unit` under `lease` to `worker`; the lease ends at `deadline` (coordinator
    /// monotonic ms; send the remaining time to the worker). `speculative` copies race a straggler.
    case lease(UnitID, to: WorkerID, LeaseID, deadline: Int64, speculative: Bool)
    /// Journal (and then merge) the result just received from `worker` under `lease`.
    /// Exactly one `.accept` is ever produced per unit.
    case accept(UnitID, from: WorkerID, LeaseID)
    /// Discard the result just received; it was counted.
    case drop(UnitID, from: WorkerID, LeaseID, DropReason)
    /// The unit will not be done: journal and report it as failed with `reason`.
    case markFailed(UnitID, reason: String)
    /// Every unit of `video` is accepted or failed: merge and write its output.
    case videoComplete(Int)
    /// Every planned video is complete and the archive is exhausted. Produced once.
    case jobComplete
    /// Close this worker's connection. The scheduler has already forgotten the worker and put
    /// its units back; a later `.workerLeft` for it is ignored.
    case disconnect(WorkerID, reason: String)
    /// A draining worker holds nothing any more (it may now be sent BYE). Produced once.
    case workerDrained(WorkerID)
}
