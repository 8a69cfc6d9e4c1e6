// Plain implementations of every kernel, written for obviousness, not speed: the yardstick the
// fast kernels are tested against (double accumulation, libm exp/erf).
import Foundation

public enum ReferenceKernels {
    /// C = A W^T + bias, w: [N, K].
    public static func linear(a: [Float], m: Int, k: Int, w: [Float], n: Int, bias: [Float]?) -> [Float] {
        var c = [Float](repeating: 0, count: m * n)
        for i in 0..<m {
            for j in 0..<n {
                var sum = Double(bias?[j] ?? 0)
                for kk in 0..<k { sum += Double(a[i * k + kk]) * Double(w[j * k + kk]) }
                c[i * n + j] = Float(sum)
            }
        }
        return c
    }

    public static func layerNorm(_ x: [Float], rows: Int, cols: Int, weight: [Float], bias: [Float], eps: Double = 1e-6) -> [Float] {
        var y = x
        for r in 0..<rows {
            let row = x[(r * cols)..<((r + 1) * cols)].map(Double.init)
            let mean = row.reduce(0, +) / Double(cols)
            let variance = row.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(cols)
            for j in 0..<cols { y[r * cols + j] = Float((row[j] - mean) / (variance + eps).squareRoot() * Double(weight[j]) + Double(bias[j])) }
        }
        return y
    }

    public static func gelu(_ x: [Float]) -> [Float] { x.map { Float(0.5 * Double($0) * (1 + Foundation.erf(Double($0) / 2.0.squareRoot()))) } }

    public static func softmax(_ x: [Float], rows: Int, cols: Int, scale: Float = 1) -> [Float] {
        var y = x
        for r in 0..<rows {
            let row = x[(r * cols)..<((r + 1) * cols)].map { Double($0) * Double(scale) }
            let maximum = row.max()!
            let e = row.map { Foundation.exp($0 - maximum) }
            let sum = e.reduce(0, +)
            for j in 0..<cols { y[r * cols + j] = Float(e[j] / sum) }
        }
        return y
    }

    /// One sequence: q [nq, heads*hd], k, v [nk, heads*hd] -> [nq, heads*hd].
    public static func attention(q: [Float], k: [Float], v: [Float], queries: Int, keys: Int, heads: Int, headDim: Int) -> [Float] {
        let width = heads * headDim
        var out = [Float](repeating: 0, count: queries * width)
        let scale = 1 / Double(headDim).squareRoot()
        for h in 0..<heads {
            for i in 0..<queries {
                var scores = [Double](repeating: 0, count: keys)
                for j in 0..<keys {
                    var s = 0.0
                    for d in 0..<headDim { s += Double(q[i * width + h * headDim + d]) * scale * Double(k[j * width + h * headDim + d]) }
                    scores[j] = s
                }
                let maximum = scores.max()!
                let e = scores.map { Foundation.exp($0 - maximum) }
                let sum = e.reduce(0, +)
                for d in 0..<headDim {
                    var acc = 0.0
                    for j in 0..<keys { acc += e[j] / sum * Double(v[j * width + h * headDim + d]) }
                    out[i * width + h * headDim + d] = Float(acc)
                }
            }
        }
        return out
    }

    /// Direct convolution 3 -> channels, kernel = stride = patch, zero padding; output tokens [grid, channels].
    public static func patchEmbed(image: [Float], height: Int, width: Int, weight: [Float], bias: [Float], channels: Int, patch: Int, padding: Int) -> [Float] {
        let gh = (height + 2 * padding - patch) / patch + 1, gw = (width + 2 * padding - patch) / patch + 1
        var out = [Float](repeating: 0, count: gh * gw * channels)
        for oc in 0..<channels {
            for gy in 0..<gh {
                for gx in 0..<gw {
                    var sum = Double(bias[oc])
                    for c in 0..<3 {
                        for ky in 0..<patch {
                            for kx in 0..<patch {
                                let y = gy * patch - padding + ky, x = gx * patch - padding + kx
                                guard y >= 0, y < height, x >= 0, x < width else { continue }
                                sum += Double(image[(c * height + y) * width + x]) * Double(weight[((oc * 3 + c) * patch + ky) * patch + kx])
                            }
                        }
                    }
                    out[(gy * gw + gx) * channels + oc] = Float(sum)
                }
            }
        }
        return out
    }

    /// Bilinear, align_corners=false, integer factor, on [channels, h, w] planes (PyTorch layout).
    public static func upsampleBilinear(planes: [Float], channels: Int, height: Int, width: Int, factor: Int) -> [Float] {
        let oh = height * factor, ow = width * factor
        var out = [Float](repeating: 0, count: channels * oh * ow)
        func source(_ i: Int, _ size: Int) -> (Int, Int, Double) {
            let s = max((Double(i) + 0.5) / Double(factor) - 0.5, 0)
            let i0 = min(Int(s.rounded(.down)), size - 1)
            return (i0, min(i0 + 1, size - 1), s - Double(i0))
        }
        for c in 0..<channels {
            for oy in 0..<oh {
                let (y0, y1, ly) = source(oy, height)
                for ox in 0..<ow {
                    let (x0, x1, lx) = source(ox, width)
                    func at(_ y: Int, _ x: Int) -> Double { Double(planes[(c * height + y) * width + x]) }
                    let value = (1 - ly) * ((1 - lx) * at(y0, x0) + lx * at(y0, x1)) + ly * ((1 - lx) * at(y1, x0) + lx * at(y1, x1))
                    out[(c * oh + oy) * ow + ox] = Float(value)
                }
            }
        }
        return out
    }
}
