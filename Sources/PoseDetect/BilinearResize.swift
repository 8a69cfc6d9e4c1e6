// Bilinear resizing in fixed point, bit for bit as OpenCV's `resize(..., INTER_LINEAR_EXACT)`
// for 8-bit images: source position (x + 0.5) / scale - 0.5 in double, weights rounded to 1/256,
// a horizontal pass kept in 8.8 fixed point, a vertical pass rounded from 16 fractional bits,
// edges replicated. The HOG pyramid uses it, so the levels equal OpenCV's byte for byte.
import PoseMedia

public enum BilinearResize {
    /// One output coordinate: the source index and its two weights (sum 256), or an edge.
    struct Tap { var index: Int; var weight0: Int; var weight1: Int }

    /// Taps for `destination` outputs from `source` inputs; `inverseScale` is destination / source
    /// (OpenCV's inv_scale: the fx argument, or the size ratio when a size is given).
    static func taps(source: Int, destination: Int, inverseScale: Double) -> [Tap] {
        let scale = 1.0 / inverseScale
        return (0..<destination).map { x in
            let position = scale * (Double(x) + 0.5) - 0.5
            let index = Int(position.rounded(.down))
            guard index >= 0, source > 1 else { return Tap(index: 0, weight0: 256, weight1: 0) }
            guard index < source - 1 else { return Tap(index: source - 1, weight0: 256, weight1: 0) }
            let weight1 = Int(((position - Double(index)) * 256).rounded(.toNearestOrEven))
            return Tap(index: index, weight0: 256 - weight1, weight1: weight1)
        }
    }

    /// `image` resized to `width x height`. `inverseScale` as OpenCV takes it: nil for the size
    /// ratio (`resize(src, dsize)`), or the factor given as fx = fy.
    public static func resize(_ image: RGBImage, width: Int, height: Int, inverseScale: Double? = nil) -> RGBImage {
        precondition(width > 0 && height > 0 && image.width > 0 && image.height > 0, "resize: empty image")
        let xs = taps(source: image.width, destination: width, inverseScale: inverseScale ?? Double(width) / Double(image.width))
        let ys = taps(source: image.height, destination: height, inverseScale: inverseScale ?? Double(height) / Double(image.height))
        // Horizontal pass of every source row a vertical tap uses, 8.8 fixed point.
        let rowLength = width * 3
        var rows = [Int32](repeating: 0, count: image.height * rowLength)
        var needed = [Bool](repeating: false, count: image.height)
        for tap in ys { needed[tap.index] = true; if tap.weight1 > 0 { needed[tap.index + 1] = true } }
        image.pixels.withUnsafeBufferPointer { source in
            rows.withUnsafeMutableBufferPointer { rows in
                for y in 0..<image.height where needed[y] {
                    let input = source.baseAddress! + y * image.width * 3
                    let output = rows.baseAddress! + y * rowLength
                    for (x, tap) in xs.enumerated() {
                        let a = input + tap.index * 3
                        let b = tap.weight1 > 0 ? a + 3 : a
                        for c in 0..<3 {
                            output[x * 3 + c] = Int32(a[c]) * Int32(tap.weight0) + Int32(b[c]) * Int32(tap.weight1)
                        }
                    }
                }
            }
        }
        var pixels = [UInt8](repeating: 0, count: width * height * 3)
        rows.withUnsafeBufferPointer { rows in
            pixels.withUnsafeMutableBufferPointer { pixels in
                for (y, tap) in ys.enumerated() {
                    let output = pixels.baseAddress! + y * rowLength
                    let row0 = rows.baseAddress! + tap.index * rowLength
                    if tap.weight1 == 0 {
                        // An edge row (or an exact hit): the horizontal value rounded from 8 bits.
                        for i in 0..<rowLength { output[i] = UInt8(min(255, (Int(row0[i]) * tap.weight0 / 256 + 128) >> 8)) }
                    } else {
                        let row1 = row0 + rowLength
                        for i in 0..<rowLength {
                            let value = Int(row0[i]) * tap.weight0 + Int(row1[i]) * tap.weight1
                            output[i] = UInt8(min(255, (value + (1 << 15)) >> 16))
                        }
                    }
                }
            }
        }
        return RGBImage(width: width, height: height, pixels: pixels)
    }
}
