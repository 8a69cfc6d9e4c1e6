// How fast the scheduler handles events at cluster scale: a benchmark, not a timed test. It runs
// only with SCHED_BENCH=1 and prints its numbers (docs/BENCHMARKS.md, Scheduling):
//   SCHED_BENCH=1 swift test -c release -Xswiftc -enable-testing --filter SchedulerBenchmarkTests
// What it asserts is correctness at that scale (every unit accepted exactly once), never time.
import Foundation
import XCTest
@testable import PoseSchedule

final class SchedulerBenchmarkTests: XCTestCase {
    func testThroughputAtScale() throws {
        try XCTSkipUnless(ProcessInfo.processInfo.environment["SCHED_BENCH"] == "1", "benchmark: set SCHED_BENCH=1 to run it")
        for (workerCount, credits) in [(16, 4), (256, 8), (1_000, 16)] {
            for checks in [false, true] where !(checks && workerCount > 16) {
                let result = run(workers: workerCount, credits: credits, videos: 100, unitsPerVideo: 200, checksInvariants: checks)
                print(String(format: "scheduler: %4d workers x %2d credits, %d units, invariants %@: %d events in %.3f s = %.2f us/event",
                             workerCount, credits, result.units, checks ? "on " : "off", result.events, result.seconds,
                             result.seconds * 1e6 / Double(result.events)))
            }
        }
    }

    /// A fault-free job: the producer fills the queue, workers answer their oldest lease in turn,
    /// a tick every 100 events. Returns events handled and wall time.
    private func run(workers workerCount: Int, credits: Int, videos: Int, unitsPerVideo: Int, checksInvariants: Bool) -> (units: Int, events: Int, seconds: Double) {
        var limits = SchedulerLimits()
        limits.workersMax = max(limits.workersMax, workerCount)
        limits.unitsQueuedMax = max(256, workerCount * credits / 2)
        var scheduler = Scheduler(limits: limits)
        scheduler.checksInvariants = checksInvariants
        var now: Int64 = 0
        var events = 0
        var held: [WorkerID: [(LeaseID, UnitID)]] = [:]
        var accepted = 0
        var nextVideo = 0, nextIndex = 0
        let started = Date()

        func feed(_ event: SchedulerEvent) {
            events += 1
            for action in scheduler.handle(event, now: now) {
                switch action {
                case .lease(let unit, let worker, let lease, _, _): held[worker, default: []].append((lease, unit))
                case .accept: accepted += 1
                default: break
                }
            }
        }
        for w in 0..<workerCount { feed(.workerJoined(WorkerID(UInt64(w + 1)), credits: credits)) }
        var round = 0
        while !scheduler.isJobComplete {
            while scheduler.wantsMoreUnits {
                if nextVideo == videos { feed(.archiveExhausted); break }
                if nextIndex == unitsPerVideo {
                    feed(.videoPlanned(video: nextVideo, units: unitsPerVideo))
                    nextVideo += 1; nextIndex = 0
                } else {
                    feed(.unitAvailable(UnitID(video: nextVideo, index: nextIndex)))
                    nextIndex += 1
                }
            }
            // One worker answers its oldest lease (round robin over workers holding something).
            let worker = WorkerID(UInt64(round % workerCount + 1))
            round += 1
            now += 1
            if var leases = held[worker], !leases.isEmpty {
                let (lease, unit) = leases.removeFirst()
                held[worker] = leases
                feed(.result(worker, unit, lease))
            }
            if round % 100 == 0 { feed(.tick) }
        }
        XCTAssertEqual(accepted, videos * unitsPerVideo)
        XCTAssertEqual(scheduler.counters.duplicatesDropped, 0)
        return (videos * unitsPerVideo, events, Date().timeIntervalSince(started))
    }
}
