// Progress of `posecoord eval` on standard error, at most a few lines a second however many videos.
import Foundation
import PoseCore

final class EvalProgress: @unchecked Sendable {
    private let lock = NSLock()
    private var lastReport = Date.distantPast
    private var reported = false
    private static let intervalSeconds = 0.5

    func report(done: Int, total: Int) {
        lock.lock(); defer { lock.unlock() }
        let now = Date()
        guard done == total || now.timeIntervalSince(lastReport) >= Self.intervalSeconds else { return }
        lastReport = now
        reported = true
        FileHandleOutput.progress("eval: \(done)/\(total) videos")
    }

    func finish() {
        lock.lock(); defer { lock.unlock() }
        if reported { FileHandleOutput.endProgress() }
    }
}
