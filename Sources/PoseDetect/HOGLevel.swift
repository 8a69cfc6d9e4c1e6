// Dalal-Triggs HOG over one pyramid level, as OpenCV's HOGDescriptor computes it with zero
// padding: gradients of the square-rooted pixel values (the channel of largest magnitude,
// borders reflected), unsigned orientation voted into 9 bins by linear interpolation, every
// 16x16 block on the 8-pixel grid as four 8x8 cells with trilinear votes and a Gaussian window
// (sigma 4), L2-Hys normalised; then every 64x128 window scored by the linear SVM.
// Same float operations in the same order as OpenCV, so scores agree to rounding.
import Foundation
import PoseMedia

/// Orientation votes of every pixel: magnitude split between two neighbouring bins.
struct HOGGradients {
    let width: Int
    let height: Int
    /// 2 per pixel: magnitude * (1 - fraction), magnitude * fraction.
    var votes: [Float]
    /// 2 per pixel: the two bins.
    var bins: [UInt8]

    /// sqrt(0...255): OpenCV's gamma correction.
    static let gamma: [Float] = (0..<256).map { Float($0).squareRoot() }

    init(_ image: RGBImage) {
        width = image.width; height = image.height
        precondition(width >= 2 && height >= 2, "HOGGradients: \(width)x\(height) is too small")
        votes = [Float](repeating: 0, count: width * height * 2)
        bins = [UInt8](repeating: 0, count: width * height * 2)
        let angleScale = Float(Double(HOGParameters.bins) / Double.pi)
        let w = width, h = height
        image.pixels.withUnsafeBufferPointer { pixels in
            votes.withUnsafeMutableBufferPointer { votes in
                bins.withUnsafeMutableBufferPointer { bins in
                    Self.gamma.withUnsafeBufferPointer { lut in
                        for y in 0..<h {
                            // BORDER_REFLECT_101: -1 -> 1, h -> h - 2.
                            let above = pixels.baseAddress! + (y == 0 ? 1 : y - 1) * w * 3
                            let row = pixels.baseAddress! + y * w * 3
                            let below = pixels.baseAddress! + (y == h - 1 ? h - 2 : y + 1) * w * 3
                            for x in 0..<w {
                                let left = (x == 0 ? 1 : x - 1) * 3, right = (x == w - 1 ? w - 2 : x + 1) * 3, at = x * 3
                                // OpenCV sees BGR and keeps, on equal magnitudes, B over G over R.
                                var dx = lut[Int(row[right])] - lut[Int(row[left])]
                                var dy = lut[Int(below[at])] - lut[Int(above[at])]
                                var best = dx * dx + dy * dy
                                let gx = lut[Int(row[right + 1])] - lut[Int(row[left + 1])]
                                let gy = lut[Int(below[at + 1])] - lut[Int(above[at + 1])]
                                let gm = gx * gx + gy * gy
                                if !(best > gm) { dx = gx; dy = gy }
                                best = max(best, gm)
                                let bx = lut[Int(row[right + 2])] - lut[Int(row[left + 2])]
                                let by = lut[Int(below[at + 2])] - lut[Int(above[at + 2])]
                                if !(best > bx * bx + by * by) { dx = bx; dy = by }

                                let magnitude = (dy * dy).addingProduct(dx, dx).squareRoot()
                                var angle = Self.fastAtan2Radians(y: dy, x: dx) * angleScale - 0.5
                                var bin = Int(angle.rounded(.down))
                                angle -= Float(bin)
                                let i = (y * w + x) * 2
                                votes[i] = magnitude * (1 - angle)
                                votes[i + 1] = magnitude * angle
                                if bin < 0 { bin += HOGParameters.bins } else if bin >= HOGParameters.bins { bin -= HOGParameters.bins }
                                bins[i] = UInt8(bin)
                                bins[i + 1] = UInt8(bin + 1 < HOGParameters.bins ? bin + 1 : 0)
                            }
                        }
                    }
                }
            }
        }
    }

    /// OpenCV's `fastAtan2` polynomial (about 0.3 degree accurate) in radians, [0, 2 pi).
    static func fastAtan2Radians(y: Float, x: Float) -> Float {
        let p1: Float = 0.9997878412794807 * Float(180 / Double.pi)
        let p3: Float = -0.3258083974640975 * Float(180 / Double.pi)
        let p5: Float = 0.1555786518463281 * Float(180 / Double.pi)
        let p7: Float = -0.04432655554792128 * Float(180 / Double.pi)
        let ax = abs(x), ay = abs(y)
        let c = min(ax, ay) / (max(ax, ay) + Float(Double.ulpOfOne))
        let cc = c * c
        var a = p1.addingProduct(p3.addingProduct(p5.addingProduct(p7, cc), cc), cc) * c
        if !(ax >= ay) { a = 90 - a }
        if x < 0 { a = 180 - a }
        if y < 0 { a = 360 - a }
        return a * Float(Double.pi / 180)
    }
}

/// Where one pixel of a block votes: up to four cells (histogram offsets) with their weights,
/// already multiplied by the block's Gaussian weight at that pixel.
struct HOGPixelVote {
    var dx: Int
    var dy: Int
    var offsets: (Int, Int, Int, Int)
    var weights: (Float, Float, Float, Float)
    var cells: Int
}

enum HOGBlockLayout {
    /// The 256 pixels of a block in OpenCV's order: pixels voting into one cell, then two, then
    /// four, each group column by column. Cells are numbered column-major (x * 2 + y).
    static let votes: [HOGPixelVote] = {
        let size = HOGParameters.blockSize, cell = HOGParameters.cellSize, cells = size / cell, bins = HOGParameters.bins
        let scale = 1 / (HOGParameters.blockSigma * HOGParameters.blockSigma * 2)
        let half = Float(size) * 0.5
        var groups: [[HOGPixelVote]] = [[], [], []]
        for j in 0..<size {
            for i in 0..<size {
                let di = (Float(i) - half) * (Float(i) - half), dj = (Float(j) - half) * (Float(j) - half)
                let gaussian = expf(-(di + dj) * scale)
                var cellX = (Float(j) + 0.5) / Float(cell) - 0.5, cellY = (Float(i) + 0.5) / Float(cell) - 0.5
                let x0 = Int(cellX.rounded(.down)), y0 = Int(cellY.rounded(.down))
                var x1 = x0 + 1, y1 = y0 + 1
                cellX -= Float(x0); cellY -= Float(y0)
                let xInside = x0 >= 0 && x1 < cells, yInside = y0 >= 0 && y1 < cells
                var parts: [(Int, Float)] = []
                if xInside && yInside {
                    parts = [((x0 * cells + y0) * bins, (1 - cellX) * (1 - cellY)), ((x1 * cells + y0) * bins, cellX * (1 - cellY)),
                             ((x0 * cells + y1) * bins, (1 - cellX) * cellY), ((x1 * cells + y1) * bins, cellX * cellY)]
                } else if xInside {
                    if y0 >= 0 && y0 < cells { y1 = y0; cellY = 1 - cellY }
                    parts = [((x0 * cells + y1) * bins, (1 - cellX) * cellY), ((x1 * cells + y1) * bins, cellX * cellY)]
                } else {
                    if x0 >= 0 && x0 < cells { x1 = x0; cellX = 1 - cellX }
                    if yInside {
                        parts = [((x1 * cells + y0) * bins, cellX * (1 - cellY)), ((x1 * cells + y1) * bins, cellX * cellY)]
                    } else {
                        if y0 >= 0 && y0 < cells { y1 = y0; cellY = 1 - cellY }
                        parts = [((x1 * cells + y1) * bins, cellX * cellY)]
                    }
                }
                let padded = parts + Array(repeating: (0, Float(0)), count: 4 - parts.count)
                let group = parts.count == 1 ? 0 : parts.count == 2 ? 1 : 2
                groups[group].append(HOGPixelVote(
                    dx: j, dy: i, offsets: (padded[0].0, padded[1].0, padded[2].0, padded[3].0),
                    weights: (gaussian * padded[0].1, gaussian * padded[1].1, gaussian * padded[2].1, gaussian * padded[3].1),
                    cells: parts.count))
            }
        }
        return groups[0] + groups[1] + groups[2]
    }()
}

/// The normalised histogram of every block on the 8-pixel grid of one level, and the SVM
/// margin of every window.
struct HOGLevel {
    let blocksX: Int
    let blocksY: Int
    /// blocksY x blocksX x 36.
    var blocks: [Float]

    init(_ gradients: HOGGradients) {
        let size = HOGParameters.blockSize, stride = HOGParameters.blockStride, histogramSize = HOGParameters.blockHistogramSize
        blocksX = (gradients.width - size) / stride + 1
        blocksY = (gradients.height - size) / stride + 1
        precondition(blocksX >= 1 && blocksY >= 1, "HOGLevel: \(gradients.width)x\(gradients.height) holds no block")
        blocks = [Float](repeating: 0, count: blocksX * blocksY * histogramSize)
        let width = gradients.width, bx = blocksX, by = blocksY
        HOGBlockLayout.votes.withUnsafeBufferPointer { layout in
            gradients.votes.withUnsafeBufferPointer { votes in
                gradients.bins.withUnsafeBufferPointer { bins in
                    blocks.withUnsafeMutableBufferPointer { blocks in
                        for y in 0..<by {
                            for x in 0..<bx {
                                let hist = blocks.baseAddress! + (y * bx + x) * histogramSize
                                let origin = y * stride * width + x * stride
                                for pixel in layout {
                                    let p = (origin + pixel.dy * width + pixel.dx) * 2
                                    let a0 = votes[p], a1 = votes[p + 1]
                                    let h0 = Int(bins[p]), h1 = Int(bins[p + 1])
                                    Self.vote(hist + pixel.offsets.0, pixel.weights.0, h0, h1, a0, a1)
                                    if pixel.cells >= 2 { Self.vote(hist + pixel.offsets.1, pixel.weights.1, h0, h1, a0, a1) }
                                    if pixel.cells == 4 {
                                        Self.vote(hist + pixel.offsets.2, pixel.weights.2, h0, h1, a0, a1)
                                        Self.vote(hist + pixel.offsets.3, pixel.weights.3, h0, h1, a0, a1)
                                    }
                                }
                                Self.normalize(hist)
                            }
                        }
                    }
                }
            }
        }
    }

    @inline(__always)
    static func vote(_ cell: UnsafeMutablePointer<Float>, _ weight: Float, _ h0: Int, _ h1: Int, _ a0: Float, _ a1: Float) {
        let t0 = cell[h0] + a0 * weight
        let t1 = cell[h1] + a1 * weight
        cell[h0] = t0; cell[h1] = t1
    }

    /// L2-Hys: scale by 1 / (|h| + 0.1 n), clip at 0.2, scale by 1 / (|h| + 0.001). Sums in four
    /// lanes as OpenCV's SIMD code adds them.
    static func normalize(_ hist: UnsafeMutablePointer<Float>) {
        let n = HOGParameters.blockHistogramSize
        var lanes = SIMD4<Float>(repeating: 0)
        for i in stride(from: 0, to: n, by: 4) {
            let v = UnsafeRawPointer(hist + i).loadUnaligned(as: SIMD4<Float>.self)
            lanes += v * v
        }
        var scale = 1 / ((lanes[0] + lanes[1] + (lanes[2] + lanes[3])).squareRoot() + Float(n) * 0.1)
        let threshold = SIMD4<Float>(repeating: HOGParameters.l2HysThreshold)
        lanes = .zero
        for i in stride(from: 0, to: n, by: 4) {
            let v = pointwiseMin(UnsafeRawPointer(hist + i).loadUnaligned(as: SIMD4<Float>.self) * scale, threshold)
            UnsafeMutableRawPointer(hist + i).storeBytes(of: v, as: SIMD4<Float>.self)
            lanes += v * v
        }
        scale = 1 / ((lanes[0] + lanes[1] + (lanes[2] + lanes[3])).squareRoot() + 1e-3)
        for i in 0..<n { hist[i] *= scale }
    }

    /// Top-left corners (level pixels) and margins of the windows scoring at least `threshold`,
    /// row by row. `stride` is in pixels, a multiple of the block stride.
    func hits(detector: HOGPeopleDetector, stride: Int, threshold: Double) -> [(x: Int, y: Int, score: Double)] {
        let step = stride / HOGParameters.blockStride
        let wx = HOGParameters.blocksPerWindowX, wy = HOGParameters.blocksPerWindowY, n = HOGParameters.blockHistogramSize
        guard blocksX >= wx, blocksY >= wy else { return [] }
        let windowsX = (blocksX - wx) / step + 1, windowsY = (blocksY - wy) / step + 1
        var found: [(x: Int, y: Int, score: Double)] = []
        let bias = Double(detector.bias)
        blocks.withUnsafeBufferPointer { blocks in
            detector.weights.withUnsafeBufferPointer { weights in
                for row in 0..<windowsY {
                    for column in 0..<windowsX {
                        var score = bias
                        for j in 0..<wx {
                            for i in 0..<wy {
                                let block = UnsafeRawPointer(blocks.baseAddress! + ((row * step + i) * blocksX + column * step + j) * n)
                                let svm = UnsafeRawPointer(weights.baseAddress! + (j * wy + i) * n)
                                var sum = svm.loadUnaligned(as: SIMD4<Float>.self) * block.loadUnaligned(as: SIMD4<Float>.self)
                                for k in Swift.stride(from: 16, to: n * 4, by: 16) {
                                    sum += block.loadUnaligned(fromByteOffset: k, as: SIMD4<Float>.self) * svm.loadUnaligned(fromByteOffset: k, as: SIMD4<Float>.self)
                                }
                                score += Double((sum[0] + sum[2]) + (sum[1] + sum[3]))
                            }
                        }
                        if score >= threshold { found.append((column * stride, row * stride, score)) }
                    }
                }
            }
        }
        return found
    }
}
