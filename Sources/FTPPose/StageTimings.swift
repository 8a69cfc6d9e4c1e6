// Wall time per stage of the forward pass, for `poseworker bench`. The two MGFE branches overlap,
// so stage times can add up to more than the whole forward pass.
import Foundation

public enum Stage: String, CaseIterable, Sendable {
    case backbone, highRes = "high-res branch", lowRes = "low-res branch", densityPeaks = "DPC", fusionHead = "fusion+head"
}

public final class StageTimings: @unchecked Sendable {
    private let lock = NSLock()
    private var seconds: [Stage: Double] = [:]

    public init() {}

    public func add(_ stage: Stage, _ value: Double) {
        lock.lock()
        seconds[stage, default: 0] += value
        lock.unlock()
    }

    public func total(_ stage: Stage) -> Double {
        lock.lock()
        defer { lock.unlock() }
        return seconds[stage] ?? 0
    }

    public func reset() {
        lock.lock()
        seconds = [:]
        lock.unlock()
    }
}

extension Optional where Wrapped == StageTimings {
    /// Runs `body`, adding its wall time to `stage` when timings are collected.
    func measure<R>(_ stage: Stage, _ body: () throws -> R) rethrows -> R {
        guard let timings = self else { return try body() }
        let start = DispatchTime.now().uptimeNanoseconds
        defer { timings.add(stage, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9) }
        return try body()
    }
}
