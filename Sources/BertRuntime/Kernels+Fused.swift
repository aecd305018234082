// Kernels of the fused ops that `FuseOps` makes. Each does the work of an op chain in one
// pass over memory; results differ from the unfused chain only by float reassociation.
import BertGraph

enum FusedKernels {
    /// (x [rows, in], w [out, in], b [out]) -> activation(x w^T + b) [rows, out].
    /// With OpenBLAS: identity copies the bias into every output row and the GEMM adds onto it
    /// (beta 1), so the bias costs one write; GELU has the GEMM write the product, then one
    /// pass adds the bias and applies GELU to each row while it is in cache. With a packed
    /// weight (inference plans, `Gemm`) the GEMM adds the bias as it stores each tile.
    static func linear(_ site: KernelSite, activation: LinearActivation) -> Kernel {
        let (x, w, b, out) = (site.inputs[0], site.inputs[1], site.inputs[2], site.outputs[0])
        let k = site.inputShapes[0].last ?? 1
        let n = site.inputShapes[1][0]
        let rows = site.outputCount(0) / max(n, 1)
        let parallel = site.parallel
        // In plans that leave the weights unchanged between runs, w is packed once.
        let packed = site.packsWeights && site.inputIsParameter[1]
        let packedProduct = { (f: KernelFrame, finish: Gemm.FinishBlock?) in
            BLAS.sgemm(m: rows, a: f.floats(x), lda: k, packed: f.parameters.packedTransposed(f.floats(w), n: n, k: k),
                       c: f.floats(out), ldc: n, bias: f.floats(b), finish: finish)
        }
        switch activation {
        case .identity:
            return Kernel { f in
                let bp = f.floats(b), op = f.floats(out)
                if packed { return packedProduct(f, nil) }
                parallel.split(rows, work: rows * n) { range in
                    for row in range { (op + row * n).update(from: bp, count: n) }
                }
                BLAS.sgemm(transposeA: false, transposeB: true, m: rows, n: n, k: k,
                           a: f.floats(x), lda: k, b: f.floats(w), ldb: k, c: op, ldc: n, beta: 1)
            }
        case .gelu(let form):
            let gelu = ElementwiseKernels.gelu(form)
            return Kernel { f in
                let bp = f.floats(b), op = f.floats(out)
                if packed {
                    // The GELU on each block of the product while it is in cache.
                    packedProduct(f) { block, rows, columns, ld in
                        for row in 0..<rows { gelu(block + row * ld, block + row * ld, block + row * ld, columns) }
                    }
                    return
                }
                BLAS.sgemm(transposeA: false, transposeB: true, m: rows, n: n, k: k,
                           a: f.floats(x), lda: k, b: f.floats(w), ldb: k, c: op, ldc: n)
                parallel.split(rows, work: rows * n) { range in
                    for row in range {
                        let r = op + row * n
                        for j in 0..<n { r[j] += bp[j] }
                        gelu(r, r, r, n)
                    }
                }
            }
        }
    }

    /// (x [rows, h], residual [rows, h], gamma [h], beta [h]) -> layerNorm(x + residual).
    /// Each row's sum is written to the output, its statistics taken there, then normalised
    /// in place; the output may alias x.
    static func addLayerNorm(_ site: KernelSite, epsilon: Float) -> Kernel {
        let (x, residual, gamma, beta, out) = (site.inputs[0], site.inputs[1], site.inputs[2], site.inputs[3], site.outputs[0])
        let h = site.inputShapes[0].last ?? 1
        let rows = h == 0 ? 0 : site.inputCount(0) / h
        let parallel = site.parallel
        return Kernel { f in
            let xp = f.floats(x), rp = f.floats(residual), gp = f.floats(gamma), bp = f.floats(beta), op = f.floats(out)
            parallel.split(rows, work: rows * h) { range in
                for row in range {
                    let xr = xp + row * h, rr = rp + row * h, yr = op + row * h
                    for j in 0..<h { yr[j] = xr[j] + rr[j] }
                    let (mean, rstd) = NormalizationKernels.rowStatistics(yr, h, epsilon)
                    for j in 0..<h { yr[j] = (yr[j] - mean) * rstd * gp[j] + bp[j] }
                }
            }
        }
    }

    /// (scores [b, heads, q, k], mask int[b, k]) -> softmax over k of
    /// factor * scores + (1 - mask) * -10000. The output may alias the scores.
    static func scaledMaskedSoftmax(_ site: KernelSite, factor: Float) -> Kernel {
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
            additiveMask(mp, maskType, count: batch * keys, into: bp)
            parallel.split(rows, work: rows * keys) { range in
                for row in range {
                    softmaxRow(sp + row * keys, bp + (row / (heads * queries)) * keys, op + row * keys, keys, factor)
                }
            }
        }
    }

    /// The attention mask as the additive term of the scores: (1 - mask) * -10000, for
    /// `count` integers at `mask`.
    static func additiveMask(_ mask: UnsafeRawPointer, _ type: IndexType, count: Int, into bias: UnsafeMutablePointer<Float>) {
        for i in 0..<count { bias[i] = Float(1 - type.load(mask, i)) * -10000 }
    }

    /// y = softmax(x * factor + mask) over one row of `n`, in three passes: scale and mask
    /// while finding the largest value; exponentials and their sum; the division. The same
    /// bits as a pass for each step (`rowMax` is exact in any order, and the sum adds the
    /// same 8-lane blocks in the same order as `rowSum`). y may alias x.
    @inline(__always)
    static func softmaxRow(_ x: UnsafePointer<Float>, _ mask: UnsafePointer<Float>,
                           _ y: UnsafeMutablePointer<Float>, _ n: Int, _ factor: Float) {
        @inline(__always) func load(_ p: UnsafePointer<Float>) -> Float8 {
            UnsafeRawPointer(p).loadUnaligned(as: Float8.self)
        }
        var i = 0
        var lanes = Float8(repeating: -.infinity)
        while i + 8 <= n {
            let v = load(x + i) * factor + load(mask + i)
            UnsafeMutableRawPointer(y + i).storeBytes(of: v, as: Float8.self)
            lanes.replace(with: v, where: v .> lanes)
            i += 8
        }
        var top = lanes.max()
        while i < n {
            let v = x[i] * factor + mask[i]
            y[i] = v
            if v > top { top = v }
            i += 1
        }
        let shift = FloatLanes(repeating: top)
        var sum = Float8()
        i = 0
        while i + FloatLanes.scalarCount <= n {
            let e = vectorExp(FloatLanes(loading: y + i) - shift)
            e.store(to: y + i)
            sum += e.low
            sum += e.high
            i += FloatLanes.scalarCount
        }
        if i < n {
            mapLanes(y + i, y + i, y + i, n - i) { v, _ in vectorExp(v - shift) }
            if i + 8 <= n {
                sum += load(y + i)
                i += 8
            }
        }
        var total = 0.0
        for lane in 0..<8 { total += Double(sum[lane]) }
        while i < n { total += Double(y[i]); i += 1 }
        let inverse = 1 / Float(total)
        for j in 0..<n { y[j] *= inverse }
    }

    /// (dy [..., n], y [..., n]) -> factor * y * (dy - sum(dy * y)) over the last dim.
    static func scaledSoftmaxGrad(_ site: KernelSite, factor: Float) -> Kernel {
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
                    for j in 0..<n { outr[j] = factor * yr[j] * (dyr[j] - dot) }
                }
            }
        }
    }

    /// Rows per block of `geluGradSum`'s partial column sums: fixed, so the summation order
    /// (and every bit of the result) does not depend on the thread count.
    static let sumBlockRows = 32

    /// (dy [rows, n], x [rows, n]) -> (dx = dy * GELU'(x) [rows, n], column sums of dx [n]).
    /// Blocks of `sumBlockRows` rows compute dx and add each row into the block's Double
    /// partial sums while the row is in cache; the partials are then summed in block order.
    static func geluGradSum(_ site: KernelSite, form: GeluApproximation) -> Kernel {
        let (dy, x, dx, sum) = (site.inputs[0], site.inputs[1], site.outputs[0], site.outputs[1])
        let n = site.inputShapes[0].last ?? 1
        let rows = n == 0 ? 0 : site.inputCount(0) / n
        let blocks = (rows + sumBlockRows - 1) / sumBlockRows
        let parallel = site.parallel
        let partials = Scratch<Double>(blocks * n, 0)
        let geluGrad = ElementwiseKernels.geluGrad(form)
        return Kernel { f in
            let dyp = f.floats(dy), xp = f.floats(x), dxp = f.floats(dx), sp = f.floats(sum), pp = partials.pointer
            parallel.split(blocks, work: rows * n) { range in
                for block in range {
                    let partial = pp + block * n
                    partial.update(repeating: 0, count: n)
                    for row in (block * sumBlockRows)..<min((block + 1) * sumBlockRows, rows) {
                        let dxr = dxp + row * n
                        geluGrad(dyp + row * n, xp + row * n, dxr, n)
                        for j in 0..<n { partial[j] += Double(dxr[j]) }
                    }
                }
            }
            parallel.split(n, work: blocks * n) { columns in
                for j in columns {
                    var total = 0.0
                    for block in 0..<blocks { total += pp[block * n + j] }
                    sp[j] = Float(total)
                }
            }
        }
    }
}
