// Wall time and process CPU time per stage of the forward pass, for `poseworker bench`. The two
// MGFE branches overlap (`branches` is both together), so stage times can add up to more than
// the whole forward pass; CPU time / wall time of a stage is how many cores it kept busy, which
// is exact for the stages that run alone (backbone, branches, fusion+head).
import Foundation
#if canImport(Glibc)
import Glibc
#endif

public enum Stage: String, CaseIterable, Sendable {
    case backbone, branches, highRes = "high-res branch", lowRes = "low-res branch", densityPeaks = "DPC", fusionHead = "fusion+head"

    /// Stages that never overlap another stage: their CPU time is theirs alone.
    public var runsAlone: Bool { self == .backbone || self == .branches || self == .fusionHead }
}

public final class StageTimings: @unchecked Sendable {
    private let lock = NSLock()
    private var seconds: [Stage: Double] = [:]
    private var cpuSeconds: [Stage: Double] = [:]

    public init() {}

    public func add(_ stage: Stage, _ value: Double, cpu: Double = 0) {
        lock.lock()
        seconds[stage, default: 0] += value
        cpuSeconds[stage, default: 0] += cpu
        lock.unlock()
    }

    public func total(_ stage: Stage) -> Double {
        lock.lock()
        defer { lock.unlock() }
        return seconds[stage] ?? 0
    }

    /// Process CPU seconds spent while `stage` ran (all threads; meaningful when `runsAlone`).
    public func cpuTotal(_ stage: Stage) -> Double {
        lock.lock()
        defer { lock.unlock() }
        return cpuSeconds[stage] ?? 0
    }

    public func reset() {
        lock.lock()
        seconds = [:]
        cpuSeconds = [:]
        lock.unlock()
    }

    /// CPU time of the whole process (every thread), in seconds.
    static func processCPUSeconds() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }
}

extension Optional where Wrapped == StageTimings {
    /// Runs `body`, adding its wall and process CPU time to `stage` when timings are collected.
    func measure<R>(_ stage: Stage, _ body: () throws -> R) rethrows -> R {
        guard let timings = self else { return try body() }
        let start = DispatchTime.now().uptimeNanoseconds, cpuStart = StageTimings.processCPUSeconds()
        defer {
            timings.add(stage, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9,
                        cpu: StageTimings.processCPUSeconds() - cpuStart)
        }
        return try body()
    }
}
