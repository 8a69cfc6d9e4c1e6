// A small rasteriser on an RGB frame: anti-aliased lines with thickness, discs, rectangles and
// bitmap text, each blended with an opacity. Pure: pixels in, pixels out, no I/O. Every shape
// covers a pixel by how far its centre lies inside the shape (a one-pixel ramp at the edge), and
// each pixel is blended once per shape, so overlapping parts of one shape never darken.
import PoseMedia

/// An sRGB colour, 8 bits per channel.
public struct RenderColour: Equatable, Sendable {
    public var red: UInt8, green: UInt8, blue: UInt8

    public init(red: UInt8, green: UInt8, blue: UInt8) { self.red = red; self.green = green; self.blue = blue }

    public static let white = RenderColour(red: 255, green: 255, blue: 255)
    public static let black = RenderColour(red: 0, green: 0, blue: 0)

    /// From hue (0..<1), saturation and value (0...1).
    public init(hue: Double, saturation: Double, value: Double) {
        let h = (hue - hue.rounded(.down)) * 6
        let sector = Int(h) % 6, f = h - h.rounded(.down)
        let p = value * (1 - saturation), q = value * (1 - saturation * f), t = value * (1 - saturation * (1 - f))
        let (r, g, b): (Double, Double, Double)
        switch sector {
        case 0: (r, g, b) = (value, t, p)
        case 1: (r, g, b) = (q, value, p)
        case 2: (r, g, b) = (p, value, t)
        case 3: (r, g, b) = (p, q, value)
        case 4: (r, g, b) = (t, p, value)
        default: (r, g, b) = (value, p, q)
        }
        func byte(_ x: Double) -> UInt8 { UInt8(max(0, min(255, (x * 255).rounded()))) }
        self.init(red: byte(r), green: byte(g), blue: byte(b))
    }

    /// Black or white, whichever reads better on this colour (for labels).
    public var contrasting: RenderColour {
        0.299 * Double(red) + 0.587 * Double(green) + 0.114 * Double(blue) > 150 ? .black : .white
    }
}

public struct Canvas: Sendable {
    public private(set) var image: RGBImage

    public init(_ image: RGBImage) { self.image = image }

    public var width: Int { image.width }
    public var height: Int { image.height }

    /// Blends one pixel: out = (1 - a) * in + a * colour, a clamped to 0...1. Outside the image: nothing.
    public mutating func blend(x: Int, y: Int, _ colour: RenderColour, opacity: Double) {
        guard x >= 0, y >= 0, x < image.width, y < image.height, opacity > 0 else { return }
        let a = min(1, opacity)
        let i = (y * image.width + x) * 3
        func mix(_ old: UInt8, _ new: UInt8) -> UInt8 {
            UInt8(((1 - a) * Double(old) + a * Double(new)).rounded())
        }
        image.pixels[i] = mix(image.pixels[i], colour.red)
        image.pixels[i + 1] = mix(image.pixels[i + 1], colour.green)
        image.pixels[i + 2] = mix(image.pixels[i + 2], colour.blue)
    }

    /// Covers every pixel of the clipped box [x0, x1) x [y0, y1) with coverage(pixel centre).
    private mutating func cover(x0: Double, y0: Double, x1: Double, y1: Double, _ colour: RenderColour, opacity: Double,
                                coverage: (Double, Double) -> Double) {
        guard x0.isFinite, y0.isFinite, x1.isFinite, y1.isFinite else { return }
        let left = max(0, Int(x0.rounded(.down))), top = max(0, Int(y0.rounded(.down)))
        let right = min(width, Int(x1.rounded(.up))), bottom = min(height, Int(y1.rounded(.up)))
        guard left < right, top < bottom else { return }
        for y in top..<bottom {
            for x in left..<right {
                let c = coverage(Double(x) + 0.5, Double(y) + 0.5)
                if c > 0 { blend(x: x, y: y, colour, opacity: opacity * min(1, c)) }
            }
        }
    }

    /// A line from a to b, `thickness` pixels wide with round ends.
    public mutating func line(from a: (x: Double, y: Double), to b: (x: Double, y: Double), thickness: Double,
                              _ colour: RenderColour, opacity: Double = 1) {
        let r = thickness / 2
        let dx = b.x - a.x, dy = b.y - a.y, length2 = dx * dx + dy * dy
        cover(x0: min(a.x, b.x) - r - 1, y0: min(a.y, b.y) - r - 1, x1: max(a.x, b.x) + r + 1, y1: max(a.y, b.y) + r + 1,
              colour, opacity: opacity) { px, py in
            let t = length2 > 0 ? max(0, min(1, ((px - a.x) * dx + (py - a.y) * dy) / length2)) : 0
            let ex = px - (a.x + t * dx), ey = py - (a.y + t * dy)
            return r + 0.5 - (ex * ex + ey * ey).squareRoot()
        }
    }

    /// A filled disc.
    public mutating func disc(centre c: (x: Double, y: Double), radius: Double, _ colour: RenderColour, opacity: Double = 1) {
        cover(x0: c.x - radius - 1, y0: c.y - radius - 1, x1: c.x + radius + 1, y1: c.y + radius + 1, colour, opacity: opacity) { px, py in
            radius + 0.5 - ((px - c.x) * (px - c.x) + (py - c.y) * (py - c.y)).squareRoot()
        }
    }

    /// A filled axis-aligned rectangle (edges on pixel boundaries are sharp).
    public mutating func fill(x: Double, y: Double, width w: Double, height h: Double, _ colour: RenderColour, opacity: Double = 1) {
        cover(x0: x, y0: y, x1: x + w, y1: y + h, colour, opacity: opacity) { px, py in
            min(px - x + 0.5, x + w - px + 0.5, py - y + 0.5, y + h - py + 0.5)
        }
    }

    /// The outline of a rectangle, `thickness` pixels wide, centred on its edges.
    public mutating func stroke(x: Double, y: Double, width w: Double, height h: Double, thickness: Double,
                                _ colour: RenderColour, opacity: Double = 1) {
        let r = thickness / 2
        cover(x0: x - r - 1, y0: y - r - 1, x1: x + w + r + 1, y1: y + h + r + 1, colour, opacity: opacity) { px, py in
            // Distance to the rectangle's outline: outside, to the box; inside, to the nearest edge.
            let ox = max(x - px, 0, px - (x + w)), oy = max(y - py, 0, py - (y + h))
            let inside = ox == 0 && oy == 0
            let d = inside ? min(px - x, x + w - px, py - y, y + h - py) : (ox * ox + oy * oy).squareRoot()
            return r + 0.5 - d
        }
    }

    /// Text in the 5x7 bitmap font, each font pixel `scale` x `scale` pixels, top-left at (x, y).
    /// Characters without a glyph are drawn as a box.
    public mutating func text(_ string: String, x: Int, y: Int, scale: Int, _ colour: RenderColour) {
        var left = x
        for character in string {
            let rows = BitmapFont.glyph(character)
            for (row, bits) in rows.enumerated() {
                for column in 0..<BitmapFont.glyphWidth where bits & (1 << (BitmapFont.glyphWidth - 1 - column)) != 0 {
                    for sy in 0..<scale {
                        for sx in 0..<scale { blend(x: left + column * scale + sx, y: y + row * scale + sy, colour, opacity: 1) }
                    }
                }
            }
            left += BitmapFont.advance * scale
        }
    }

    /// Copies `tile` with its top-left at (x, y), clipped.
    public mutating func paste(_ tile: RGBImage, x: Int, y: Int) {
        for row in 0..<tile.height where y + row >= 0 && y + row < height {
            for column in 0..<tile.width where x + column >= 0 && x + column < width {
                let from = (row * tile.width + column) * 3, to = ((y + row) * width + x + column) * 3
                image.pixels[to] = tile.pixels[from]
                image.pixels[to + 1] = tile.pixels[from + 1]
                image.pixels[to + 2] = tile.pixels[from + 2]
            }
        }
    }
}

extension RGBImage {
    /// Shrunk by an integer factor, each output pixel the mean of its factor x factor block
    /// (edge blocks that are cut off average what they have).
    public func downscaled(by factor: Int) -> RGBImage {
        precondition(factor >= 1, "downscaled: factor \(factor)")
        guard factor > 1 else { return self }
        let w = (width + factor - 1) / factor, h = (height + factor - 1) / factor
        var out = [UInt8](repeating: 0, count: w * h * 3)
        for y in 0..<h {
            for x in 0..<w {
                var sum = (0, 0, 0), count = 0
                for sy in y * factor..<min(height, (y + 1) * factor) {
                    for sx in x * factor..<min(width, (x + 1) * factor) {
                        let i = (sy * width + sx) * 3
                        sum.0 += Int(pixels[i]); sum.1 += Int(pixels[i + 1]); sum.2 += Int(pixels[i + 2])
                        count += 1
                    }
                }
                let o = (y * w + x) * 3
                out[o] = UInt8((sum.0 + count / 2) / count)
                out[o + 1] = UInt8((sum.1 + count / 2) / count)
                out[o + 2] = UInt8((sum.2 + count / 2) / count)
            }
        }
        return RGBImage(width: w, height: h, pixels: out)
    }
}
