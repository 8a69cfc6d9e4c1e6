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
