// Merging overlapping window hits into one box per person, as OpenCV's
// HOGDescriptor::groupRectangles does: boxes whose four sides differ by at most eps times their
// mean smaller size are one class (transitively), a class needs more than `threshold` members,
// its box is the members' mean and its score their best, and a box inside a larger, better
// supported one is dropped.

/// A box in whole pixels.
public struct PixelRect: Equatable, Hashable, Sendable, Codable {
    public var x: Int
    public var y: Int
    public var width: Int
    public var height: Int
    public init(x: Int, y: Int, width: Int, height: Int) { self.x = x; self.y = y; self.width = width; self.height = height }

    public var area: Int { width > 0 && height > 0 ? width * height : 0 }

    public func intersection(_ other: PixelRect) -> PixelRect {
        let x0 = max(x, other.x), y0 = max(y, other.y)
        let x1 = min(x + width, other.x + other.width), y1 = min(y + height, other.y + other.height)
        return x1 > x0 && y1 > y0 ? PixelRect(x: x0, y: y0, width: x1 - x0, height: y1 - y0) : PixelRect(x: x0, y: y0, width: 0, height: 0)
    }

    public func iou(_ other: PixelRect) -> Double {
        let common = intersection(other).area
        let union = area + other.area - common
        return union > 0 ? Double(common) / Double(union) : 0
    }
}

/// OpenCV's cvRound: to nearest, ties to even.
@inline(__always) func roundEven(_ value: Double) -> Int { Int(value.rounded(.toNearestOrEven)) }

public enum RectangleGrouping {
    /// The merged boxes and their scores, classes in order of their first member.
    public static func group(_ rects: [PixelRect], scores: [Double], threshold: Int, eps: Double) -> [(rect: PixelRect, score: Double)] {
        precondition(rects.count == scores.count, "group: \(rects.count) boxes, \(scores.count) scores")
        guard threshold > 0, !rects.isEmpty else { return Array(zip(rects, scores)).map { ($0.0, $0.1) } }
        // Union-find over "similar" pairs.
        var parent = Array(rects.indices)
        func root(_ i: Int) -> Int {
            var r = i
            while parent[r] != r { r = parent[r] }
            var k = i
            while parent[k] != r { let next = parent[k]; parent[k] = r; k = next }
            return r
        }
        for i in rects.indices {
            for j in rects.indices where j > i && similar(rects[i], rects[j], eps: eps) {
                let a = root(i), b = root(j)
                if a != b { parent[max(a, b)] = min(a, b) }
            }
        }
        var classOfRoot: [Int: Int] = [:]
        var sums: [(x: Double, y: Double, w: Double, h: Double)] = []
        var counts: [Int] = []
        var best: [Double] = []
        for i in rects.indices {
            let r = root(i)
            let c: Int
            if let known = classOfRoot[r] { c = known } else {
                c = sums.count; classOfRoot[r] = c
                sums.append((0, 0, 0, 0)); counts.append(0); best.append(-Double.greatestFiniteMagnitude)
            }
            sums[c].x += Double(rects[i].x); sums[c].y += Double(rects[i].y)
            sums[c].w += Double(rects[i].width); sums[c].h += Double(rects[i].height)
            counts[c] += 1
            best[c] = max(best[c], scores[i])
        }
        let means: [PixelRect] = sums.indices.map { c in
            let s = 1.0 / Double(counts[c])
            return PixelRect(x: roundEven(sums[c].x * s), y: roundEven(sums[c].y * s), width: roundEven(sums[c].w * s), height: roundEven(sums[c].h * s))
        }
        var result: [(rect: PixelRect, score: Double)] = []
        for i in means.indices where counts[i] > threshold {
            let r1 = means[i], n1 = counts[i]
            let inside = means.indices.contains { j in
                let n2 = counts[j]
                guard j != i, n2 > threshold else { return false }
                let r2 = means[j]
                let dx = roundEven(Double(r2.width) * eps), dy = roundEven(Double(r2.height) * eps)
                return r1.x >= r2.x - dx && r1.y >= r2.y - dy && r1.x + r1.width <= r2.x + r2.width + dx
                    && r1.y + r1.height <= r2.y + r2.height + dy && (n2 > max(3, n1) || n1 < 3)
            }
            if !inside { result.append((r1, best[i])) }
        }
        return result
    }

    /// OpenCV's SimilarRects.
    static func similar(_ a: PixelRect, _ b: PixelRect, eps: Double) -> Bool {
        let delta = eps * Double(min(a.width, b.width) + min(a.height, b.height)) * 0.5
        return Double(abs(a.x - b.x)) <= delta && Double(abs(a.y - b.y)) <= delta
            && Double(abs(a.x + a.width - b.x - b.width)) <= delta && Double(abs(a.y + a.height - b.y - b.height)) <= delta
    }
}
