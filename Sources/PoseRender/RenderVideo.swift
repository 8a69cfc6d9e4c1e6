// Rendering a video's poses onto its frames: which people belong to which frame (a PoseTrack
// file's `images`, in order, are the video's frames), reading the frames once in order, and
// writing PNG frames, an MP4, or tiles of a contact sheet.
import Foundation
import PoseCore
import PoseMedia

public enum RenderError: Error, CustomStringConvertible, Equatable {
    case posesDoNotFit(path: String, reason: String)
    case badRange(String)

    public var description: String {
        switch self {
        case .posesDoNotFit(let path, let reason): return "\(path): \(reason)"
        case .badRange(let reason): return reason
        }
    }
}

/// Limits on what render accepts.
public enum RenderLimits {
    /// Tiles of a contact sheet.
    public static let sheetTilesMax = 400
    /// Width in pixels of one contact-sheet tile, at most.
    public static let tileWidthMax = 1920
}

/// One video's people, per frame.
public struct FramePoses: Sendable {
    /// people[frame]: the annotations of the frame-th entry of `images`.
    public var people: [[PoseTrackAnnotation]]
    public var skeleton: [[Int]]

    /// Groups a file's annotations by the position of their image in `images`. An annotation
    /// whose `image_id` names no image is an error (it could not be drawn anywhere).
    public init(file: PoseTrackFile, path: String) throws {
        var position: [Int: Int] = [:]
        for (index, image) in file.images.enumerated() where position[image.id] == nil { position[image.id] = index }
        people = Array(repeating: [], count: file.images.count)
        for (index, annotation) in file.annotations.enumerated() {
            guard let frame = position[annotation.imageID] else {
                throw RenderError.posesDoNotFit(path: path, reason: "annotations[\(index)].image_id \(annotation.imageID) is not the id of any entry of images")
            }
            people[frame].append(annotation)
        }
        skeleton = file.categories.first?.skeleton ?? PoseTrackJoints.skeleton
    }

    /// Reads `OUT/NAME.json`.
    public static func load(path: String) throws -> FramePoses {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw RenderError.posesDoNotFit(path: path, reason: "cannot read the poses: \((error as NSError).localizedDescription)")
        }
        return try FramePoses(file: PoseTrackFile.decode(data, path: path), path: path)
    }

    public func people(inFrame frame: Int) -> [PoseTrackAnnotation] {
        people.indices.contains(frame) ? people[frame] : []
    }
}

public enum RenderVideo {
    /// Parses "A:B" (frames A..<B, 0-based, either side may be left out) against `frameCount`.
    public static func range(_ text: String?, frameCount: Int) throws -> Range<Int> {
        guard let text else { return 0..<frameCount }
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, let lower = parts[0].isEmpty ? 0 : Int(parts[0]), let upper = parts[1].isEmpty ? frameCount : Int(parts[1]),
              lower >= 0, lower < upper else {
            throw RenderError.badRange("--frames must be FIRST:END (frames FIRST up to END - 1, from 0), got \"\(text)\"")
        }
        guard lower < frameCount else {
            throw RenderError.badRange("--frames \(text): the video has \(frameCount) frames (0...\(frameCount - 1))")
        }
        return lower..<min(upper, frameCount)
    }

    /// Reads `source` from its first frame and calls `body` with each frame of `range`, drawn.
    public static func render(source: FrameSource, poses: FramePoses, range: Range<Int>,
                              _ body: (Int, RGBImage) throws -> Void) throws {
        defer { source.close() }
        let overlay = PoseOverlay(skeleton: poses.skeleton)
        var buffer = [UInt8](repeating: 0, count: source.info.frameBytes)
        var frame = 0
        while frame < range.upperBound {
            let more = try buffer.withUnsafeMutableBufferPointer { try source.readFrame(into: $0) }
            guard more else { break }
            if frame >= range.lowerBound {
                var canvas = Canvas(RGBImage(width: source.info.width, height: source.info.height, pixels: buffer))
                overlay.draw(poses.people(inFrame: frame), on: &canvas)
                try body(frame, canvas.image)
            }
            frame += 1
        }
    }

    /// Pads an image with black on the right and bottom to even sizes (what yuv420p MP4 needs).
    public static func evenSized(_ image: RGBImage) -> RGBImage {
        guard image.width % 2 != 0 || image.height % 2 != 0 else { return image }
        var canvas = Canvas(RGBImage(width: image.width + image.width % 2, height: image.height + image.height % 2))
        canvas.paste(image, x: 0, y: 0)
        return canvas.image
    }
}

/// A grid of small frames with a label each, filled in any order.
public struct ContactSheet: Sendable {
    public let columns: Int
    public let tileWidth: Int
    public let tileHeight: Int
    public private(set) var canvas: Canvas
    static let gap = 4
    static let background = RenderColour(red: 24, green: 24, blue: 24)

    /// A sheet for `tiles` frames of `frameWidth` x `frameHeight`, each shrunk by an integer factor to
    /// at most `tileWidth` wide.
    public init(tiles: Int, frameWidth: Int, frameHeight: Int, tileWidth: Int) {
        precondition(tiles >= 1 && tileWidth >= 1, "ContactSheet: \(tiles) tiles of width \(tileWidth)")
        let factor = max(1, (frameWidth + tileWidth - 1) / tileWidth)
        self.tileWidth = (frameWidth + factor - 1) / factor
        self.tileHeight = (frameHeight + factor - 1) / factor
        columns = Int(Double(tiles).squareRoot().rounded(.up))
        let rows = (tiles + columns - 1) / columns
        var canvas = Canvas(RGBImage(width: columns * (self.tileWidth + Self.gap) + Self.gap,
                                     height: rows * (self.tileHeight + Self.gap) + Self.gap))
        canvas.fill(x: 0, y: 0, width: Double(canvas.width), height: Double(canvas.height), Self.background)
        self.canvas = canvas
    }

    /// Puts a drawn frame into cell `index` (row-major) with `label` in its top-left corner.
    public mutating func place(_ frame: RGBImage, at index: Int, label: String) {
        // Frames of another size than the first shrink until they fit the cell too.
        let factor = max(1, (frame.width + tileWidth - 1) / tileWidth, (frame.height + tileHeight - 1) / tileHeight)
        let tile = frame.downscaled(by: factor)
        let x = Self.gap + (index % columns) * (tileWidth + Self.gap), y = Self.gap + (index / columns) * (tileHeight + Self.gap)
        canvas.paste(tile, x: x, y: y)
        let scale = 1
        canvas.fill(x: Double(x), y: Double(y), width: Double(BitmapFont.width(of: label, scale: scale) + 4),
                    height: Double(BitmapFont.glyphHeight + 4), .black, opacity: 0.7)
        canvas.text(label, x: x + 2, y: y + 2, scale: scale, .white)
    }

    /// `count` positions spread evenly over `total` frames (the middle of each of `count` equal parts).
    public static func samples(count: Int, total: Int) -> [Int] {
        guard total > 0 else { return [] }
        let n = min(count, total)
        return (0..<n).map { ((2 * $0 + 1) * total) / (2 * n) }
    }
}
