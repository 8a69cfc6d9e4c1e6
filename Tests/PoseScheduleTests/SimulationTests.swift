// The seeded simulation of a whole cluster (ClusterSimulation): many seeds in CI, one seed on
// demand. Replay a failing seed with the command the failure prints, e.g.
//   SIM_SEED=1234 SIM_TRACE=1 swift test --filter SimulationTests/testSeeds
// SIM_SEEDS=N runs seeds 0..<N instead of the default 500.
import Foundation
import XCTest
@testable import PoseSchedule

final class SimulationTests: XCTestCase {
    private var environment: [String: String] { ProcessInfo.processInfo.environment }

    /// Every seed must end with every unit journalled exactly once, the same output as the
    /// fault-free run of the same scenario, and only poison units failed.
    func testSeeds() {
        let seeds: [UInt64]
        if let seed = environment["SIM_SEED"].flatMap(UInt64.init) {
            seeds = [seed]
        } else {
            seeds = Array(0..<UInt64(environment["SIM_SEEDS"].flatMap(Int.init) ?? 500))
        }
        let printsTrace = environment["SIM_TRACE"] == "1"
        var totals: [String: Int] = [:]
        var counters = SchedulerCounters()
        var bystanderFailures = 0
        for seed in seeds {
            var options = SimulationOptions(seed: seed)
            options.keepsFullTrace = printsTrace
            let outcome = ClusterSimulation.run(options)
            if printsTrace { print(outcome.trace.joined(separator: "\n")) }
            guard outcome.passed else {
                XCTFail(outcome.report)
                continue
            }
            var reference = SimulationOptions(seed: seed)
            reference.faults = false
            let calm = ClusterSimulation.run(reference)
            guard calm.passed else {
                XCTFail("fault-free run: " + calm.report)
                continue
            }
            XCTAssertTrue(calm.bystanderFailures.isEmpty, "seed \(seed): fault-free run failed \(calm.bystanderFailures)")
            // Identical output, except units failed as bystanders of attemptsMax dying workers.
            let difference = Set(Set(outcome.output).symmetricDifference(calm.output).map(\.unit))
            if !difference.isSubset(of: outcome.bystanderFailures) {
                XCTFail("seed \(seed): output differs from the fault-free run at \(difference.sorted().prefix(5))\nreplay: \(options.replayCommand)")
            }
            bystanderFailures += outcome.bystanderFailures.count
            for (fault, count) in outcome.faultCounts { totals[fault, default: 0] += count }
            counters.releases += outcome.counters.releases
            counters.speculativeLeases += outcome.counters.speculativeLeases
            counters.duplicatesDropped += outcome.counters.duplicatesDropped
            counters.leasesExpired += outcome.counters.leasesExpired
            counters.unitsFailed += outcome.counters.unitsFailed
            counters.workersTimedOut += outcome.counters.workersTimedOut
            counters.workersStuck += outcome.counters.workersStuck
            counters.unitsRestored += outcome.counters.unitsRestored
            counters.acceptedFromStaleLeases += outcome.counters.acceptedFromStaleLeases
        }
        print("simulation: \(seeds.count) seeds; faults \(totals.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " "))")
        print("simulation: releases=\(counters.releases) speculative=\(counters.speculativeLeases) duplicates=\(counters.duplicatesDropped) expired=\(counters.leasesExpired) failed=\(counters.unitsFailed) timedOut=\(counters.workersTimedOut) stuck=\(counters.workersStuck) restored=\(counters.unitsRestored) staleAccepted=\(counters.acceptedFromStaleLeases) bystanderFailures=\(bystanderFailures)")
        // The many-seed run must really exercise every fault and every recovery path.
        if seeds.count >= 100 {
            for fault in ["break", "halfOpen", "crash", "poisonCrash", "drain", "credit", "stall", "coordinatorCrash", "resent", "latencySpike", "poisonHang", "sendFails", "leaseAfterSendFailed"] {
                XCTAssertGreaterThan(totals[fault] ?? 0, 0, "no seed injected \(fault)")
            }
            XCTAssertGreaterThan(counters.releases, 0)
            XCTAssertGreaterThan(counters.speculativeLeases, 0)
            XCTAssertGreaterThan(counters.duplicatesDropped, 0)
            XCTAssertGreaterThan(counters.leasesExpired, 0)
            XCTAssertGreaterThan(counters.unitsFailed, 0)
            XCTAssertGreaterThan(counters.workersTimedOut, 0)
            XCTAssertGreaterThan(counters.workersStuck, 0)
            XCTAssertGreaterThan(counters.unitsRestored, 0)
            XCTAssertGreaterThan(counters.acceptedFromStaleLeases, 0)
        }
    }

    /// A seed replays bit for bit.
    func testSameSeedSameRun() {
        for seed: UInt64 in [7, 42] {
            let first = ClusterSimulation.run(SimulationOptions(seed: seed))
            let second = ClusterSimulation.run(SimulationOptions(seed: seed))
            XCTAssertEqual(first.traceDigest, second.traceDigest, "seed \(seed)")
            XCTAssertEqual(first.steps, second.steps)
            XCTAssertEqual(first.output, second.output)
        }
    }

    /// The checker itself catches a coordinator that journals duplicates.
    func testCheckerCatchesDoubleAcceptance() {
        var caught = 0
        for seed: UInt64 in 0..<20 {
            var options = SimulationOptions(seed: seed)
            options.journalsDuplicates = true
            let outcome = ClusterSimulation.run(options)
            if let violation = outcome.violation {
                XCTAssertTrue(violation.contains("accepted twice"), violation)
                XCTAssertTrue(outcome.report.contains("SIM_SEED=\(seed)"))
                caught += 1
            }
        }
        XCTAssertGreaterThan(caught, 0, "no seed produced a duplicate for the broken coordinator to journal")
    }
}
