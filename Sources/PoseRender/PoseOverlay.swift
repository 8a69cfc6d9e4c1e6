// Draws one frame's people from a PoseTrack file onto the frame: the box, the track id on a
// label of the track's colour, the skeleton, and each joint with its score as opacity. Colours
// depend only on the track id, so a person keeps its colour in every frame and every render.
import PoseCore
import PoseMedia

public struct PoseOverlay: Sendable {
    /// 1-based keypoint pairs (PoseTrack's `skeleton`).
    public var skeleton: [[Int]]
    /// Joints and bones below this score are not drawn (scores above it map to opacity).
    public var scoreMin = 0.05

    public init(skeleton: [[Int]] = PoseTrackJoints.skeleton) { self.skeleton = skeleton }

    /// The track's colour: hues spaced by the golden ratio, so neighbouring ids differ clearly.
    public static func colour(trackID: Int) -> RenderColour {
        let hue = (Double(UInt64(bitPattern: Int64(trackID)) % 1_000_003) * 0.618_033_988_749_895).truncatingRemainder(dividingBy: 1)
        return RenderColour(hue: hue, saturation: 0.8, value: 1)
    }

    /// Line widths and sizes for a frame of this size: about 1/240 of the shorter side.
    static func unit(width: Int, height: Int) -> Double { max(1, (Double(min(width, height)) / 240).rounded()) }

    /// Draws `people` (annotations of one image) onto `canvas`.
    public func draw(_ people: [PoseTrackAnnotation], on canvas: inout Canvas) {
        let unit = Self.unit(width: canvas.width, height: canvas.height)
        // Higher track ids last, so the drawing order is that of the file's sort, not of arrival.
        for person in people.sorted(by: { ($0.trackID ?? -1) < ($1.trackID ?? -1) }) {
            let colour = Self.colour(trackID: person.trackID ?? 0)
            let keypoints = person.keypoints ?? []
            let count = keypoints.count / 3
            func point(_ k: Int) -> (x: Double, y: Double, score: Double)? {
                guard k >= 0, k < count else { return nil }
                let x = keypoints[3 * k], y = keypoints[3 * k + 1], v = keypoints[3 * k + 2]
                if x == 0 && y == 0 && v == 0 { return nil }           // not annotated
                let score = person.scores.flatMap { k < $0.count ? $0[k] : nil } ?? v
                return score >= scoreMin ? (x, y, min(1, score)) : nil
            }
            if let box = person.bbox, box.count >= 4 {
                canvas.stroke(x: box[0], y: box[1], width: box[2], height: box[3], thickness: unit, colour, opacity: 0.9)
                if let id = person.trackID { label(String(id), x: box[0], y: box[1], unit: unit, colour, on: &canvas) }
            }
            for pair in skeleton where pair.count == 2 {
                guard let a = point(pair[0] - 1), let b = point(pair[1] - 1) else { continue }
                canvas.line(from: (a.x, a.y), to: (b.x, b.y), thickness: 1.5 * unit, colour, opacity: min(a.score, b.score))
            }
            for k in 0..<count {
                guard let p = point(k) else { continue }
                canvas.disc(centre: (p.x, p.y), radius: 1.5 * unit + 0.5, .white, opacity: p.score)
                canvas.disc(centre: (p.x, p.y), radius: 1.5 * unit - 0.5, colour, opacity: p.score)
            }
        }
    }

    /// The id on a filled tab above the box's top-left corner (inside the frame when the box touches the top).
    func label(_ text: String, x: Double, y: Double, unit: Double, _ colour: RenderColour, on canvas: inout Canvas) {
        let scale = max(1, Int(unit))
        let w = Double(BitmapFont.width(of: text, scale: scale) + 4 * scale)
        let h = Double((BitmapFont.glyphHeight + 4) * scale)
        let left = max(0, min(x - unit / 2, Double(canvas.width) - w)).rounded(.down)
        let top = (y - h - unit / 2 >= 0 ? y - h - unit / 2 : y + unit / 2).rounded(.down)
        canvas.fill(x: left, y: top, width: w, height: h, colour, opacity: 0.9)
        canvas.text(text, x: Int(left) + 2 * scale, y: Int(top) + 2 * scale, scale: scale, colour.contrasting)
    }
}
