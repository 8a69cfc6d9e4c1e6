// Adversarial input: whatever peers send, in any order (results for units never leased, leases of
// other workers, absurd credits, messages from workers already gone), the scheduler keeps its
// invariants, accepts each unit at most once, and still finishes the job once a well-behaved
// worker shows up.
import XCTest
@testable import PoseSchedule

final class SchedulerFuzzTests: XCTestCase {
    func testRandomPeerEventsKeepInvariantsAndExactlyOnce() {
        var totals = SchedulerCounters()
        for seed: UInt64 in 0..<60 {
            var random = SeededGenerator(seed: seed)
            var h = Harness()
            let videos = Int.random(in: 1...4, using: &random)
            let counts = (0..<videos).map { _ in Int.random(in: 0...10, using: &random) }
            var nextVideo = 0, nextIndex = 0
            var nextWorker: UInt64 = 1
            var connected: [WorkerID] = []
            var issued: [(WorkerID, UnitID, LeaseID)] = []
            var accepts: [UnitID: Int] = [:]

            func record(_ actions: [SchedulerAction]) {
                for action in actions {
                    switch action {
                    case .lease(let unit, let worker, let lease, _, _): issued.append((worker, unit, lease))
                    case .accept(let unit, _, _): accepts[unit, default: 0] += 1
                    case .disconnect(let worker, _): connected.removeAll { $0 == worker }
                    default: break
                    }
                }
            }
            func produce() {
                while h.scheduler.wantsMoreUnits {
                    if nextVideo == videos { record(h.send(.archiveExhausted)); return }
                    if nextIndex == counts[nextVideo] {
                        record(h.send(.videoPlanned(video: nextVideo, units: counts[nextVideo])))
                        nextVideo += 1; nextIndex = 0
                    } else {
                        record(h.send(.unitAvailable(UnitID(video: nextVideo, index: nextIndex))))
                        nextIndex += 1
                    }
                }
            }
            func anyUnit() -> UnitID { UnitID(video: Int.random(in: 0...videos, using: &random), index: Int.random(in: 0...11, using: &random)) }

            for _ in 0..<400 {
                produce()
                let someone = connected.randomElement(using: &random) ?? WorkerID(nextWorker + 100)  // maybe unknown
                let leaseOf = issued.randomElement(using: &random)
                switch Int.random(in: 0..<12, using: &random) {
                case 0:
                    let worker = WorkerID(nextWorker); nextWorker += 1
                    connected.append(worker)
                    record(h.send(.workerJoined(worker, credits: Int.random(in: -1...18, using: &random),
                                                instance: UInt64.random(in: 0...3, using: &random))))
                    if h.scheduler.workerSnapshots().allSatisfy({ $0.id != worker }) { connected.removeAll { $0 == worker } }
                case 1: record(h.send(.credit(someone, credits: Int.random(in: -2...20, using: &random))))
                case 2: record(h.send(.heartbeat(someone)))
                case 3: record(h.send(.drain(someone)))
                case 4:
                    record(h.send(.workerLeft(someone, graceful: random.chance(0.5))))
                    connected.removeAll { $0 == someone }
                case 5, 6:
                    // A result under a real lease, from its worker or from someone else.
                    if let (worker, unit, lease) = leaseOf {
                        record(h.send(.result(random.chance(0.8) ? worker : someone, unit, lease)))
                    }
                case 7: record(h.send(.result(someone, anyUnit(), LeaseID(UInt64.random(in: 0...50, using: &random)))))
                case 8:
                    if let (worker, unit, lease) = leaseOf {
                        record(h.send(.failure(random.chance(0.8) ? worker : someone, unit, lease, reason: "fuzz")))
                    }
                case 9: record(h.send(.failure(someone, anyUnit(), LeaseID(UInt64.random(in: 0...50, using: &random)), reason: "fuzz")))
                default: record(h.send(.tick, at: h.now + Int64.random(in: 0...4_000, using: &random)))
                }
                XCTAssertTrue(accepts.values.allSatisfy { $0 == 1 }, "seed \(seed): a unit accepted twice")
            }
            // Calm: everyone leaves, one honest worker answers every lease in order.
            for worker in connected { record(h.send(.workerLeft(worker, graceful: true))) }
            connected = []
            let honest = WorkerID(10_000)
            issued = []
            record(h.send(.workerJoined(honest, credits: 4), at: h.now + 1))
            var steps = 0
            while !h.scheduler.isJobComplete && steps < 10_000 {
                steps += 1
                produce()
                if let index = issued.firstIndex(where: { $0.0 == honest }) {
                    let (_, unit, lease) = issued.remove(at: index)
                    record(h.send(.result(honest, unit, lease), at: h.now + 10))
                } else {
                    // Pending loss charges and held-back units resolve with time.
                    record(h.send(.heartbeat(honest), at: h.now + 1_000))
                    record(h.send(.tick))
                }
            }
            XCTAssertTrue(h.scheduler.isJobComplete, "seed \(seed): job not complete after the calm phase")
            let total = counts.reduce(0, +)
            XCTAssertEqual(h.scheduler.counters.accepted + h.scheduler.counters.unitsFailed, total, "seed \(seed)")
            XCTAssertTrue(accepts.values.allSatisfy { $0 == 1 }, "seed \(seed)")
            let counters = h.scheduler.counters
            totals.duplicatesDropped += counters.duplicatesDropped
            totals.unknownResultsDropped += counters.unknownResultsDropped
            totals.workersRefused += counters.workersRefused
            totals.failureReportsIgnored += counters.failureReportsIgnored
            totals.unitsFailed += counters.unitsFailed
            totals.acceptedFromStaleLeases += counters.acceptedFromStaleLeases
            totals.leasesExpired += counters.leasesExpired
        }
        // The fuzz is not vacuous: every kind of bad or late input happened.
        XCTAssertGreaterThan(totals.duplicatesDropped, 0)
        XCTAssertGreaterThan(totals.unknownResultsDropped, 0)
        XCTAssertGreaterThan(totals.workersRefused, 0)
        XCTAssertGreaterThan(totals.failureReportsIgnored, 0)
        XCTAssertGreaterThan(totals.unitsFailed, 0)
        XCTAssertGreaterThan(totals.acceptedFromStaleLeases, 0)
        XCTAssertGreaterThan(totals.leasesExpired, 0)
    }
}
