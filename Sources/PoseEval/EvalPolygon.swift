// An ignore region, and shapely's `Polygon.contains(Point)` for it (eval_helpers.removeIgnoredPointsRects):
// strictly inside, so points on the boundary stay; the crossing parity rule (GEOS RayCrossingCounter),
// which is what GEOS answers for a self-intersecting ring too.

public struct EvalPolygon: Equatable, Sendable {
    public var xs: [Double]
    public var ys: [Double]

    /// The vertices of one `ignore_regions_x[i]` / `ignore_regions_y[i]` pair. Like Python's `zip`,
    /// the longer list is cut to the shorter. Zero vertices is an empty polygon that contains nothing.
    public init(xs: [Double], ys: [Double]) {
        let count = min(xs.count, ys.count)
        self.xs = Array(xs.prefix(count)); self.ys = Array(ys.prefix(count))
    }

    public var vertexCount: Int { xs.count }

    /// True when (x, y) is in the interior; false on the boundary, outside, or for NaN coordinates.
    public func contains(x: Double, y: Double) -> Bool {
        let count = xs.count
        guard count >= 3, x.isFinite, y.isFinite else { return false }
        var crossings = 0
        for i in 0..<count {
            // Edge p1 -> p2; the ring closes from the last vertex back to the first.
            let x1 = xs[i], y1 = ys[i]
            let x2 = xs[(i + 1) % count], y2 = ys[(i + 1) % count]
            if x1 < x && x2 < x { continue }                       // wholly left of the point
            if x == x2 && y == y2 { return false }                 // a vertex: boundary
            if y1 == y && y2 == y {                                // horizontal edge on the ray's line
                if x >= min(x1, x2) && x <= max(x1, x2) { return false }
                continue
            }
            if (y1 > y && y2 <= y) || (y2 > y && y1 <= y) {
                var side = Self.orientation(x1, y1, x2, y2, x, y)
                if side == 0 { return false }                      // on the edge: boundary
                if y2 < y1 { side = -side }
                if side > 0 { crossings += 1 }
            }
        }
        return crossings % 2 == 1
    }

    /// The side of (x, y) relative to p1 -> p2: 1 left, -1 right, 0 collinear. GEOS decides this in
    /// double-double arithmetic; here the two products keep their rounding errors (fma), which is
    /// exact for the integer and fractional-pixel coordinates annotation tools write.
    static func orientation(_ x1: Double, _ y1: Double, _ x2: Double, _ y2: Double, _ x: Double, _ y: Double) -> Int {
        let dx1 = x2 - x1, dy1 = y2 - y1, dx2 = x - x1, dy2 = y - y1
        let left = dx1 * dy2, right = dy1 * dx2
        let leftError = (-left).addingProduct(dx1, dy2), rightError = (-right).addingProduct(dy1, dx2)
        let determinant = (left - right) + (leftError - rightError)
        if determinant > 0 { return 1 }
        if determinant < 0 { return -1 }
        return 0
    }
}
