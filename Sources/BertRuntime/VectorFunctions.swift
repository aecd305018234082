// Transcendental functions on eight floats at once, so elementwise and softmax loops
// vectorise (glibc's expf/erfcf/tanhf are scalar calls). Every function is lane-wise: an
// element's result never depends on its neighbours, so the tail of a loop (padded to eight
// lanes) gives the bits the vector body would have given.

typealias Float8 = SIMD8<Float>

/// e^x, Cephes' expf: x = n ln2 + r with |r| <= ln2 / 2, e^r by a degree-7 polynomial, 2^n by
/// exponent bits. Relative error about 1e-7; 0 below -87.3, +inf above 88.7.
@inline(__always)
func vectorExp(_ x: Float8) -> Float8 {
    let log2e: Float = 1.442_695_040_888_963_4
    // Adding 1.5 * 2^23 rounds to an integer; the low mantissa bits then hold n.
    let magic: Float = 12_582_912
    // Clamped by masks: `clamped(lowerBound:upperBound:)` and `pointwiseMin` do not vectorise.
    var clamped = x
    clamped.replace(with: -87.3, where: x .< -87.3)
    clamped.replace(with: 88.7, where: x .> 88.7)
    let shifted = clamped * log2e + magic
    let n = shifted - magic
    var r = clamped - n * 0.693_359_375
    r = r - n * -2.121_944_4e-4
    var p = Float8(repeating: 1.987_569_15e-4)
    p = p * r + 1.398_199_950_7e-3
    p = p * r + 8.333_451_907_3e-3
    p = p * r + 4.166_579_589_4e-2
    p = p * r + 1.666_666_545_9e-1
    p = p * r + 5.000_000_120_1e-1
    p = p * (r * r) + r + 1
    let bits = (unsafeBitCast(shifted, to: SIMD8<Int32>.self) &- 0x4B40_0000 &+ 127) &<< 23
    var result = p * unsafeBitCast(bits, to: Float8.self)
    result.replace(with: 0, where: x .< -87.3)
    result.replace(with: .infinity, where: x .> 88.7)
    return result
}

/// The standard normal CDF Phi(x) = 0.5 erfc(-x / sqrt 2), with erfc from Numerical Recipes'
/// Chebyshev fit (`erfcc`, relative error below 1.2e-7 everywhere). Computing erfc rather
/// than 1 + erf keeps Phi accurate in relative terms for negative x.
@inline(__always)
func vectorNormalCDF(_ x: Float8) -> Float8 {
    let w = x * -0.707_106_781_186_547_5
    let z = vectorAbs(w)
    let t = 1 / (1 + 0.5 * z)
    var p = Float8(repeating: 0.170_872_77)
    p = p * t - 0.822_152_23
    p = p * t + 1.488_515_87
    p = p * t - 1.135_203_98
    p = p * t + 0.278_868_07
    p = p * t - 0.186_288_06
    p = p * t + 0.096_784_18
    p = p * t + 0.374_091_96
    p = p * t + 1.000_023_68
    p = p * t - 1.265_512_23
    let half = 0.5 * t * vectorExp(p - z * z)
    // erfc(w) for w >= 0; erfc(w) = 2 - erfc(-w) for w < 0.
    return half.replacing(with: 1 - half, where: w .< 0)
}

/// tanh(x), Cephes' tanhf: an odd polynomial below |x| = 0.625, 1 - 2 / (e^2|x| + 1) above.
@inline(__always)
func vectorTanh(_ x: Float8) -> Float8 {
    let a = vectorAbs(x)
    let z = x * x
    var p = Float8(repeating: -5.704_988_727_45e-3)
    p = p * z + 2.063_908_879_54e-2
    p = p * z - 5.373_971_555_31e-2
    p = p * z + 1.333_144_220_36e-1
    p = p * z - 3.333_328_194_22e-1
    let small = p * z * x + x
    var large = 1 - 2 / (vectorExp(2 * a) + 1)
    large.replace(with: -large, where: x .< 0)
    return small.replacing(with: large, where: a .>= 0.625)
}

/// |x|, by clearing the sign bits.
@inline(__always)
func vectorAbs(_ x: Float8) -> Float8 {
    unsafeBitCast(unsafeBitCast(x, to: SIMD8<UInt32>.self) & 0x7FFF_FFFF, to: Float8.self)
}

/// Applies `f` to `n` elements of `x` (and `y`) eight at a time, writing `out`; the last
/// partial group runs through the same `f` on zero-padded lanes.
@inline(__always)
func mapFloat8(_ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, _ n: Int,
               _ f: (Float8, Float8) -> Float8) {
    var i = 0
    while i + 8 <= n {
        let a = UnsafeRawPointer(x + i).loadUnaligned(as: Float8.self)
        let b = UnsafeRawPointer(y + i).loadUnaligned(as: Float8.self)
        UnsafeMutableRawPointer(out + i).storeBytes(of: f(a, b), as: Float8.self)
        i += 8
    }
    if i < n {
        var a = Float8(), b = Float8()
        for lane in 0..<(n - i) { a[lane] = x[i + lane]; b[lane] = y[i + lane] }
        let r = f(a, b)
        for lane in 0..<(n - i) { out[i + lane] = r[lane] }
    }
}
