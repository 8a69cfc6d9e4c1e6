// Drawing the synthetic frames: a textured cluttered background, people as shaded textured
// capsules, occluding objects, and a per-pixel owner map (which person or object is in front)
// from which joint visibility is read. Integer-free of randomness: all noise is hashed.
import Foundation
import PoseCore
import PoseMedia

struct SynthCanvas {
    let width: Int
    let height: Int
    var pixels: [UInt8]
    /// 0: background, 1...: person index + 1, 255: an occluding object.
    var owner: [UInt8]
    static let objectOwner: UInt8 = 255

    init(background: RGBImage) {
        width = background.width; height = background.height
        pixels = background.pixels
        owner = [UInt8](repeating: 0, count: width * height)
    }

    /// A filled capsule (segment with radius), shaded toward its edge and textured along it.
    mutating func capsule(_ a: (x: Double, y: Double), _ b: (x: Double, y: Double), radius: Double,
                          colour: (Double, Double, Double), stripes: Double, owner id: UInt8) {
        let minX = max(0, Int((min(a.x, b.x) - radius).rounded(.down))), maxX = min(width - 1, Int((max(a.x, b.x) + radius).rounded(.up)))
        let minY = max(0, Int((min(a.y, b.y) - radius).rounded(.down))), maxY = min(height - 1, Int((max(a.y, b.y) + radius).rounded(.up)))
        guard minX <= maxX, minY <= maxY, radius > 0 else { return }
        let dx = b.x - a.x, dy = b.y - a.y
        let lengthSquared = max(dx * dx + dy * dy, 1e-9)
        let length = lengthSquared.squareRoot()
        for y in minY...maxY {
            let py = Double(y) + 0.5
            for x in minX...maxX {
                let px = Double(x) + 0.5
                let t = max(0, min(1, ((px - a.x) * dx + (py - a.y) * dy) / lengthSquared))
                let ex = px - (a.x + t * dx), ey = py - (a.y + t * dy)
                let d2 = ex * ex + ey * ey
                guard d2 <= radius * radius else { continue }
                let edge = (d2.squareRoot() / radius)
                var shade = 1.0 - 0.45 * edge * edge
                if stripes > 0 { shade *= 1 - stripes * (sin(t * length * 0.6) > 0 ? 1 : 0) }
                let i = y * width + x
                pixels[i * 3] = UInt8(max(0, min(255, colour.0 * shade)))
                pixels[i * 3 + 1] = UInt8(max(0, min(255, colour.1 * shade)))
                pixels[i * 3 + 2] = UInt8(max(0, min(255, colour.2 * shade)))
                owner[i] = id
            }
        }
    }

    /// A filled axis-aligned rectangle with a hashed texture (objects in front of people).
    mutating func block(x0: Int, y0: Int, x1: Int, y1: Int, colour: (Double, Double, Double), seed: UInt64) {
        let left = max(0, x0), right = min(width, x1), top = max(0, y0), bottom = min(height, y1)
        guard left < right, top < bottom else { return }   // wholly outside the frame
        for y in top..<bottom {
            for x in left..<right {
                let n = Double(hash(x / 3, y / 3, seed) & 63) / 63 * 0.3 + 0.7
                let i = y * width + x
                pixels[i * 3] = UInt8(colour.0 * n); pixels[i * 3 + 1] = UInt8(colour.1 * n); pixels[i * 3 + 2] = UInt8(colour.2 * n)
                owner[i] = Self.objectOwner
            }
        }
    }

    /// Horizontal box blur over the pixels of one owner: the smear of a fast mover.
    mutating func motionBlur(owner id: UInt8, radius: Int) {
        guard radius > 0 else { return }
        var row = [UInt8](repeating: 0, count: width * 3)
        for y in 0..<height {
            let base = y * width
            guard owner[base..<base + width].contains(id) else { continue }
            for i in 0..<width * 3 { row[i] = pixels[base * 3 + i] }
            for x in 0..<width where owner[base + x] == id || (x > 0 && owner[base + x - 1] == id) || (x + 1 < width && owner[base + x + 1] == id) {
                for c in 0..<3 {
                    var sum = 0, n = 0
                    for k in max(0, x - radius)...min(width - 1, x + radius) { sum += Int(row[k * 3 + c]); n += 1 }
                    pixels[(base + x) * 3 + c] = UInt8(sum / n)
                }
            }
        }
    }

    var image: RGBImage { RGBImage(width: width, height: height, pixels: pixels) }
}

@inline(__always)
func hash(_ x: Int, _ y: Int, _ seed: UInt64) -> UInt64 {
    var h = seed &+ UInt64(truncatingIfNeeded: x) &* 0x9E37_79B9_7F4A_7C15 &+ UInt64(truncatingIfNeeded: y) &* 0xC2B2_AE3D_27D4_EB4F
    h = (h ^ (h >> 29)) &* 0xBF58_476D_1CE4_E5B9
    return h ^ (h >> 32)
}

enum SynthBackground {
    /// A static cluttered scene: a two-tone gradient (wall and floor), tiled and noisy texture,
    /// and random rectangles and discs of furniture-like clutter.
    static func make(width: Int, height: Int, rng: inout SplitMix64) -> RGBImage {
        var pixels = [UInt8](repeating: 0, count: width * height * 3)
        let horizon = Int(Double(height) * rng.uniform(0.35, 0.6))
        let wall = (rng.uniform(60, 200), rng.uniform(60, 200), rng.uniform(60, 200))
        let floor = (rng.uniform(40, 160), rng.uniform(40, 160), rng.uniform(40, 160))
        let tile = rng.int(6...18)
        let seed = rng.next()
        for y in 0..<height {
            for x in 0..<width {
                let base = y < horizon ? wall : floor
                let checker = ((x / tile + y / tile) & 1) == 0 ? 1.0 : 0.9
                let gradient = 0.8 + 0.2 * Double(y) / Double(height)
                let noise = Double(hash(x, y, seed) & 31) / 31 * 0.12 + 0.94
                let k = checker * gradient * noise
                let i = (y * width + x) * 3
                pixels[i] = UInt8(min(255, base.0 * k)); pixels[i + 1] = UInt8(min(255, base.1 * k)); pixels[i + 2] = UInt8(min(255, base.2 * k))
            }
        }
        var canvas = SynthCanvas(background: RGBImage(width: width, height: height, pixels: pixels))
        for _ in 0..<rng.int(4...9) {
            let colour = (rng.uniform(20, 240), rng.uniform(20, 240), rng.uniform(20, 240))
            if rng.uniform() < 0.5 {
                let x0 = Int(rng.uniform(0, Double(width))), y0 = Int(rng.uniform(0, Double(height)))
                canvas.block(x0: x0, y0: y0, x1: x0 + Int(rng.uniform(0.05, 0.3) * Double(width)),
                             y1: y0 + Int(rng.uniform(0.05, 0.3) * Double(height)), colour: colour, seed: rng.next())
            } else {
                let centre = (x: rng.uniform(0, Double(width)), y: rng.uniform(0, Double(height)))
                canvas.capsule(centre, (centre.x + rng.uniform(-30, 30), centre.y + rng.uniform(-30, 30)),
                               radius: rng.uniform(4, Double(height) * 0.08), colour: colour, stripes: rng.uniform(0, 0.3), owner: 0)
            }
        }
        return canvas.image
    }
}
