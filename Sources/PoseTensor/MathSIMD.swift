// Vectorised exp and erf for softmax and GELU. Scalar libm calls would cost more than the
// matrix multiplies around them (millions per window); these polynomials are accurate to a few
// float ulps (tested against libm) and branch-free.

public enum MathSIMD {
    /// exp(x), Cephes-style: x = n ln2 + r, |r| <= ln2/2, degree-5 polynomial, scale by 2^n.
    @inline(__always)
    public static func exp(_ input: Vector) -> Vector {
        // Clamped by hand: a call to `clamp` was not always inlined (1% of the profile).
        let low = Vector(repeating: -87.33654), high = Vector(repeating: 88.37626)
        let raised = input.replacing(with: low, where: input .< low)
        let x = raised.replacing(with: high, where: raised .> high)
        let n = (x * 1.44269504088896341).rounded(.toNearestOrEven)
        var r = x.addingProduct(n, Vector(repeating: -0.693359375))
        r = r.addingProduct(n, Vector(repeating: 2.12194440e-4))
        var p = Vector(repeating: 1.9875691500e-4)
        p = p * r + 1.3981999507e-3
        p = p * r + 8.3334519073e-3
        p = p * r + 4.1665795894e-2
        p = p * r + 1.6666665459e-1
        p = p * r + 5.0000001201e-1
        let y = (p * r * r) + r + 1
        // n is integral and small: adding 1.5 * 2^23 leaves it in the low mantissa bits.
        let integer = unsafeBitCast(n + 12_582_912, to: SIMD16<Int32>.self) &- 0x4B40_0000
        let exponent = (integer &+ 127) &<< 23
        return y * unsafeBitCast(exponent, to: Vector.self)
    }

    /// erf(x) as x P(x^2) / Q(x^2) on [-4, 4] (the rational approximation used by Eigen/XLA).
    @inline(__always)
    public static func erf(_ input: Vector) -> Vector {
        let low = Vector(repeating: -4), high = Vector(repeating: 4)
        let raised = input.replacing(with: low, where: input .< low)
        let x = raised.replacing(with: high, where: raised .> high)
        let x2 = x * x
        var p = x2 * -2.72614225801306e-10 + 2.77068142495902e-08
        p = x2 * p + -2.10102402082508e-06
        p = x2 * p + -5.69250639462346e-05
        p = x2 * p + -7.34990630326855e-04
        p = x2 * p + -2.95459980854025e-03
        p = x2 * p + -1.60960333262415e-02
        p = x * p
        var q = x2 * -1.45660718464996e-05 + -2.13374055278905e-04
        q = x2 * q + -1.68282697438203e-03
        q = x2 * q + -7.37332916720468e-03
        q = x2 * q + -1.42647390514189e-02
        return p / q
    }

    /// The stdlib's generic clamped/pointwiseMin do not vectorise; masked replacement does.
    @inline(__always)
    public static func clamp(_ x: Vector, _ low: Float, _ high: Float) -> Vector {
        let lower = Vector(repeating: low), upper = Vector(repeating: high)
        let raised = x.replacing(with: lower, where: x .< lower)
        return raised.replacing(with: upper, where: raised .> upper)
    }

    @inline(__always)
    public static func maximum(_ a: Vector, _ b: Vector) -> Vector { a.replacing(with: b, where: a .< b) }

    /// Largest lane (no NaN handling: the inputs are finite).
    @inline(__always)
    public static func maximumLane(_ v: Vector) -> Float {
        var m = v[0]
        for i in 1..<16 where v[i] > m { m = v[i] }
        return m
    }

    /// 0.5 x (1 + erf(x / sqrt 2)), the exact GELU.
    @inline(__always)
    public static func gelu(_ x: Vector) -> Vector {
        0.5 * x * (1 + erf(x * 0.70710678118654752))
    }
}
