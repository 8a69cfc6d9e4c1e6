// The built-in person detector: the frame enlarged by `upscale`, a pyramid of levels each 1.05
// times smaller (OpenCV's exact bilinear resize) down to the 64x128 window, every window scored
// (HOGLevel), hits mapped back and merged (RectangleGrouping), boxes clipped to the frame.
// This is cv2.HOGDescriptor().detectMultiScale(resized, hitThreshold, winStride, (0, 0), scale,
// groupThreshold) with the default people detector. Levels run in parallel; the result does not
// depend on the thread count.
import Dispatch
import Foundation
import PoseCore
import PoseMedia

/// One person found in a frame.
public struct HOGDetection: Equatable, Sendable {
    /// In pixels of the searched (enlarged) frame, as OpenCV returns it.
    public var rect: PixelRect
    /// In pixels of the original frame.
    public var box: BoundingBox
    /// The SVM margin of the best window of the group (OpenCV's weight).
    public var margin: Double
}

/// Per-stage seconds of one `detect` call.
public struct HOGTimings: Sendable {
    public var resize = 0.0
    public var gradients = 0.0
    public var blocks = 0.0
    public var windows = 0.0
}

public struct HOGDetector: Sendable {
    public let parameters: HOGParameters
    public let detector: HOGPeopleDetector
    /// Threads over pyramid levels.
    public let threads: Int

    public init(parameters: HOGParameters = HOGParameters(), threads: Int = 1) {
        precondition(parameters.problem == nil, "HOGDetector: \(parameters.problem ?? "")")
        precondition(threads >= 1, "HOGDetector: threads must be >= 1")
        self.parameters = parameters
        self.detector = .shared
        self.threads = threads
    }

    /// The pyramid scales OpenCV's detectMultiScale searches for an image of this size.
    public func levelScales(width: Int, height: Int) -> [Double] {
        var scales: [Double] = []
        var scale = 1.0
        for _ in 0..<HOGParameters.levelsMax {
            if roundEven(Double(width) / scale) < HOGParameters.windowWidth || roundEven(Double(height) / scale) < HOGParameters.windowHeight { break }
            scales.append(scale)
            scale *= parameters.scaleStep
        }
        return scales
    }

    /// The size of the searched (enlarged) frame.
    public func searchedSize(width: Int, height: Int) -> (width: Int, height: Int) {
        parameters.upscale == 1 ? (width, height) : (roundEven(Double(width) * parameters.upscale), roundEven(Double(height) * parameters.upscale))
    }

    /// The people in one RGB frame.
    public func detect(_ image: RGBImage) -> [HOGDetection] {
        var timings = HOGTimings()
        return detect(image, timings: &timings)
    }

    public func detect(_ image: RGBImage, timings: inout HOGTimings) -> [HOGDetection] {
        let size = searchedSize(width: image.width, height: image.height)
        precondition(size.width * size.height <= HOGParameters.searchedPixelsMax, "HOGDetector: a \(size.width)x\(size.height) search exceeds searchedPixelsMax")
        var start = DispatchTime.now().uptimeNanoseconds
        let searched = parameters.upscale == 1 ? image : BilinearResize.resize(image, width: size.width, height: size.height, inverseScale: parameters.upscale)
        timings.resize += Self.seconds(since: &start)
        let scales = levelScales(width: searched.width, height: searched.height)
        // One slot per level, filled by whichever thread runs it: the order is the levels' order.
        final class Slots: @unchecked Sendable {
            var hits: [[(rect: PixelRect, score: Double)]]
            var seconds: [(Double, Double, Double, Double)]
            init(_ n: Int) { hits = Array(repeating: [], count: n); seconds = Array(repeating: (0, 0, 0, 0), count: n) }
        }
        let slots = Slots(scales.count)
        let parameters = self.parameters, detector = self.detector
        let next = LevelCounter()
        DispatchQueue.concurrentPerform(iterations: min(threads, max(1, scales.count))) { _ in
            while let level = next.take(below: scales.count) {
                var clock = DispatchTime.now().uptimeNanoseconds
                let scale = scales[level]
                let width = roundEven(Double(searched.width) / scale), height = roundEven(Double(searched.height) / scale)
                let levelImage = width == searched.width && height == searched.height ? searched : BilinearResize.resize(searched, width: width, height: height)
                let resize = Self.seconds(since: &clock)
                let gradients = HOGGradients(levelImage)
                let gradientSeconds = Self.seconds(since: &clock)
                let blocks = HOGLevel(gradients)
                let blockSeconds = Self.seconds(since: &clock)
                let hits = blocks.hits(detector: detector, stride: parameters.windowStride, threshold: parameters.hitThreshold)
                let windowWidth = roundEven(Double(HOGParameters.windowWidth) * scale), windowHeight = roundEven(Double(HOGParameters.windowHeight) * scale)
                slots.hits[level] = hits.map { (PixelRect(x: roundEven(Double($0.x) * scale), y: roundEven(Double($0.y) * scale), width: windowWidth, height: windowHeight), $0.score) }
                slots.seconds[level] = (resize, gradientSeconds, blockSeconds, Self.seconds(since: &clock))
            }
        }
        for s in slots.seconds { timings.resize += s.0; timings.gradients += s.1; timings.blocks += s.2; timings.windows += s.3 }
        let candidates = slots.hits.flatMap { $0 }
        let grouped = RectangleGrouping.group(candidates.map(\.rect), scores: candidates.map(\.score),
                                              threshold: parameters.groupThreshold, eps: HOGParameters.groupEpsilon)
        let frame = PixelRect(x: 0, y: 0, width: searched.width, height: searched.height)
        let factor = parameters.upscale
        return grouped.compactMap { item in
            let rect = item.rect.intersection(frame)
            guard rect.area > 0 else { return nil }
            let box = BoundingBox(x: Double(rect.x) / factor, y: Double(rect.y) / factor, width: Double(rect.width) / factor, height: Double(rect.height) / factor)
            return HOGDetection(rect: rect, box: box, margin: item.score)
        }
    }

    static func seconds(since start: inout UInt64) -> Double {
        let now = DispatchTime.now().uptimeNanoseconds
        defer { start = now }
        return Double(now - start) / 1e9
    }
}

/// Hands out level indices to the threads of one detect call.
final class LevelCounter: @unchecked Sendable {
    private var next = 0
    private let lock = NSLock()
    func take(below count: Int) -> Int? {
        lock.lock(); defer { lock.unlock() }
        guard next < count else { return nil }
        next += 1
        return next - 1
    }
}
