// The counter-based generator behind dropout. The keep/drop decision for element i of the
// dropout node with attribute `stream`, in the run with `seed` and `step`, is a pure function
// of (seed, step, stream, i): no state advances, so the decision never depends on threads,
// on the order nodes run in, or on whether the forward or the backward node asks.
//
// Construction (SplitMix64, Steele et al. 2014):
//   key  = mix(mix(mix(seed) ^ step) ^ stream)
//   bits = mix(key + i * 0x9E3779B97F4A7C15)
// where mix(z) is SplitMix64's finaliser of z + 0x9E3779B97F4A7C15, so `bits` is the
// (i + 1)-th output of a SplitMix64 generator started from state `key`. The top 24 bits of
// `bits` form u in [0, 2^24); the element is kept when u >= round(rate * 2^24), so exactly a
// fraction 1 - rate of the 2^24 outcomes keeps it.

/// Counter-based random bits for dropout masks.
enum CounterRandom {
    static let golden: UInt64 = 0x9E37_79B9_7F4A_7C15

    /// SplitMix64's finaliser applied to z + golden.
    @inline(__always)
    static func mix(_ z: UInt64) -> UInt64 {
        var x = z &+ golden
        x = (x ^ (x >> 30)) &* 0xBF58_476D_1CE4_E5B9
        x = (x ^ (x >> 27)) &* 0x94D0_49BB_1331_11EB
        return x ^ (x >> 31)
    }

    /// The key of one dropout node in one run.
    static func key(seed: UInt64, step: Int, stream: Int) -> UInt64 {
        mix(mix(mix(seed) ^ UInt64(bitPattern: Int64(step))) ^ UInt64(bitPattern: Int64(stream)))
    }

    /// 24 uniform random bits for element `i` under `key`.
    @inline(__always)
    static func bits24(key: UInt64, _ i: Int) -> UInt64 {
        mix(key &+ UInt64(i) &* golden) >> 40
    }

    /// `bits24` of eight counters at once (lane-wise, the same bits as the scalar form).
    @inline(__always)
    static func bits24(key: UInt64, _ i: SIMD8<UInt64>) -> SIMD8<UInt64> {
        var x = (SIMD8<UInt64>(repeating: key) &+ i &* golden) &+ golden
        x = (x ^ (x &>> 30)) &* 0xBF58_476D_1CE4_E5B9
        x = (x ^ (x &>> 27)) &* 0x94D0_49BB_1331_11EB
        return (x ^ (x &>> 31)) &>> 40
    }

    /// The smallest 24-bit value that keeps an element when dropping with `rate`.
    static func keepThreshold(rate: Float) -> UInt64 {
        UInt64((Double(min(max(rate, 0), 1)) * 16_777_216).rounded())
    }
}
