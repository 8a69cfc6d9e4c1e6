// Splitting independent work over threads. Work items never share a reduction, so results do
// not depend on how many threads run them (the determinism the cluster relies on).
import Dispatch
import Foundation

public enum Parallel {
    /// Carries a closure that touches raw buffers into Dispatch. Safe because every caller hands
    /// disjoint output regions to different indices and waits for all of them.
    private struct UncheckedBody: @unchecked Sendable {
        let body: (Int) -> Void
    }

    /// Hands out task indices to the workers of one `forEach`.
    private final class Counter: @unchecked Sendable {
        private let lock = NSLock()
        private var next = 0
        func take() -> Int {
            lock.lock()
            defer { lock.unlock() }
            next += 1
            return next - 1
        }
    }

    /// Runs `body(i)` for `i in 0..<count`; serially when `threads <= 1`, otherwise on at most
    /// `threads` workers of Dispatch's pool, each taking the next index until none is left.
    public static func forEach(_ count: Int, threads: Int, _ body: (Int) -> Void) {
        if count <= 0 { return }
        if threads <= 1 || count == 1 {
            for i in 0..<count { body(i) }
            return
        }
        withoutActuallyEscaping(body) { escapable in
            let box = UncheckedBody(body: escapable)
            let counter = Counter()
            DispatchQueue.concurrentPerform(iterations: min(threads, count)) { _ in
                while true {
                    let index = counter.take()
                    if index >= count { return }
                    box.body(index)
                }
            }
        }
    }

    /// Runs two closures, concurrently when `threads > 1`.
    public static func both(threads: Int, _ first: () -> Void, _ second: () -> Void) {
        forEach(2, threads: threads) { $0 == 0 ? first() : second() }
    }
}
