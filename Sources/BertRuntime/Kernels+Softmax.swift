// Attention softmax with the additive padding mask, and the softmax gradient. Both work row
// by row over the last dim; rows are split across threads.

enum SoftmaxKernels {
    /// (scores [b, heads, q, k], mask int[b, k]) -> softmax over k of scores + (1 - mask) * -10000.
    /// The additive mask is made once per run in a [b, k] buffer; each row subtracts its max.
    static func maskedSoftmax(_ site: KernelSite) -> Kernel {
        let (scores, mask, out) = (site.inputs[0], site.inputs[1], site.outputs[0])
        let dims = site.inputShapes[0]
        let (batch, heads, queries, keys) = (dims[0], dims[1], dims[2], dims[3])
        let maskType = IndexType(site.inputTypes[1])
        let bias = Scratch<Float>(batch * keys, 0)
        let rows = batch * heads * queries
        let parallel = site.parallel
        return Kernel { f in
            let sp = f.floats(scores), op = f.floats(out), mp = UnsafeRawPointer(f.raw(mask))
            let bp = bias.pointer
            for i in 0..<(batch * keys) { bp[i] = Float(1 - maskType.load(mp, i)) * -10000 }
            parallel.split(rows, work: rows * keys) { range in
                for row in range {
                    let b = row / (heads * queries)
                    softmaxRow(sp + row * keys, bp + b * keys, op + row * keys, keys)
                }
            }
        }
    }

    /// (dy [..., n], y [..., n]) -> y * (dy - sum(dy * y)) over the last dim.
    static func softmaxGrad(_ site: KernelSite) -> Kernel {
        let (dy, y, out) = (site.inputs[0], site.inputs[1], site.outputs[0])
        let n = site.inputShapes[0].last ?? 1
        let rows = n == 0 ? 0 : site.inputCount(0) / n
        let parallel = site.parallel
        return Kernel { f in
            let dyp = f.floats(dy), yp = f.floats(y), op = f.floats(out)
            parallel.split(rows, work: rows * n) { range in
                for row in range {
                    let dyr = dyp + row * n, yr = yp + row * n, outr = op + row * n
                    let dot = rowDot(dyr, yr, n)
                    for j in 0..<n { outr[j] = yr[j] * (dyr[j] - dot) }
                }
            }
        }
    }

    /// out = softmax(x + bias) over `n` elements; `out` may alias `x`.
    @inline(__always)
    static func softmaxRow(_ x: UnsafePointer<Float>, _ bias: UnsafePointer<Float>,
                           _ out: UnsafeMutablePointer<Float>, _ n: Int) {
        guard n > 0 else { return }
        for j in 0..<n { out[j] = x[j] + bias[j] }
        let top = Float8(repeating: rowMax(out, n))
        mapFloat8(out, out, out, n) { v, _ in vectorExp(v - top) }
        let inverse = 1 / rowSum(out, n)
        for j in 0..<n { out[j] *= inverse }
    }
}
