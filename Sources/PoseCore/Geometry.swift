// Boxes and the crop affine of FTP-POSE.md section 1, and the map back from heatmap
// pixels to image pixels of section 6. One place for both so they can never disagree.

/// A box in image pixels: top-left corner, width, height.
public struct BoundingBox: Equatable, Hashable, Sendable, Codable {
    public var x: Double
    public var y: Double
    public var width: Double
    public var height: Double

    public init(x: Double, y: Double, width: Double, height: Double) {
        self.x = x; self.y = y; self.width = width; self.height = height
    }

    public var isEmpty: Bool { !(width > 0 && height > 0) }
    public var area: Double { isEmpty ? 0 : width * height }

    /// The part of the box inside a `frameWidth x frameHeight` image.
    public func clipped(frameWidth: Int, frameHeight: Int) -> BoundingBox {
        let x0 = min(max(x, 0), Double(frameWidth)), y0 = min(max(y, 0), Double(frameHeight))
        let x1 = min(max(x + width, 0), Double(frameWidth)), y1 = min(max(y + height, 0), Double(frameHeight))
        return BoundingBox(x: x0, y: y0, width: x1 - x0, height: y1 - y0)
    }

    /// Intersection over union; 0 when either box is empty.
    public func iou(_ other: BoundingBox) -> Double {
        let ix = max(0, min(x + width, other.x + other.width) - max(x, other.x))
        let iy = max(0, min(y + height, other.y + other.height) - max(y, other.y))
        let intersection = ix * iy
        let union = area + other.area - intersection
        return union > 0 ? intersection / union : 0
    }
}

/// The affine that crops one window: centre and enlarged size (`s` of FTP-POSE.md) in
/// image pixels. The same geometry crops all T frames of a window.
public struct CropGeometry: Equatable, Sendable, Codable {
    public var centerX: Double
    public var centerY: Double
    /// `s.w`, `s.h`: the image extent that maps onto the whole crop.
    public var scaleWidth: Double
    public var scaleHeight: Double

    public static let enlargement = 1.25

    public init(centerX: Double, centerY: Double, scaleWidth: Double, scaleHeight: Double) {
        self.centerX = centerX; self.centerY = centerY
        self.scaleWidth = scaleWidth; self.scaleHeight = scaleHeight
    }

    /// Section 1: centre of the box, aspect fixed to `inputWidth / inputHeight` by growing
    /// the box, then enlarged by 1.25.
    public init(box: BoundingBox, inputWidth: Int, inputHeight: Int) {
        let aspect = Double(inputWidth) / Double(inputHeight)
        var w = box.width, h = box.height
        if w > aspect * h { h = w / aspect } else { w = aspect * h }
        self.init(centerX: box.x + box.width / 2, centerY: box.y + box.height / 2,
                  scaleWidth: w * Self.enlargement, scaleHeight: h * Self.enlargement)
    }

    /// Source point in the image for output pixel `(u, v)` of a `width x height` crop.
    @inlinable
    public func sourcePoint(u: Double, v: Double, width: Int, height: Int) -> (x: Double, y: Double) {
        (centerX + (u - Double(width) / 2) * scaleWidth / Double(width),
         centerY + (v - Double(height) / 2) * scaleHeight / Double(height))
    }

    /// Image point of heatmap pixel `(px, py)` of a `heatmapWidth x heatmapHeight` map
    /// (section 6). The same formula as `sourcePoint`, at heatmap resolution.
    @inlinable
    public func imagePoint(heatmapX px: Double, heatmapY py: Double, heatmapWidth: Int, heatmapHeight: Int) -> (x: Double, y: Double) {
        sourcePoint(u: px, v: py, width: heatmapWidth, height: heatmapHeight)
    }

    /// Inverse of `sourcePoint`: where image point `(x, y)` lands in a `width x height` crop.
    @inlinable
    public func cropPoint(x: Double, y: Double, width: Int, height: Int) -> (u: Double, v: Double) {
        ((x - centerX) * Double(width) / scaleWidth + Double(width) / 2,
         (y - centerY) * Double(height) / scaleHeight + Double(height) / 2)
    }
}
