// The thread helpers: every task index runs exactly once whatever the worker count, and the
// scratch pool hands out buffers big enough and never the same one to two users at once.
import Foundation
import XCTest
@testable import PoseTensor

final class ParallelTests: XCTestCase {
    func testEveryIndexRunsOnce() {
        for threads in [1, 2, 7] {
            for count in [0, 1, 3, 50] {
                let hits = UnsafeMutablePointer<Int>.allocate(capacity: max(count, 1))
                hits.initialize(repeating: 0, count: max(count, 1))
                defer { hits.deallocate() }
                Parallel.forEach(count, threads: threads) { hits[$0] += 1 }
                XCTAssertEqual((0..<count).map { hits[$0] }, [Int](repeating: 1, count: count), "threads \(threads), count \(count)")
            }
        }
        var order: [Int] = []
        Parallel.both(threads: 1, { order.append(1) }, { order.append(2) })
        XCTAssertEqual(order, [1, 2])
    }

    /// Inside `both`, a `forEach` of either closure still gets several threads once the other
    /// closure is done: its two tasks meet at a barrier, which two tasks on one thread never pass.
    /// (With `both` on `concurrentPerform`, libdispatch ran the nested apply on one thread.)
    func testForEachInsideBothStillRunsOnSeveralThreads() {
        guard ProcessInfo.processInfo.activeProcessorCount >= 2 else {
            print("skipped the nested-parallelism check: it needs 2 cores, this machine has 1")
            return
        }
        for round in 0..<5 {
            var metBoth = [false, false]
            var secondRan = false
            Parallel.both(threads: 2, {
                let arrived = DispatchSemaphore(value: 0), leave = DispatchSemaphore(value: 0)
                var met = [false, false]
                Parallel.forEach(2, threads: 2) { task in
                    if task == 0 {
                        met[0] = arrived.wait(timeout: .now() + 5) == .success
                        leave.signal()
                    } else {
                        arrived.signal()
                        met[1] = leave.wait(timeout: .now() + 5) == .success
                    }
                }
                metBoth = met
            }, { secondRan = true })
            XCTAssertTrue(secondRan, "round \(round)")
            XCTAssertEqual(metBoth, [true, true], "round \(round): the nested forEach's tasks did not run at the same time")
        }
    }

    /// `both` with threads > 1 runs its closures at the same time: the first waits for a signal
    /// from the second.
    func testBothRunsItsClosuresConcurrently() {
        let signal = DispatchSemaphore(value: 0)
        var received = false
        Parallel.both(threads: 2, { received = signal.wait(timeout: .now() + 5) == .success }, { signal.signal() })
        XCTAssertTrue(received)
    }

    func testScratchPoolBuffersAreLargeEnoughAndNotShared() {
        let pool = ScratchPool()
        let lock = NSLock()
        var inUse = Set<UnsafeMutablePointer<Float>>()
        var overlaps = 0
        Parallel.forEach(16, threads: 4) { i in
            pool.withBuffer(count: 1000 + i * 100) { buffer in
                lock.lock()
                if inUse.contains(buffer) { overlaps += 1 }
                inUse.insert(buffer)
                lock.unlock()
                buffer[999 + i * 100] = 1                    // the last element is writable
                usleep(1000)
                lock.lock()
                inUse.remove(buffer)
                lock.unlock()
            }
        }
        XCTAssertEqual(overlaps, 0)
        let fresh = ScratchPool()
        let first = fresh.withBuffer(count: 10) { $0 }
        let second = fresh.withBuffer(count: 5) { $0 }
        XCTAssertEqual(first, second, "a returned buffer is reused")
    }
}
