// Attention softmax with the additive padding mask, and the softmax gradient. Both work row
// by row over the last dim; rows are split across threads.

enum SoftmaxKernels {
    /// (scores [b, heads, q, k], mask int[b, k]) -> softmax over k of scores + (1 - mask) * -10000:
    /// the fused scaled form with factor 1 (multiplying by 1 is exact).
    static func maskedSoftmax(_ site: KernelSite) -> Kernel {
        FusedKernels.scaledMaskedSoftmax(site, factor: 1)
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
}
