// The coordinator's producer thread: scans the archive, plans each video, decodes it once and
// crops and compresses its units, handing each to the event loop. It runs only as far ahead as
// the loop grants permits (bounded by the scheduler's queue), so memory follows the in-flight
// window, not the archive. Units already journalled are not cropped again.
import Foundation
import PoseCore
import PoseArchive
import PoseWire

/// What the producer tells the loop, in order.
enum ProducerEvent: @unchecked Sendable {
    /// Videos found by a scan, before any is planned, with their windows estimated from the
    /// detection files: the job's size from the first second.
    case found([(index: Int, name: String, windows: Int)])
    /// A video was found (index = discovery order) and planned.
    case planned(index: Int, plan: VideoPlan)
    /// A video could not be planned (bad detections, unreadable media): it fails as a whole.
    case planFailed(index: Int, entry: VideoEntry, reason: String)
    /// One unit's crops, encoded for the wire.
    case unit(video: Int, unit: Int, windows: Int, payload: UnitPayload, cropMs: Double)
    /// Decoding failed part-way: units not emitted yet will never be.
    case streamFailed(video: Int, emitted: Set<Int>, reason: String)
    /// Every video found so far is produced (and, without --watch, the archive is done).
    case exhausted
    /// Scanning the archive failed (before any video), or found nothing to do without --watch: the job cannot run.
    case scanFailed(String)
    /// Entries the first scan set aside (links leaving the archive, loops, unreadable folders).
    case skipped([SkippedEntry])
}

/// Hands out videos to the producer lanes, in order.
private final class LaneQueue: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [(entry: VideoEntry, index: Int)]
    init(_ items: [(entry: VideoEntry, index: Int)]) { self.items = items.reversed() }
    func next() -> (entry: VideoEntry, index: Int)? {
        lock.lock(); defer { lock.unlock() }
        return items.popLast()
    }
}

final class UnitProducer: @unchecked Sendable {
    private let options: ArchiveOptions
    private let inputShape: ModelInputShape
    private let watchIntervalMs: Int?
    /// Videos decoded at once: ffmpeg start-up and decoding dominate, and run in their own processes.
    private let lanes: Int
    /// Units already done per video name (journal): not cropped again.
    private let skipping: [String: Set<Int>]
    private let send: @Sendable (ProducerEvent) -> Void
    private let condition = NSCondition()
    private var permits = 0
    private var stopped = false
    private var known: Set<String> = []
    /// Paths of the videos handed out or failed, so a rescan fails a duplicate name once.
    private var knownPaths: Set<String> = []
    private var nextIndex = 0
    /// zstd level of unit payloads (1: fastest; the crops compress well at any level).
    static let compressionLevel: Int32 = 1

    init(options: ArchiveOptions, inputShape: ModelInputShape, watchIntervalMs: Int?, lanes: Int, skipping: [String: Set<Int>],
         send: @escaping @Sendable (ProducerEvent) -> Void) {
        precondition(lanes >= 1)
        self.options = options; self.inputShape = inputShape; self.watchIntervalMs = watchIntervalMs; self.lanes = lanes
        self.skipping = skipping; self.send = send
    }

    func start() {
        let thread = Thread { [self] in self.run() }
        thread.name = "producer"
        thread.start()
    }

    /// Lets the producer make `count` more units.
    func grant(_ count: Int) {
        guard count > 0 else { return }
        condition.lock()
        permits += count
        condition.broadcast()
        condition.unlock()
    }

    func stop() {
        condition.lock()
        stopped = true
        condition.broadcast()
        condition.unlock()
    }

    private var isStopped: Bool {
        condition.lock(); defer { condition.unlock() }
        return stopped
    }

    private struct Stopped: Error {}

    private func acquire() throws {
        condition.lock(); defer { condition.unlock() }
        while permits == 0 && !stopped { condition.wait() }
        if stopped { throw Stopped() }
        permits -= 1
    }

    private func run() {
        var first = true
        while !isStopped {
            var scan: ArchiveScan
            do {
                scan = try ArchiveScanner.scanArchive(options)
                if first, watchIntervalMs == nil, let nothing = scan.nothingToDo(archive: options.archive) { throw nothing }
            } catch {
                if first { send(.scanFailed("\(error)")); return }
                // A watching coordinator keeps going when a later rescan fails (files moving).
                scan = ArchiveScan()
            }
            if first && !scan.skipped.isEmpty { send(.skipped(scan.skipped)) }
            first = false
            let entries = scan.videos
            // Videos sharing a name fail as a whole, each once.
            for (entry, reason) in scan.failed where !knownPaths.contains(entry.path) {
                knownPaths.insert(entry.path)
                known.insert(entry.name)
                send(.planFailed(index: nextIndex, entry: entry, reason: reason))
                nextIndex += 1
            }
            // Indices in scan order, given out before any lane starts, so they never depend on timing.
            var work: [(entry: VideoEntry, index: Int)] = []
            for entry in entries where !known.contains(entry.name) {
                known.insert(entry.name)
                knownPaths.insert(entry.path)
                work.append((entry, nextIndex))
                nextIndex += 1
            }
            if !work.isEmpty {
                send(.found(work.map { ($0.index, $0.entry.name, $0.entry.estimatedWindows(options: options) ?? 0) }))
            }
            let queue = LaneQueue(work)
            DispatchQueue.concurrentPerform(iterations: min(lanes, max(1, work.count))) { _ in
                while let item = queue.next() {
                    do {
                        try produce(item.entry, index: item.index)
                    } catch {
                        // Stopped; produce() reports every other failure itself.
                        return
                    }
                }
            }
            if isStopped { return }
            send(.exhausted)
            guard let interval = watchIntervalMs else { return }
            condition.lock()
            _ = condition.wait(until: Date().addingTimeInterval(Double(interval) / 1000))
            condition.unlock()
        }
    }

    private func produce(_ entry: VideoEntry, index: Int) throws {
        let plan: VideoPlan
        do {
            plan = try VideoPlan(entry: entry, options: options, inputShape: inputShape)
        } catch {
            send(.planFailed(index: index, entry: entry, reason: "\(error)"))
            return
        }
        send(.planned(index: index, plan: plan))
        var emitted: Set<Int> = []
        let stream = UnitCropStream(plan: plan)
        var last = Date()
        do {
            try stream.run(skipping: skipping[entry.name] ?? []) { unitIndex, crops in
                let windows = plan.units[unitIndex].windows.count
                try acquire()
                let payload = UnitPayload.encode(crops: crops, windows: windows, shape: inputShape, level: UnitProducer.compressionLevel)
                let now = Date()
                send(.unit(video: index, unit: unitIndex, windows: windows, payload: payload, cropMs: now.timeIntervalSince(last) * 1000))
                last = now
                emitted.insert(unitIndex)
            }
        } catch is Stopped {
            throw Stopped()
        } catch {
            send(.streamFailed(video: index, emitted: emitted, reason: "\(error)"))
        }
    }
}
