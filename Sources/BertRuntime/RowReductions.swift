// Row reductions with eight SIMD lanes. A row's result depends only on the row (never on the
// thread that computes it), which keeps kernels deterministic.

/// Sum of `n` floats, accumulated in eight lanes and combined in Double.
@inline(__always)
func rowSum(_ x: UnsafePointer<Float>, _ n: Int) -> Float {
    laneSum(n, lanes: { UnsafeRawPointer(x + $0).loadUnaligned(as: SIMD8<Float>.self) }, tail: { Double(x[$0]) })
}

/// Dot product of two rows of `n` floats, accumulated like `rowSum`.
@inline(__always)
func rowDot(_ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, _ n: Int) -> Float {
    laneSum(n, lanes: { UnsafeRawPointer(x + $0).loadUnaligned(as: SIMD8<Float>.self)
                            * UnsafeRawPointer(y + $0).loadUnaligned(as: SIMD8<Float>.self) },
            tail: { Double(x[$0]) * Double(y[$0]) })
}

/// The sum of `n` terms: `lanes(i)` gives terms i..<i + 8, accumulated in eight float lanes;
/// the lanes, then `tail(i)` for the last n % 8 terms, are added in Double.
@inline(__always)
private func laneSum(_ n: Int, lanes: (Int) -> SIMD8<Float>, tail: (Int) -> Double) -> Float {
    var acc = SIMD8<Float>()
    var i = 0
    while i + 8 <= n {
        acc += lanes(i)
        i += 8
    }
    var total = 0.0
    for lane in 0..<8 { total += Double(acc[lane]) }
    while i < n { total += tail(i); i += 1 }
    return Float(total)
}

/// Largest of `n` floats (n > 0). Exact, so the lane order does not matter.
@inline(__always)
func rowMax(_ x: UnsafePointer<Float>, _ n: Int) -> Float {
    var best = x[0]
    var i = 0
    if n >= 8 {
        var lanes = UnsafeRawPointer(x).loadUnaligned(as: SIMD8<Float>.self)
        i = 8
        while i + 8 <= n {
            let v = UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self)
            lanes.replace(with: v, where: v .> lanes)
            i += 8
        }
        best = lanes[0]
        for lane in 1..<8 where lanes[lane] > best { best = lanes[lane] }
    }
    while i < n { if x[i] > best { best = x[i] }; i += 1 }
    return best
}
