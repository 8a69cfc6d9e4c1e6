// The window crop of FTP-POSE.md section 1: for output pixel (u, v) the source point is
// CropGeometry.sourcePoint(u, v); exact bilinear sampling where each of the four neighbours
// reads 0 outside the image. Two kernels: a plain per-pixel reference in Double, and the fast
// one used by the pipeline, which precomputes per-row and per-column indices and weights once
// per window (all T frames of a window share them) and then only multiplies and adds.
import PoseCore

/// Per-window sampling tables: which source rows/columns each output pixel reads and with what
/// weight. A neighbour outside the image gets weight 0 (and a clamped, harmless index).
public struct CropSampler: Sendable {
    public let width: Int
    public let height: Int
    public let frameWidth: Int
    public let frameHeight: Int
    /// Per output column: byte offsets (x * 3) of the left and right neighbours, and their weights.
    @usableFromInline let columnLeft: [Int32]
    @usableFromInline let columnRight: [Int32]
    @usableFromInline let columnLeftWeight: [Float]
    @usableFromInline let columnRightWeight: [Float]
    /// Per output row: row indices of the top and bottom neighbours, and their weights.
    @usableFromInline let rowTop: [Int32]
    @usableFromInline let rowBottom: [Int32]
    @usableFromInline let rowTopWeight: [Float]
    @usableFromInline let rowBottomWeight: [Float]

    public init(geometry: CropGeometry, width: Int, height: Int, frameWidth: Int, frameHeight: Int) {
        precondition(width > 0 && height > 0 && frameWidth > 0 && frameHeight > 0, "CropSampler: empty crop or frame")
        self.width = width; self.height = height; self.frameWidth = frameWidth; self.frameHeight = frameHeight
        func axis(count: Int, extent: Int, source: (Int) -> Double) -> (low: [Int32], high: [Int32], lowWeight: [Float], highWeight: [Float]) {
            var low = [Int32](), high = [Int32](), lowWeight = [Float](), highWeight = [Float]()
            low.reserveCapacity(count); high.reserveCapacity(count); lowWeight.reserveCapacity(count); highWeight.reserveCapacity(count)
            for i in 0..<count {
                let s = source(i)
                let floorValue = s.rounded(.down)
                let fraction = s - floorValue
                // Far outside the image both neighbours are out: clamp before converting to Int.
                let i0 = Int(max(-2, min(Double(extent + 1), floorValue)))
                let i1 = i0 + 1
                let inside0 = i0 >= 0 && i0 < extent, inside1 = i1 >= 0 && i1 < extent
                low.append(Int32(min(max(i0, 0), extent - 1)))
                high.append(Int32(min(max(i1, 0), extent - 1)))
                lowWeight.append(inside0 ? Float(1 - fraction) : 0)
                highWeight.append(inside1 ? Float(fraction) : 0)
            }
            return (low, high, lowWeight, highWeight)
        }
        let columns = axis(count: width, extent: frameWidth) { u in
            geometry.sourcePoint(u: Double(u), v: 0, width: width, height: height).x
        }
        let rows = axis(count: height, extent: frameHeight) { v in
            geometry.sourcePoint(u: 0, v: Double(v), width: width, height: height).y
        }
        columnLeft = columns.low.map { $0 * 3 }; columnRight = columns.high.map { $0 * 3 }
        columnLeftWeight = columns.lowWeight; columnRightWeight = columns.highWeight
        rowTop = rows.low; rowBottom = rows.high; rowTopWeight = rows.lowWeight; rowBottomWeight = rows.highWeight
    }

    /// Crops `frame` (`frameHeight x frameWidth x 3` bytes) into `output` (`height x width x 3`),
    /// rounding to the nearest uint8 (the wire format).
    @inlinable
    public func crop(frame: UnsafeBufferPointer<UInt8>, into output: UnsafeMutableBufferPointer<UInt8>) {
        precondition(frame.count == frameWidth * frameHeight * 3 && output.count == width * height * 3, "crop: buffer sizes")
        sample(frame: frame) { index, r, g, b in
            output[index] = UInt8(truncatingIfNeeded: Int32(r + 0.5))
            output[index + 1] = UInt8(truncatingIfNeeded: Int32(g + 0.5))
            output[index + 2] = UInt8(truncatingIfNeeded: Int32(b + 0.5))
        }
    }

    /// The same crop without rounding: values 0...255 as Float (for parity with the reference).
    @inlinable
    public func cropFloat(frame: UnsafeBufferPointer<UInt8>, into output: UnsafeMutableBufferPointer<Float>) {
        precondition(frame.count == frameWidth * frameHeight * 3 && output.count == width * height * 3, "cropFloat: buffer sizes")
        sample(frame: frame) { index, r, g, b in
            output[index] = r; output[index + 1] = g; output[index + 2] = b
        }
    }

    @inlinable @inline(__always)
    func sample(frame: UnsafeBufferPointer<UInt8>, store: (Int, Float, Float, Float) -> Void) {
        let rowBytes = frameWidth * 3
        let base = frame.baseAddress!
        columnLeft.withUnsafeBufferPointer { left in
        columnRight.withUnsafeBufferPointer { right in
        columnLeftWeight.withUnsafeBufferPointer { leftWeight in
        columnRightWeight.withUnsafeBufferPointer { rightWeight in
            var index = 0
            for v in 0..<height {
                let top = base + Int(rowTop[v]) * rowBytes, bottom = base + Int(rowBottom[v]) * rowBytes
                let wt = rowTopWeight[v], wb = rowBottomWeight[v]
                if wt == 0 && wb == 0 {
                    for _ in 0..<width { store(index, 0, 0, 0); index += 3 }
                    continue
                }
                for u in 0..<width {
                    let l = Int(left[u]), r = Int(right[u])
                    let wl = leftWeight[u], wr = rightWeight[u]
                    // Horizontal on both rows, then vertical: 6 products per channel.
                    let tr = wl * Float(top[l]) + wr * Float(top[r])
                    let tg = wl * Float(top[l + 1]) + wr * Float(top[r + 1])
                    let tb = wl * Float(top[l + 2]) + wr * Float(top[r + 2])
                    let br = wl * Float(bottom[l]) + wr * Float(bottom[r])
                    let bg = wl * Float(bottom[l + 1]) + wr * Float(bottom[r + 1])
                    let bb = wl * Float(bottom[l + 2]) + wr * Float(bottom[r + 2])
                    store(index, wt * tr + wb * br, wt * tg + wb * bg, wt * tb + wb * bb)
                    index += 3
                }
            }
        }}}}
    }
}

/// The plain reference: one pixel at a time, coordinates and sums in Double, straight from the
/// formula. Slow; the fast kernel is tested against it and against the Python reference.
public enum CropReference {
    public static func crop(image: RGBImage, geometry: CropGeometry, width: Int, height: Int) -> [Double] {
        var output = [Double](repeating: 0, count: width * height * 3)
        func pixel(_ x: Int, _ y: Int, _ c: Int) -> Double {
            guard x >= 0, x < image.width, y >= 0, y < image.height else { return 0 }
            return Double(image.pixels[(y * image.width + x) * 3 + c])
        }
        for v in 0..<height {
            for u in 0..<width {
                let (xs, ys) = geometry.sourcePoint(u: Double(u), v: Double(v), width: width, height: height)
                let x0 = xs.rounded(.down), y0 = ys.rounded(.down)
                let fx = xs - x0, fy = ys - y0
                let ix = Int(max(-2, min(Double(image.width + 1), x0))), iy = Int(max(-2, min(Double(image.height + 1), y0)))
                for c in 0..<3 {
                    let value = (1 - fy) * ((1 - fx) * pixel(ix, iy, c) + fx * pixel(ix + 1, iy, c))
                        + fy * ((1 - fx) * pixel(ix, iy + 1, c) + fx * pixel(ix + 1, iy + 1, c))
                    output[(v * width + u) * 3 + c] = value
                }
            }
        }
        return output
    }
}
