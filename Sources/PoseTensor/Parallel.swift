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

    /// Holds a closure until one thread takes it; whoever takes it first runs it.
    private final class Slot: @unchecked Sendable {
        private let lock = NSLock()
        private var body: (() -> Void)?
        init(_ body: @escaping () -> Void) { self.body = body }
        func take() -> (() -> Void)? {
            lock.lock()
            defer { lock.unlock() }
            let taken = body
            body = nil
            return taken
        }
    }

    /// Runs two closures, concurrently when `threads > 1`. `second` is offered to Dispatch's pool
    /// while the caller runs `first`; if no pool thread has picked it up by then, the caller runs
    /// it too (so a starved pool cannot deadlock this). Not a `concurrentPerform`: libdispatch
    /// serialises an apply nested in another apply's worker, which left the `forEach`es inside
    /// the two closures on one thread each, and one core idle once the shorter closure ended.
    public static func both(threads: Int, _ first: () -> Void, _ second: () -> Void) {
        if threads <= 1 {
            first()
            second()
            return
        }
        withoutActuallyEscaping(second) { escapable in
            let slot = Slot(escapable), group = DispatchGroup()
            group.enter()
            DispatchQueue.global().async {
                if let body = slot.take() { body() }   // released before leave: nothing outlives the call
                group.leave()
            }
            first()
            if let body = slot.take() { body() }
            group.wait()   // `second` may still be running on the pool thread that took it
        }
    }
}
