// Heatmap -> keypoints (FTP-POSE.md section 6), in heatmap pixels: first maximum in row-major
// order, a quarter-pixel step toward the larger neighbour away from the border, score = maximum
// (0 when the maximum is not positive). The map back to the image is the archive's business.

public enum HeatmapDecoder {
    /// heatmaps: [J, height, width] -> [J * 3] of (x, y, score).
    public static func decode(_ heatmaps: UnsafeBufferPointer<Float>, joints: Int, height: Int, width: Int) -> [Float] {
        precondition(heatmaps.count >= joints * height * width)
        var out = [Float](repeating: 0, count: joints * 3)
        for joint in 0..<joints {
            let map = heatmaps.baseAddress! + joint * height * width
            var best = 0
            for i in 1..<(height * width) where map[i] > map[best] { best = i }
            let py = best / width, px = best % width
            let peak = map[best]
            var x = Float(px), y = Float(py)
            if px > 1 && px < width - 1 && py > 1 && py < height - 1 {
                x += 0.25 * sign(map[py * width + px + 1] - map[py * width + px - 1])
                y += 0.25 * sign(map[(py + 1) * width + px] - map[(py - 1) * width + px])
            }
            out[joint * 3] = x
            out[joint * 3 + 1] = y
            out[joint * 3 + 2] = peak > 0 ? peak : 0
        }
        return out
    }

    static func sign(_ value: Float) -> Float { value > 0 ? 1 : (value < 0 ? -1 : 0) }
}
