// Hand-written scenarios, one per scheduling promise of CLUSTER.md: each drives the state
// machine through events and checks the actions it asks for (invariants checked after every event).
import XCTest
@testable import PoseSchedule

/// A scheduler under test: records every action, checks invariants after every event.
struct Harness {
    var scheduler: Scheduler
    var now: Int64 = 0
    var log: [SchedulerAction] = []

    init(_ limits: SchedulerLimits = Harness.limits) {
        scheduler = Scheduler(limits: limits)
        scheduler.checksInvariants = true
    }

    static let limits = SchedulerLimits(
        leaseDurationMs: 10_000, heartbeatIntervalMs: 1_000, heartbeatMissesMax: 3, attemptsMax: 3,
        unitsQueuedMax: 8, creditsPerWorkerMax: 16, workersMax: 8, speculativeAfterFraction: 0.5)

    @discardableResult
    mutating func send(_ event: SchedulerEvent, at time: Int64? = nil) -> [SchedulerAction] {
        if let time { now = time }
        let actions = scheduler.handle(event, now: now)
        log += actions
        return actions
    }

    /// Makes units 0..<count of `video` available and plans the video.
    mutating func video(_ video: Int, units count: Int, plan: Bool = true) {
        for index in 0..<count { send(.unitAvailable(UnitID(video: video, index: index))) }
        if plan { send(.videoPlanned(video: video, units: count)) }
    }
}

func leases(in actions: [SchedulerAction]) -> [(UnitID, WorkerID, LeaseID, Bool)] {
    actions.compactMap {
        if case .lease(let unit, let worker, let lease, _, let speculative) = $0 { return (unit, worker, lease, speculative) }
        return nil
    }
}

let w1 = WorkerID(1), w2 = WorkerID(2), w3 = WorkerID(3), w4 = WorkerID(4)
func u(_ video: Int, _ index: Int) -> UnitID { UnitID(video: video, index: index) }

final class SchedulerScenarioTests: XCTestCase {
    func testLimitsValidateRelations() throws {
        XCTAssertNoThrow(try SchedulerLimits().validate())
        var limits = SchedulerLimits()
        limits.leaseDurationMs = limits.heartbeatIntervalMs
        XCTAssertThrowsError(try limits.validate()) { error in
            XCTAssertTrue("\(error)".contains("leaseDurationMs"), "\(error)")
        }
        limits = SchedulerLimits()
        limits.speculativeAfterFraction = 0
        XCTAssertThrowsError(try limits.validate())
        limits = SchedulerLimits()
        limits.attemptsMax = 0
        XCTAssertThrowsError(try limits.validate())
    }

    func testLeasesRespectCreditsAndLowestUnitFirst() {
        var h = Harness()
        h.video(0, units: 5)
        let granted = leases(in: h.send(.workerJoined(w1, credits: 2)))
        XCTAssertEqual(granted.map(\.0), [u(0, 0), u(0, 1)])
        XCTAssertEqual(h.scheduler.queuedCount, 3)
        // More units arriving do not exceed the credits.
        XCTAssertTrue(leases(in: h.send(.unitAvailable(u(1, 0)))).isEmpty)
        // A raised CREDIT is used at once.
        XCTAssertEqual(leases(in: h.send(.credit(w1, credits: 3))).map(\.0), [u(0, 2)])
        XCTAssertEqual(h.scheduler.leases(of: w1).count, 3)
        // A lowered CREDIT leases nothing until the worker is under it again.
        h.send(.credit(w1, credits: 1))
        let afterResult = h.send(.result(w1, u(0, 0), granted[0].2))
        XCTAssertTrue(leases(in: afterResult).isEmpty, "\(afterResult)")
        XCTAssertEqual(h.scheduler.leases(of: w1).count, 2)
    }

    func testBadCreditDisconnects() {
        var h = Harness()
        h.video(0, units: 2)
        h.send(.workerJoined(w1, credits: 2))
        let actions = h.send(.credit(w1, credits: 17))
        XCTAssertTrue(actions.contains { if case .disconnect(w1, _) = $0 { return true }; return false })
        XCTAssertEqual(h.scheduler.queuedCount, 2, "units of a refused worker go back")
        XCTAssertEqual(h.scheduler.attempts(of: u(0, 0)), 0, "a protocol error is not the unit's fault")
        let refused = h.send(.workerJoined(w2, credits: -1))
        XCTAssertEqual(refused.count, 1)
        XCTAssertEqual(h.scheduler.workerCount, 0)
    }

    func testLateJoinerGetsWorkOnJoin() {
        var h = Harness()
        h.video(0, units: 4)
        h.send(.workerJoined(w1, credits: 1))
        let joined = h.send(.workerJoined(w2, credits: 2), at: 500)
        XCTAssertEqual(leases(in: joined).map(\.0), [u(0, 1), u(0, 2)])
        XCTAssertTrue(leases(in: joined).allSatisfy { $0.1 == w2 })
    }

    func testExpiredLeaseGoesToAnotherWorkerAndLateResultStillCounts() {
        var limits = Harness.limits
        limits.speculativeAfterFraction = 1  // no speculative copy before the expiry
        var h = Harness(limits)
        h.video(0, units: 1)
        let first = leases(in: h.send(.workerJoined(w1, credits: 1)))[0]
        h.send(.workerJoined(w2, credits: 1))
        h.send(.heartbeat(w1), at: 9_000)
        h.send(.heartbeat(w2), at: 9_000)
        let expired = h.send(.tick, at: 10_000)
        let again = leases(in: expired)
        XCTAssertEqual(again.count, 1)
        XCTAssertEqual(again[0].1, w2, "re-leased to the other worker")
        XCTAssertEqual(h.scheduler.counters.leasesExpired, 1)
        XCTAssertEqual(h.scheduler.counters.releases, 1)
        XCTAssertEqual(h.scheduler.attempts(of: u(0, 0)), 1, "a stall on the oldest lease counts")
        // w1 still holds the expired lease in memory: no new lease for it.
        XCTAssertEqual(h.scheduler.leases(of: w1).count, 1)
        // The stale result arrives first: it wins.
        let accepted = h.send(.result(w1, u(0, 0), first.2), at: 10_500)
        XCTAssertEqual(accepted.first, .accept(u(0, 0), from: w1, first.2))
        XCTAssertEqual(h.scheduler.counters.acceptedFromStaleLeases, 1)
        let dup = h.send(.result(w2, u(0, 0), again[0].2), at: 11_000)
        XCTAssertEqual(dup, [.drop(u(0, 0), from: w2, again[0].2, .duplicate)])
        XCTAssertEqual(h.scheduler.counters.duplicatesDropped, 1)
        XCTAssertEqual(h.scheduler.counters.accepted, 1)
        XCTAssertEqual(h.scheduler.inFlightCount, 0)
    }

    func testExactlyOnceWithDuplicateResults() {
        var h = Harness()
        h.video(0, units: 1)
        let lease = leases(in: h.send(.workerJoined(w1, credits: 1)))[0]
        let first = h.send(.result(w1, u(0, 0), lease.2))
        XCTAssertEqual(first, [.accept(u(0, 0), from: w1, lease.2), .videoComplete(0)])
        // Re-sent after a reconnect (new connection id, old lease id), and a plain repeat.
        h.send(.workerJoined(w2, credits: 1))
        XCTAssertEqual(h.send(.result(w2, u(0, 0), lease.2)), [.drop(u(0, 0), from: w2, lease.2, .duplicate)])
        XCTAssertEqual(h.send(.result(w1, u(0, 0), lease.2)), [.drop(u(0, 0), from: w1, lease.2, .duplicate)])
        XCTAssertEqual(h.scheduler.counters.duplicatesDropped, 2)
        XCTAssertEqual(h.log.filter { if case .accept = $0 { return true }; return false }.count, 1)
        // A result for a unit never made available is dropped, not accepted.
        XCTAssertEqual(h.send(.result(w1, u(5, 0), LeaseID(99))), [.drop(u(5, 0), from: w1, LeaseID(99), .unknownUnit)])
    }

    func testResultFromPreviousConnectionIsAccepted() {
        var h = Harness()
        h.video(0, units: 1)
        let lease = leases(in: h.send(.workerJoined(w1, credits: 1)))[0]
        h.send(.workerLeft(w1, graceful: false))
        XCTAssertEqual(h.scheduler.state(of: u(0, 0)), .queued)
        h.send(.workerJoined(w2, credits: 0))
        let actions = h.send(.result(w2, u(0, 0), lease.2))
        XCTAssertEqual(actions.first, .accept(u(0, 0), from: w2, lease.2))
        XCTAssertEqual(h.scheduler.counters.acceptedFromStaleLeases, 1)
    }

    func testRetryCapMarksFailedOnDifferentWorkers() {
        var h = Harness()
        h.video(0, units: 1)
        for worker in [w1, w2, w3] { h.send(.workerJoined(worker, credits: 1)) }
        var tried: [WorkerID] = []
        for attempt in 1...3 {
            let held = [w1, w2, w3].compactMap { worker in
                h.scheduler.leases(of: worker).first { $0.1 == u(0, 0) }.map { (worker, $0.0) }
            }
            XCTAssertEqual(held.count, 1, "attempt \(attempt)")
            guard let (worker, lease) = held.first else { return }
            XCTAssertFalse(tried.contains(worker), "retried on \(worker) again while fresh workers exist")
            tried.append(worker)
            let actions = h.send(.failure(worker, u(0, 0), lease, reason: "decode error \(attempt)"))
            if attempt < 3 {
                XCTAssertFalse(actions.contains { if case .markFailed = $0 { return true }; return false })
                XCTAssertEqual(h.scheduler.attempts(of: u(0, 0)), attempt)
            } else {
                guard case .markFailed(u(0, 0), let reason) = actions.first else { return XCTFail("\(actions)") }
                XCTAssertTrue(reason.contains("decode error 3") && reason.contains("3 attempts"), reason)
                XCTAssertEqual(actions.last, .videoComplete(0), "a failed unit does not block its video")
            }
        }
        XCTAssertEqual(h.scheduler.state(of: u(0, 0)), .failed)
        XCTAssertEqual(h.scheduler.counters.unitsFailed, 1)
        XCTAssertEqual(h.scheduler.counters.failureReports, 3)
    }

    func testRetryWaitsForAFreshBusyWorkerRatherThanRepeatOnTheSame() {
        var h = Harness()
        h.video(0, units: 2)
        let first = leases(in: h.send(.workerJoined(w1, credits: 1)))
        let second = leases(in: h.send(.workerJoined(w2, credits: 1)))
        XCTAssertEqual(first.map(\.0), [u(0, 0)])
        let retry = h.send(.failure(w1, u(0, 0), first[0].2, reason: "bad"))
        XCTAssertTrue(leases(in: retry).isEmpty, "w1 failed it and w2 has not tried it yet")
        let handedOver = leases(in: h.send(.result(w2, u(0, 1), second[0].2)))
        XCTAssertEqual(handedOver.map(\.0), [u(0, 0)])
        XCTAssertEqual(handedOver.map(\.1), [w2])
    }

    func testRetryDoesNotWaitForAWorkerWithoutCredits() {
        var h = Harness()
        h.video(0, units: 1)
        let first = leases(in: h.send(.workerJoined(w1, credits: 1)))
        h.send(.workerJoined(w2, credits: 0))  // connected, but takes nothing
        let retry = leases(in: h.send(.failure(w1, u(0, 0), first[0].2, reason: "bad")))
        XCTAssertEqual(retry.map(\.1), [w1], "the only worker that can take it retries it")
    }

    func testSingleWorkerRetriesInsteadOfWaitingForever() {
        var h = Harness()
        h.video(0, units: 1)
        h.send(.archiveExhausted)
        h.send(.workerJoined(w1, credits: 1))
        for _ in 1...3 {
            let (lease, unit) = h.scheduler.leases(of: w1)[0]
            h.send(.failure(w1, unit, lease, reason: "out of memory"))
        }
        XCTAssertEqual(h.scheduler.state(of: u(0, 0)), .failed)
        XCTAssertTrue(h.log.suffix(3).contains(.jobComplete), "\(h.log)")
    }

    func testCrashingWorkerChargesOnlyTheUnitItWorkedOn() {
        var h = Harness()
        h.video(0, units: 3)
        h.send(.workerJoined(w1, credits: 3))
        h.send(.workerLeft(w1, graceful: false))
        XCTAssertEqual(h.scheduler.attempts(of: u(0, 0)), 1)
        XCTAssertEqual(h.scheduler.attempts(of: u(0, 1)), 0)
        XCTAssertEqual(h.scheduler.attempts(of: u(0, 2)), 0)
        XCTAssertEqual(h.scheduler.queuedCount, 3)
        // A graceful leave charges nothing.
        h.send(.workerJoined(w2, credits: 3))
        h.send(.workerLeft(w2, graceful: true))
        XCTAssertEqual(h.scheduler.attempts(of: u(0, 0)), 1)
    }

    func testPoisonUnitThatCrashesWorkersIsFailed() {
        var h = Harness()
        h.video(0, units: 1)
        var next: UInt64 = 10
        while h.scheduler.state(of: u(0, 0)) != .failed {
            XCTAssertLessThan(next, 20, "poison unit never failed")
            if next >= 20 { return }
            let worker = WorkerID(next)
            next += 1
            XCTAssertEqual(leases(in: h.send(.workerJoined(worker, credits: 4))).count, 1)
            h.send(.workerLeft(worker, graceful: false))
        }
        XCTAssertEqual(next, 13, "failed after attemptsMax crashes")
        XCTAssertTrue(h.log.contains(.videoComplete(0)))
    }

    func testNetworkBreakIsForgivenWhenTheSameProcessReconnects() {
        var h = Harness()
        h.video(0, units: 1)
        // Three connection losses of one live process (instance 77): never the unit's fault.
        for connection: UInt64 in 1...4 {
            let worker = WorkerID(connection)
            XCTAssertEqual(leases(in: h.send(.workerJoined(worker, credits: 1, instance: 77))).count, 1)
            h.send(.workerLeft(worker, graceful: false))
            XCTAssertEqual(h.scheduler.pendingLossChargeCount, 1)
        }
        XCTAssertEqual(h.scheduler.counters.attemptsForgiven, 3)
        XCTAssertEqual(h.scheduler.attempts(of: u(0, 0)), 0)
        // The last loss is not followed by a reconnect within reconnectGraceMs: it counts.
        h.send(.tick, at: Harness.limits.reconnectGraceMs)
        XCTAssertEqual(h.scheduler.attempts(of: u(0, 0)), 1)
        XCTAssertEqual(h.scheduler.pendingLossChargeCount, 0)
    }

    func testPoisonUnitCrashingRestartedProcessesFailsAfterGrace() {
        var h = Harness()
        h.video(0, units: 1)
        for process: UInt64 in 1...3 {
            // Every crash restarts the process: a new instance, so nothing is forgiven.
            let worker = WorkerID(process)
            XCTAssertEqual(leases(in: h.send(.workerJoined(worker, credits: 2, instance: 100 + process))).count, 1)
            h.send(.workerLeft(worker, graceful: false), at: h.now + 100)
        }
        XCTAssertEqual(h.scheduler.state(of: u(0, 0)), .queued, "losses wait for the grace period")
        let actions = h.send(.tick, at: 300 + Harness.limits.reconnectGraceMs)
        guard case .markFailed(u(0, 0), let reason) = actions.first else { return XCTFail("\(actions)") }
        XCTAssertTrue(reason.contains("disconnected while working on it"), reason)
        XCTAssertEqual(actions.last, .videoComplete(0))
    }

    func testWorkerStuckOnALeaseIsDisconnected() {
        var limits = Harness.limits
        limits.speculativeAfterFraction = 1
        var h = Harness(limits)
        h.video(0, units: 2)
        h.send(.workerJoined(w1, credits: 2))
        // It heartbeats but never answers: the leases expire at 10 s (attempt counted once, for
        // the unit it works on), the worker is stuck at 20 s.
        var time: Int64 = 0
        while time < 19_000 {
            time += 1_000
            XCTAssertFalse(h.send(.heartbeat(w1), at: time).contains { if case .disconnect = $0 { return true }; return false })
            h.send(.tick)
        }
        XCTAssertEqual(h.scheduler.counters.leasesExpired, 2)
        XCTAssertEqual(h.scheduler.attempts(of: u(0, 0)), 1)
        XCTAssertEqual(h.scheduler.attempts(of: u(0, 1)), 0)
        h.send(.heartbeat(w1), at: 20_000)
        let actions = h.send(.tick)
        guard case .disconnect(w1, let reason) = actions.first else { return XCTFail("\(actions)") }
        XCTAssertTrue(reason.contains("stuck") && reason.contains("unit 0.0"), reason)
        XCTAssertEqual(h.scheduler.counters.workersStuck, 1)
        XCTAssertEqual(h.scheduler.attempts(of: u(0, 0)), 1, "the expiry already counted this attempt")
        XCTAssertEqual(h.scheduler.workerCount, 0)
    }

    func testSilentWorkerIsDisconnectedAndItsUnitsRequeued() {
        var h = Harness()
        h.video(0, units: 2)
        h.send(.workerJoined(w1, credits: 2))
        h.send(.workerJoined(w2, credits: 0), at: 100)
        h.send(.heartbeat(w2), at: 2_900)
        XCTAssertTrue(h.send(.tick, at: 3_000).isEmpty, "3 s of silence is within 3 x 1 s")
        h.send(.credit(w2, credits: 2), at: 3_001)
        let actions = h.send(.tick, at: 3_001)
        guard case .disconnect(w1, let reason) = actions.first else { return XCTFail("\(actions)") }
        XCTAssertTrue(reason.contains("heartbeat"), reason)
        XCTAssertEqual(leases(in: actions).map { $0.1 }, [w2, w2])
        XCTAssertEqual(h.scheduler.counters.workersTimedOut, 1)
        // The coordinator's own report of the closed socket is ignored.
        XCTAssertTrue(h.send(.workerLeft(w1, graceful: false)).isEmpty)
        XCTAssertEqual(h.scheduler.counters.workersLeft, 1)
    }

    func testSpeculativeCopyOfStragglerWhenQueueEmpty() {
        var h = Harness()
        h.video(0, units: 2)
        let slow = leases(in: h.send(.workerJoined(w1, credits: 2)))
        XCTAssertEqual(slow.count, 2)
        // Before speculativeAfterMs (5 s) a free worker gets nothing.
        XCTAssertTrue(leases(in: h.send(.workerJoined(w2, credits: 2), at: 1_000)).isEmpty)
        h.send(.heartbeat(w1), at: 4_999)
        h.send(.heartbeat(w2), at: 4_999)
        XCTAssertTrue(leases(in: h.send(.tick, at: 4_999)).isEmpty)
        let spec = leases(in: h.send(.tick, at: 5_000))
        XCTAssertEqual(spec.map(\.0), [u(0, 0), u(0, 1)])
        XCTAssertTrue(spec.allSatisfy { $0.1 == w2 && $0.3 })
        XCTAssertEqual(h.scheduler.state(of: u(0, 0)), .leased(copies: 2))
        // Bounded: a third worker gets no third copy.
        XCTAssertTrue(leases(in: h.send(.workerJoined(w3, credits: 2), at: 5_500)).isEmpty)
        XCTAssertEqual(h.scheduler.counters.speculativeLeases, 2)
        // The copy wins; the slow original is dropped as duplicate later.
        XCTAssertEqual(h.send(.result(w2, u(0, 0), spec[0].2), at: 6_000).first, .accept(u(0, 0), from: w2, spec[0].2))
        XCTAssertEqual(h.send(.result(w1, u(0, 0), slow[0].2), at: 7_000), [.drop(u(0, 0), from: w1, slow[0].2, .duplicate)])
    }

    func testNoSpeculationWhileQueueHasWork() {
        var h = Harness()
        h.video(0, units: 3)
        h.send(.workerJoined(w1, credits: 2))
        h.send(.heartbeat(w1), at: 6_000)
        let actions = h.send(.workerJoined(w2, credits: 1), at: 6_000)
        XCTAssertEqual(leases(in: actions).map { $0.0 }, [u(0, 2)])
        XCTAssertFalse(leases(in: actions)[0].3)
    }

    func testDrainFinishesHeldUnitsThenByeIsClean() {
        var h = Harness()
        h.video(0, units: 3)
        let held = leases(in: h.send(.workerJoined(w1, credits: 2)))
        XCTAssertTrue(leases(in: h.send(.drain(w1))).isEmpty)
        let first = h.send(.result(w1, u(0, 0), held[0].2))
        XCTAssertTrue(leases(in: first).isEmpty, "a draining worker gets no new lease")
        let last = h.send(.result(w1, u(0, 1), held[1].2))
        XCTAssertEqual(last, [.accept(u(0, 1), from: w1, held[1].2), .workerDrained(w1)])
        h.send(.workerLeft(w1, graceful: true))
        XCTAssertEqual(h.scheduler.queuedCount, 1)
        XCTAssertEqual(h.scheduler.counters.attemptsCharged, 0)
    }

    func testRestoreSkipsJournalledUnits() {
        var h = Harness()
        h.send(.restoreAccepted(u(0, 0)))
        h.send(.restoreFailed(u(0, 2), reason: "poison"))
        h.send(.restoreAccepted(u(1, 0)))
        h.video(0, units: 3)
        h.video(1, units: 1)
        XCTAssertEqual(h.log, [.videoComplete(1)])
        XCTAssertEqual(h.scheduler.counters.unitsRestored, 3)
        XCTAssertEqual(h.scheduler.counters.unitsSkippedDone, 3)
        let granted = leases(in: h.send(.workerJoined(w1, credits: 4)))
        XCTAssertEqual(granted.map(\.0), [u(0, 1)], "only the unit not journalled is leased")
        h.send(.archiveExhausted)
        let done = h.send(.result(w1, u(0, 1), granted[0].2))
        XCTAssertEqual(done, [.accept(u(0, 1), from: w1, granted[0].2), .videoComplete(0), .jobComplete])
    }

    func testVideoCompleteWhenLastUnitDoneAndJobCompleteLast() {
        var h = Harness()
        h.video(0, units: 2, plan: false)
        h.video(1, units: 1)
        h.send(.videoPlanned(video: 2, units: 0))
        XCTAssertEqual(h.log, [.videoComplete(2)], "an empty video completes at once")
        let granted = leases(in: h.send(.workerJoined(w1, credits: 3)))
        XCTAssertEqual(granted.map(\.0), [u(0, 0), u(0, 1), u(1, 0)])
        XCTAssertEqual(h.send(.result(w1, u(1, 0), granted[2].2)).last, .videoComplete(1))
        XCTAssertEqual(h.send(.result(w1, u(0, 1), granted[1].2)).count, 1)
        // All units of video 0 done, but not planned yet: not complete.
        XCTAssertEqual(h.send(.result(w1, u(0, 0), granted[0].2)).count, 1)
        XCTAssertEqual(h.send(.videoPlanned(video: 0, units: 2)), [.videoComplete(0)])
        XCTAssertEqual(h.send(.archiveExhausted), [.jobComplete])
        XCTAssertTrue(h.scheduler.isJobComplete)
        XCTAssertTrue(h.send(.tick).isEmpty, "jobComplete is produced once")
    }

    func testProducerBackPressure() {
        var h = Harness()
        XCTAssertEqual(h.scheduler.unitsWanted, 8)
        h.video(0, units: 6, plan: false)
        XCTAssertEqual(h.scheduler.unitsWanted, 2)
        h.send(.workerJoined(w1, credits: 4))
        XCTAssertEqual(h.scheduler.unitsWanted, 6)
        h.send(.archiveExhausted)
        XCTAssertEqual(h.scheduler.unitsWanted, 0)
        XCTAssertFalse(h.scheduler.wantsMoreUnits)
    }

    func testWorkersMaxRefusesJoin() {
        var limits = Harness.limits
        limits.workersMax = 1
        var h = Harness(limits)
        h.send(.workerJoined(w1, credits: 1))
        let refused = h.send(.workerJoined(w2, credits: 1))
        guard case .disconnect(w2, let reason) = refused.first else { return XCTFail("\(refused)") }
        XCTAssertTrue(reason.contains("workersMax"))
        XCTAssertEqual(h.scheduler.counters.workersRefused, 1)
    }

    func testWorkerSnapshotsReportRate() {
        var h = Harness()
        h.video(0, units: 2)
        let granted = leases(in: h.send(.workerJoined(w1, credits: 2)))
        h.send(.result(w1, u(0, 0), granted[0].2), at: 1_000)
        h.send(.result(w1, u(0, 1), granted[1].2), at: 2_000)
        let snapshot = h.scheduler.workerSnapshots()
        XCTAssertEqual(snapshot.count, 1)
        XCTAssertEqual(snapshot[0].accepted, 2)
        XCTAssertEqual(snapshot[0].acceptedPerSecond, 1.0, accuracy: 1e-9)
        XCTAssertEqual(snapshot[0].inFlight, 0)
    }
}
