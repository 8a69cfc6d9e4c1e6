// The worker's compute side: one thread that takes the units the network side hands it,
// batches windows across units up to the estimator's batch size, runs the model, and hands
// each unit's keypoints back. The network thread never waits on the model.
import Foundation
import PoseCore

/// One unit's work as the compute thread sees it.
public struct ComputeJob: Sendable {
    public var token: UInt64
    public var windows: Int
    public var shape: ModelInputShape
    /// `windows * shape.windowBytes` bytes of crops.
    public var crops: [UInt8]
    public init(token: UInt64, windows: Int, shape: ModelInputShape, crops: [UInt8]) {
        self.token = token; self.windows = windows; self.shape = shape; self.crops = crops
    }
}

/// What the compute side produced for one unit.
public struct ComputeOutcome: Sendable {
    public var token: UInt64
    public var result: Result<[WindowKeypoints], ComputeError>
    public var computeMs: Double
}

public struct ComputeError: Error, Sendable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Sleeps instead of computing and returns deterministic dummy keypoints, for measuring the
/// coordinator and the protocol without a model (`poseworker join --null-model --service-ms N`).
public struct NullPoseEstimator: PoseEstimator {
    public let inputShape: ModelInputShape
    /// Time one unit takes, whatever its size.
    public let serviceMs: Int

    public init(inputShape: ModelInputShape, serviceMs: Int) {
        self.inputShape = inputShape; self.serviceMs = serviceMs
    }

    public func estimate(crops: UnsafeBufferPointer<UInt8>, count: Int) throws -> [WindowKeypoints] {
        (0..<count).map { window in NullPoseEstimator.keypoints(shape: inputShape, window: window, firstByte: crops.isEmpty ? 0 : crops[window * inputShape.windowBytes]) }
    }

    /// Joint j sits at a fixed point of the heatmap that depends only on the window's first crop byte.
    static func keypoints(shape: ModelInputShape, window: Int, firstByte: UInt8) -> WindowKeypoints {
        var values: [Float] = []
        values.reserveCapacity(shape.joints * 3)
        for joint in 0..<shape.joints {
            let x = Float((joint * 7 + Int(firstByte)) % max(1, shape.heatmapWidth))
            let y = Float((joint * 5 + Int(firstByte) / 2) % max(1, shape.heatmapHeight))
            values += [x, y, 0.5]
        }
        return WindowKeypoints(values: values)
    }
}

public final class ComputeQueue: @unchecked Sendable {
    /// Most windows in one model call; results per window do not depend on it (engine contract).
    public let batchWindowsMax: Int
    private let makeEstimator: @Sendable (ModelInputShape) throws -> any PoseEstimator
    private let nullServiceMs: Int?
    private let deliver: @Sendable (ComputeOutcome) -> Void
    private let condition = NSCondition()
    private var queue: [ComputeJob] = []
    private var running = 0
    private var stopped = false
    private var estimators: [ModelInputShape: any PoseEstimator] = [:]
    private var thread: Thread?

    /// `makeEstimator` builds the model for a crop geometry once; `nullServiceMs` set means null mode.
    public init(batchWindowsMax: Int, nullServiceMs: Int?,
                makeEstimator: @escaping @Sendable (ModelInputShape) throws -> any PoseEstimator,
                deliver: @escaping @Sendable (ComputeOutcome) -> Void) {
        precondition(batchWindowsMax >= 1)
        self.batchWindowsMax = batchWindowsMax
        self.nullServiceMs = nullServiceMs
        self.makeEstimator = makeEstimator
        self.deliver = deliver
        let thread = Thread { [unowned self] in self.loop() }
        thread.name = "compute"
        thread.stackSize = 16 << 20
        self.thread = thread
        thread.start()
    }

    public func submit(_ job: ComputeJob) {
        condition.lock()
        queue.append(job)
        condition.signal()
        condition.unlock()
    }

    /// Units queued or running.
    public var pending: Int {
        condition.lock(); defer { condition.unlock() }
        return queue.count + running
    }

    /// Drops queued units (not the running batch), e.g. when the connection they came on is gone.
    public func discardQueued() -> [UInt64] {
        condition.lock(); defer { condition.unlock() }
        let tokens = queue.map(\.token)
        queue.removeAll()
        return tokens
    }

    public func stop() {
        condition.lock()
        stopped = true
        condition.broadcast()
        condition.unlock()
    }

    private func loop() {
        while true {
            condition.lock()
            while queue.isEmpty && !stopped { condition.wait() }
            if stopped { condition.unlock(); return }
            // Take units of one geometry until the batch is full (always at least one unit).
            var batch: [ComputeJob] = [queue.removeFirst()]
            var windows = batch[0].windows
            if nullServiceMs == nil {
                while let next = queue.first, next.shape == batch[0].shape, windows + next.windows <= batchWindowsMax {
                    batch.append(queue.removeFirst())
                    windows += next.windows
                }
            }
            running = batch.count
            condition.unlock()
            run(batch, windows: windows)
            condition.lock()
            running = 0
            condition.unlock()
        }
    }

    private func run(_ batch: [ComputeJob], windows: Int) {
        let start = Date()
        let shape = batch[0].shape
        var outcome: Result<[WindowKeypoints], ComputeError>
        do {
            let estimator: any PoseEstimator
            if let serviceMs = nullServiceMs {
                estimator = estimators[shape] ?? NullPoseEstimator(inputShape: shape, serviceMs: serviceMs)
                estimators[shape] = estimator
            } else {
                estimator = try makeEstimator(shape)
            }
            if let serviceMs = nullServiceMs { usleep(UInt32(serviceMs) * 1000) }
            var crops: [UInt8] = []
            if batch.count == 1 { crops = batch[0].crops } else {
                crops.reserveCapacity(windows * shape.windowBytes)
                for job in batch { crops += job.crops }
            }
            let results = try crops.withUnsafeBufferPointer { try estimator.estimate(crops: $0, count: windows) }
            guard results.count == windows else {
                throw ComputeError("the model returned \(results.count) results for \(windows) windows")
            }
            outcome = .success(results)
        } catch let error as ComputeError {
            outcome = .failure(error)
        } catch {
            outcome = .failure(ComputeError("\(error)"))
        }
        let elapsedMs = Date().timeIntervalSince(start) * 1000
        var offset = 0
        for job in batch {
            let share = elapsedMs * Double(job.windows) / Double(max(1, windows))
            switch outcome {
            case .success(let all):
                deliver(ComputeOutcome(token: job.token, result: .success(Array(all[offset..<(offset + job.windows)])), computeMs: share))
            case .failure(let error):
                deliver(ComputeOutcome(token: job.token, result: .failure(error), computeMs: share))
            }
            offset += job.windows
        }
    }
}
