// Sixteen floats as two 8-lane halves, for the transcendental functions in VectorFunctions.
//
// Every operation is done on both halves. A polynomial evaluated by Horner's rule is one long
// chain of dependent multiply-adds, so one 8-lane chain leaves the core waiting on latency;
// two independent chains give it work to overlap. (`SIMD16<Float>` should give the same code,
// but under `-Ounchecked` LLVM splits it into 4-lane pieces and spills them to the stack.)
//
// `multiplyAdd` fuses a * b + c into one instruction and one rounding where the build targets
// a CPU with FMA (`tools/swift-flags.sh` defines BERTC_FMA then), which shortens every link of
// the chain. Without BERTC_FMA it is a separate multiply and add, bit for bit what a single
// 8-lane chain computes; a fused multiply-add on a CPU without FMA would be a library call
// per lane. `tools/bench_ab.py` times the two builds against each other.

typealias Float8 = SIMD8<Float>
typealias Mask8 = SIMDMask<SIMD8<Int32>>

struct FloatLanes {
    var low: Float8
    var high: Float8

    static let scalarCount = 16

    @inline(__always) init(_ low: Float8, _ high: Float8) { (self.low, self.high) = (low, high) }
    @inline(__always) init(repeating value: Float) { low = Float8(repeating: value); high = low }
    @inline(__always) init() { self.init(repeating: 0) }

    /// Sixteen floats from `p`, unaligned.
    @inline(__always) init(loading p: UnsafePointer<Float>) {
        low = UnsafeRawPointer(p).loadUnaligned(as: Float8.self)
        high = UnsafeRawPointer(p + 8).loadUnaligned(as: Float8.self)
    }

    /// Writes the sixteen floats to `p`, unaligned.
    @inline(__always) func store(to p: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(p).storeBytes(of: low, as: Float8.self)
        UnsafeMutableRawPointer(p + 8).storeBytes(of: high, as: Float8.self)
    }

    @inline(__always) subscript(lane: Int) -> Float {
        get { lane < 8 ? low[lane] : high[lane - 8] }
        set { if lane < 8 { low[lane] = newValue } else { high[lane - 8] = newValue } }
    }

    /// The lanes of `self`, with `other`'s where `mask` is set.
    @inline(__always) func replacing(with other: FloatLanes, where mask: LaneMask) -> FloatLanes {
        FloatLanes(low.replacing(with: other.low, where: mask.low), high.replacing(with: other.high, where: mask.high))
    }

    @inline(__always) mutating func replace(with value: Float, where mask: LaneMask) {
        low.replace(with: value, where: mask.low)
        high.replace(with: value, where: mask.high)
    }

    /// The lanes' bits, as integers (for exponent arithmetic).
    @inline(__always) var bits: (SIMD8<Int32>, SIMD8<Int32>) {
        (unsafeBitCast(low, to: SIMD8<Int32>.self), unsafeBitCast(high, to: SIMD8<Int32>.self))
    }

    @inline(__always) init(bits: (SIMD8<Int32>, SIMD8<Int32>)) {
        low = unsafeBitCast(bits.0, to: Float8.self)
        high = unsafeBitCast(bits.1, to: Float8.self)
    }
}

struct LaneMask {
    var low: Mask8
    var high: Mask8
}

@inline(__always) func + (a: FloatLanes, b: FloatLanes) -> FloatLanes { FloatLanes(a.low + b.low, a.high + b.high) }
@inline(__always) func - (a: FloatLanes, b: FloatLanes) -> FloatLanes { FloatLanes(a.low - b.low, a.high - b.high) }
@inline(__always) func * (a: FloatLanes, b: FloatLanes) -> FloatLanes { FloatLanes(a.low * b.low, a.high * b.high) }
@inline(__always) func / (a: FloatLanes, b: FloatLanes) -> FloatLanes { FloatLanes(a.low / b.low, a.high / b.high) }
@inline(__always) func + (a: FloatLanes, b: Float) -> FloatLanes { FloatLanes(a.low + b, a.high + b) }
@inline(__always) func - (a: FloatLanes, b: Float) -> FloatLanes { FloatLanes(a.low - b, a.high - b) }
@inline(__always) func * (a: FloatLanes, b: Float) -> FloatLanes { FloatLanes(a.low * b, a.high * b) }
@inline(__always) func + (a: Float, b: FloatLanes) -> FloatLanes { FloatLanes(a + b.low, a + b.high) }
@inline(__always) func - (a: Float, b: FloatLanes) -> FloatLanes { FloatLanes(a - b.low, a - b.high) }
@inline(__always) func * (a: Float, b: FloatLanes) -> FloatLanes { FloatLanes(a * b.low, a * b.high) }
@inline(__always) func / (a: Float, b: FloatLanes) -> FloatLanes { FloatLanes(a / b.low, a / b.high) }
@inline(__always) prefix func - (a: FloatLanes) -> FloatLanes { FloatLanes(-a.low, -a.high) }

@inline(__always) func .< (a: FloatLanes, b: Float) -> LaneMask { LaneMask(low: a.low .< b, high: a.high .< b) }
@inline(__always) func .> (a: FloatLanes, b: Float) -> LaneMask { LaneMask(low: a.low .> b, high: a.high .> b) }
@inline(__always) func .>= (a: FloatLanes, b: Float) -> LaneMask { LaneMask(low: a.low .>= b, high: a.high .>= b) }

/// a * b + c, rounded once where the build has BERTC_FMA, else rounded after the multiply
/// and after the add.
@inline(__always) func multiplyAdd(_ a: FloatLanes, _ b: FloatLanes, _ c: FloatLanes) -> FloatLanes {
    #if BERTC_FMA
    FloatLanes(c.low.addingProduct(a.low, b.low), c.high.addingProduct(a.high, b.high))
    #else
    a * b + c
    #endif
}

@inline(__always) func multiplyAdd(_ a: FloatLanes, _ b: FloatLanes, _ c: Float) -> FloatLanes {
    multiplyAdd(a, b, FloatLanes(repeating: c))
}

@inline(__always) func multiplyAdd(_ a: FloatLanes, _ b: Float, _ c: FloatLanes) -> FloatLanes {
    multiplyAdd(a, FloatLanes(repeating: b), c)
}
