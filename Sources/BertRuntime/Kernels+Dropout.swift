// Dropout and its gradient. Both regenerate the mask from `CounterRandom`, so the backward
// node needs only the run's seed and step, never a stored mask.

enum DropoutKernels {
    /// x -> x * keep(i) / (1 - rate), keep(i) from (seed, step, stream, i). Serves both
    /// `dropout` (x is the input) and `dropoutGrad` (x is dy): the same mask either way. With
    /// a rows input, element j of row r of x [n, h] draws keep(rows[r] * h + j): packed
    /// tokens get the masks their padded positions get.
    static func dropout(_ site: KernelSite, rate: Float, stream: Int) -> Kernel {
        let (x, out, count, parallel) = (site.inputs[0], site.outputs[0], site.outputCount(0), site.parallel)
        let threshold = CounterRandom.keepThreshold(rate: rate)
        let scale: Float = rate >= 1 ? 0 : 1 / (1 - rate)
        precondition(count <= CounterRandom.maximumCount, "dropout over \(count) elements: at most 2^32 per node")
        let rows = site.inputs.count > 1 ? site.inputs[1] : nil
        let h = rows == nil ? count : site.inputShapes[0].last!
        let rowCount = h == 0 ? 0 : count / h
        let idType = IndexType(site.inputTypes.last!)
        return Kernel { f in
            let xp = f.floats(x), op = f.floats(out)
            if threshold == 0 {
                if xp != op { op.update(from: xp, count: count) }
                return
            }
            let key = CounterRandom.key(seed: f.seed, step: f.step, stream: stream)
            guard let rows else {
                parallel.splitElements(count) { r in
                    apply(xp + r.lowerBound, op + r.lowerBound, r.count, first: r.lowerBound, key, threshold, scale)
                }
                return
            }
            let ip = UnsafeRawPointer(f.raw(rows))
            parallel.split(rowCount, work: count) { range in
                for r in range {
                    apply(xp + r * h, op + r * h, h, first: idType.load(ip, r) * h, key, threshold, scale)
                }
            }
        }
    }

    /// y[i] = x[i] * keep(first + i) / (1 - rate) for i < n. Eight lanes at a time: the same
    /// arithmetic as the scalar `bits24`, lane-wise, so where a run starts does not matter.
    @inline(__always)
    private static func apply(_ xp: UnsafePointer<Float>, _ op: UnsafeMutablePointer<Float>, _ n: Int, first: Int,
                              _ key: UInt64, _ threshold: UInt32, _ scale: Float) {
        let lanes = SIMD8<UInt32>(0, 1, 2, 3, 4, 5, 6, 7)
        let keep = SIMD8<UInt32>(repeating: threshold)
        var i = 0
        while i + 8 <= n {
            let counters = SIMD8<UInt32>(repeating: UInt32(truncatingIfNeeded: first + i)) &+ lanes
            let bits = CounterRandom.bits24(key: key, counters)
            let x = UnsafeRawPointer(xp + i).loadUnaligned(as: SIMD8<Float>.self) * scale
            let y = SIMD8<Float>(repeating: 0).replacing(with: x, where: bits .>= keep)
            UnsafeMutableRawPointer(op + i).storeBytes(of: y, as: SIMD8<Float>.self)
            i += 8
        }
        while i < n {
            op[i] = CounterRandom.bits24(key: key, first + i) >= threshold ? xp[i] * scale : 0
            i += 1
        }
    }
}
