// Decodes a video once, in frame order, keeping only a sliding buffer of T frames, and emits
// each unit's crops (windows x T x H x W x 3 uint8) as soon as its last window is cropped.
// Memory holds the T frames and the units in progress, never the whole video.
import Dispatch
import PoseCore
import PoseMedia

public final class UnitCropStream {
    public let plan: VideoPlan
    /// Seconds spent reading frames (waiting for the decoder) and cropping, in the last `run`.
    public private(set) var decodeSeconds = 0.0
    public private(set) var cropSeconds = 0.0

    /// Makes the frame source; by default ffmpeg for video files, libjpeg-turbo for folders.
    private let openSource: (VideoPlan) throws -> FrameSource

    public init(plan: VideoPlan) {
        self.plan = plan
        self.openSource = UnitCropStream.defaultSource
    }

    /// With another frame source (tests).
    public init(plan: VideoPlan, source: @escaping (VideoPlan) throws -> FrameSource) {
        self.plan = plan
        self.openSource = source
    }

    static func defaultSource(_ plan: VideoPlan) throws -> FrameSource {
        switch plan.entry.kind {
        case .videoFile:
            return try VideoFileFrameSource(path: plan.entry.path, info: plan.info)
        case .frameFolder:
            let source = try JPEGFolderFrameSource(folder: plan.entry.path)
            guard source.info == plan.info else {
                throw MediaError(.sizeMismatch, path: plan.entry.path, reason: "frames changed since planning: \(source.info) vs \(plan.info)")
            }
            return source
        }
    }

    /// Crops every unit not in `skipping`, calling `emit(unitIndex, crops)` in the order units
    /// complete (ties by unit index). Blocks; `emit` may block for back-pressure. Stops decoding
    /// after the last frame any remaining unit needs. Throws on a decoding error; units emitted
    /// before it are complete and valid.
    public func run(skipping: Set<Int> = [], emit: (Int, [UInt8]) throws -> Void) throws {
        let shape = plan.inputShape
        let half = shape.frames / 2
        let cropBytes = shape.width * shape.height * 3
        // Key frame -> (unit, window) pairs still to crop, in unit order.
        var pending: [Int: [(unit: Int, window: Int)]] = [:]
        var lastKeyFrame = -1
        for unit in plan.units where !skipping.contains(unit.index) {
            for (w, window) in unit.windows.enumerated() {
                pending[window.keyFrame, default: []].append((unit.index, w))
                lastKeyFrame = max(lastKeyFrame, window.keyFrame)
            }
        }
        if pending.isEmpty { return }
        let lastFrameNeeded = min(plan.frameCount - 1, lastKeyFrame + half)

        let source = try openSource(plan)
        defer { source.close() }
        let frameBytes = plan.info.frameBytes
        // Slot f % T holds frame f.
        var ring = [[UInt8]](repeating: [UInt8](repeating: 0, count: frameBytes), count: shape.frames)
        var inProgress: [Int: (crops: [UInt8], remaining: Int)] = [:]

        func cropKeyFrame(_ keyFrame: Int) throws {
            guard let items = pending.removeValue(forKey: keyFrame) else { return }
            var start = DispatchTime.now().uptimeNanoseconds
            let frames = plan.frames(ofKeyFrame: keyFrame)
            for (unitIndex, w) in items {
                let unit = plan.units[unitIndex]
                let window = unit.windows[w]
                let sampler = CropSampler(geometry: window.geometry, width: shape.width, height: shape.height,
                                          frameWidth: plan.frameWidth, frameHeight: plan.frameHeight)
                var state = inProgress.removeValue(forKey: unitIndex)
                    ?? ([UInt8](repeating: 0, count: unit.windows.count * shape.windowBytes), unit.windows.count)
                state.crops.withUnsafeMutableBufferPointer { crops in
                    for (t, frame) in frames.enumerated() {
                        let offset = w * shape.windowBytes + t * cropBytes
                        ring[frame % shape.frames].withUnsafeBufferPointer { pixels in
                            sampler.crop(frame: pixels, into: UnsafeMutableBufferPointer(rebasing: crops[offset..<offset + cropBytes]))
                        }
                    }
                }
                state.remaining -= 1
                if state.remaining == 0 {
                    cropSeconds += Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
                    try emit(unitIndex, state.crops)
                    start = DispatchTime.now().uptimeNanoseconds
                } else {
                    inProgress[unitIndex] = state
                }
            }
            cropSeconds += Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        }

        decodeSeconds = 0
        cropSeconds = 0
        var frame = 0
        while frame <= lastFrameNeeded {
            let readStart = DispatchTime.now().uptimeNanoseconds
            let got = try ring[frame % shape.frames].withUnsafeMutableBufferPointer { try source.readFrame(into: $0) }
            decodeSeconds += Double(DispatchTime.now().uptimeNanoseconds - readStart) / 1e9
            guard got else {
                throw MediaError(.truncated, path: plan.entry.path, reason: "the source ended after \(frame) of \(plan.frameCount) frames")
            }
            if frame - half >= 0 { try cropKeyFrame(frame - half) }
            frame += 1
        }
        // Key frames whose later neighbours are clamped to the last frame decoded.
        for keyFrame in stride(from: max(0, lastFrameNeeded - half + 1), through: lastFrameNeeded, by: 1) { try cropKeyFrame(keyFrame) }
        precondition(pending.isEmpty && inProgress.isEmpty, "UnitCropStream: \(pending.count) key frames and \(inProgress.count) units left")
    }
}
