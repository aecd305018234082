// The counter-based generator behind dropout. The keep/drop decision for element i of the
// dropout node with attribute `stream`, in the run with `seed` and `step`, is a pure function
// of (seed, step, stream, i): no state advances, so the decision never depends on threads,
// on the order nodes run in, or on whether the forward or the backward node asks.
//
// Construction:
//   key        = mix(mix(mix(seed) ^ step) ^ stream), split into 32-bit halves k0 (low), k1
//                (high); mix is SplitMix64's finaliser of z + 0x9E3779B97F4A7C15
//                (Steele et al. 2014), run once per node and step;
//   bits(i)    = hash(hash(i ^ k0) + k1) for a 32-bit counter i, where hash is Wellons'
//                `lowbias32` (xor-shift, multiply, xor-shift, multiply, xor-shift), a bijection
//                of 32-bit words with low avalanche bias.
// The per-element work is 32-bit, so AVX2 does eight lanes per multiply (it has no 64-bit
// lane multiply, which made a 64-bit per-element hash cost three times as much). The top 24
// bits form u in [0, 2^24); the element is kept when u >= round(rate * 2^24), so exactly a
// fraction 1 - rate of the 2^24 outcomes keeps it. A node may have at most 2^32 elements.

import BertGraph

/// Counter-based random bits for dropout masks.
enum CounterRandom {
    /// SplitMix64's finaliser applied to z + 0x9E3779B97F4A7C15: the first output of a
    /// SplitMix64 generator started from state z.
    static func mix(_ z: UInt64) -> UInt64 {
        var generator = SplitMix64(seed: z)
        return generator.next()
    }

    /// The key of one dropout node in one run.
    static func key(seed: UInt64, step: Int, stream: Int) -> UInt64 {
        mix(mix(mix(seed) ^ UInt64(bitPattern: Int64(step))) ^ UInt64(bitPattern: Int64(stream)))
    }

    /// The most elements one node may draw for: counters are 32-bit.
    static let maximumCount = 1 << 32

    /// Wellons' lowbias32 hash, lane-wise.
    @inline(__always)
    static func hash<V: SIMD>(_ z: V) -> V where V.Scalar == UInt32 {
        var x = z
        x = (x ^ (x &>> 16)) &* 0x7FEB_352D
        x = (x ^ (x &>> 15)) &* 0x846C_A68B
        return x ^ (x &>> 16)
    }

    /// 24 uniform random bits for each counter in `i` under `key`.
    @inline(__always)
    static func bits24<V: SIMD>(key: UInt64, _ i: V) -> V where V.Scalar == UInt32 {
        let (k0, k1) = (UInt32(truncatingIfNeeded: key), UInt32(truncatingIfNeeded: key >> 32))
        return hash(hash(i ^ k0) &+ k1) &>> 8
    }

    /// `bits24` of one counter.
    static func bits24(key: UInt64, _ i: Int) -> UInt32 {
        bits24(key: key, SIMD2<UInt32>(repeating: UInt32(truncatingIfNeeded: i)))[0]
    }

    /// The smallest 24-bit value that keeps an element when dropping with `rate`.
    static func keepThreshold(rate: Float) -> UInt32 {
        UInt32((Double(min(max(rate, 0), 1)) * 16_777_216).rounded())
    }
}
