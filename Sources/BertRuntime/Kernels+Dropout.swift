// Dropout and its gradient. Both regenerate the mask from `CounterRandom`, so the backward
// node needs only the run's seed and step, never a stored mask.

enum DropoutKernels {
    /// x -> x * keep(i) / (1 - rate), keep(i) from (seed, step, stream, i). Serves both
    /// `dropout` (x is the input) and `dropoutGrad` (x is dy): the same mask either way.
    static func dropout(_ site: KernelSite, rate: Float, stream: Int) -> Kernel {
        let (x, out, count, parallel) = (site.inputs[0], site.outputs[0], site.outputCount(0), site.parallel)
        let threshold = CounterRandom.keepThreshold(rate: rate)
        let scale: Float = rate >= 1 ? 0 : 1 / (1 - rate)
        precondition(count <= CounterRandom.maximumCount, "dropout over \(count) elements: at most 2^32 per node")
        return Kernel { f in
            let xp = f.floats(x), op = f.floats(out)
            if threshold == 0 {
                if xp != op { op.update(from: xp, count: count) }
                return
            }
            let key = CounterRandom.key(seed: f.seed, step: f.step, stream: stream)
            parallel.splitElements(count) { r in
                var i = r.lowerBound
                // Eight lanes at a time: the same arithmetic as the scalar `bits24`, lane-wise.
                let lanes = SIMD8<UInt32>(0, 1, 2, 3, 4, 5, 6, 7)
                let keep = SIMD8<UInt32>(repeating: threshold)
                while i + 8 <= r.upperBound {
                    let counters = SIMD8<UInt32>(repeating: UInt32(truncatingIfNeeded: i)) &+ lanes
                    let bits = CounterRandom.bits24(key: key, counters)
                    let x = UnsafeRawPointer(xp + i).loadUnaligned(as: SIMD8<Float>.self) * scale
                    let y = SIMD8<Float>(repeating: 0).replacing(with: x, where: bits .>= keep)
                    UnsafeMutableRawPointer(op + i).storeBytes(of: y, as: SIMD8<Float>.self)
                    i += 8
                }
                while i < r.upperBound {
                    op[i] = CounterRandom.bits24(key: key, i) >= threshold ? xp[i] * scale : 0
                    i += 1
                }
            }
        }
    }
}
