// Transcendental functions on sixteen floats at once (`FloatLanes`), so elementwise and
// softmax loops vectorise (glibc's expf/erfcf/tanhf are scalar calls). Every function is
// lane-wise: an element's result never depends on its neighbours, so the tail of a loop
// (padded to sixteen lanes) gives the bits the vector body would have given.

/// e^x, Cephes' expf: x = n ln2 + r with |r| <= ln2 / 2, e^r by a degree-7 polynomial, 2^n by
/// exponent bits. Relative error about 1e-7; 0 below -87.3, +inf above 88.7.
@inline(__always)
func vectorExp(_ x: FloatLanes) -> FloatLanes {
    let log2e: Float = 1.442_695_040_888_963_4
    // Adding 1.5 * 2^23 rounds to an integer; the low mantissa bits then hold n.
    let magic: Float = 12_582_912
    // Clamped by masks: `clamped(lowerBound:upperBound:)` and `pointwiseMin` do not vectorise.
    var clamped = x
    clamped.replace(with: -87.3, where: x .< -87.3)
    clamped.replace(with: 88.7, where: x .> 88.7)
    let shifted = multiplyAdd(clamped, log2e, FloatLanes(repeating: magic))
    let n = shifted - magic
    var r = multiplyAdd(n, -0.693_359_375, clamped)
    r = multiplyAdd(n, 2.121_944_4e-4, r)
    var p = FloatLanes(repeating: 1.987_569_15e-4)
    p = multiplyAdd(p, r, 1.398_199_950_7e-3)
    p = multiplyAdd(p, r, 8.333_451_907_3e-3)
    p = multiplyAdd(p, r, 4.166_579_589_4e-2)
    p = multiplyAdd(p, r, 1.666_666_545_9e-1)
    p = multiplyAdd(p, r, 5.000_000_120_1e-1)
    p = multiplyAdd(p, r * r, r) + 1
    let (low, high) = shifted.bits
    let scale = FloatLanes(bits: ((low &- 0x4B40_0000 &+ 127) &<< 23, (high &- 0x4B40_0000 &+ 127) &<< 23))
    var result = p * scale
    result.replace(with: 0, where: x .< -87.3)
    result.replace(with: .infinity, where: x .> 88.7)
    return result
}

/// The standard normal CDF Phi(x) = 0.5 erfc(-x / sqrt 2), with erfc from Numerical Recipes'
/// Chebyshev fit (`erfcc`, relative error below 1.2e-7 everywhere). Computing erfc rather
/// than 1 + erf keeps Phi accurate in relative terms for negative x.
@inline(__always)
func vectorNormalCDF(_ x: FloatLanes) -> FloatLanes {
    let w = x * -0.707_106_781_186_547_5
    let z = vectorAbs(w)
    let t = 1 / (1 + 0.5 * z)
    var p = FloatLanes(repeating: 0.170_872_77)
    p = multiplyAdd(p, t, -0.822_152_23)
    p = multiplyAdd(p, t, 1.488_515_87)
    p = multiplyAdd(p, t, -1.135_203_98)
    p = multiplyAdd(p, t, 0.278_868_07)
    p = multiplyAdd(p, t, -0.186_288_06)
    p = multiplyAdd(p, t, 0.096_784_18)
    p = multiplyAdd(p, t, 0.374_091_96)
    p = multiplyAdd(p, t, 1.000_023_68)
    p = multiplyAdd(p, t, -1.265_512_23)
    let half = 0.5 * t * vectorExp(multiplyAdd(z, -z, p))
    // erfc(w) for w >= 0; erfc(w) = 2 - erfc(-w) for w < 0.
    return half.replacing(with: 1 - half, where: w .< 0)
}

/// tanh(x), Cephes' tanhf: an odd polynomial below |x| = 0.625, 1 - 2 / (e^2|x| + 1) above.
@inline(__always)
func vectorTanh(_ x: FloatLanes) -> FloatLanes {
    let a = vectorAbs(x)
    let z = x * x
    var p = FloatLanes(repeating: -5.704_988_727_45e-3)
    p = multiplyAdd(p, z, 2.063_908_879_54e-2)
    p = multiplyAdd(p, z, -5.373_971_555_31e-2)
    p = multiplyAdd(p, z, 1.333_144_220_36e-1)
    p = multiplyAdd(p, z, -3.333_328_194_22e-1)
    let small = multiplyAdd(p * z, x, x)
    var large = 1 - 2 / (vectorExp(2 * a) + 1)
    large = large.replacing(with: -large, where: x .< 0)
    return small.replacing(with: large, where: a .>= 0.625)
}

/// |x|, by clearing the sign bits.
@inline(__always)
func vectorAbs(_ x: FloatLanes) -> FloatLanes {
    let (low, high) = x.bits
    return FloatLanes(bits: (low & 0x7FFF_FFFF, high & 0x7FFF_FFFF))
}

/// Applies `f` to `n` elements of `x` (and `y`) sixteen at a time, writing `out`; the last
/// partial group runs through the same `f` on zero-padded lanes.
@inline(__always)
func mapLanes(_ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, _ n: Int,
              _ f: (FloatLanes, FloatLanes) -> FloatLanes) {
    var i = 0
    while i + FloatLanes.scalarCount <= n {
        f(FloatLanes(loading: x + i), FloatLanes(loading: y + i)).store(to: out + i)
        i += FloatLanes.scalarCount
    }
    if i < n {
        var a = FloatLanes(), b = FloatLanes()
        for lane in 0..<(n - i) { a[lane] = x[i + lane]; b[lane] = y[i + lane] }
        let r = f(a, b)
        for lane in 0..<(n - i) { out[i + lane] = r[lane] }
    }
}
