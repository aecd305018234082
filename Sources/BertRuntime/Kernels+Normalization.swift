// Layer normalisation forward and backward, and the sum over leading dims that bias
// gradients use. Row work (statistics, dx) is split by rows; sums over rows (dgamma, dbeta,
// sumLeading) are split by columns, each column summed over rows in order, in Double.

enum NormalizationKernels {
    /// (x [rows, h], gamma [h], beta [h]) -> (x - mean) / sqrt(var + eps) * gamma + beta,
    /// with the population variance, as PyTorch.
    static func layerNorm(_ site: KernelSite, epsilon: Float) -> Kernel {
        let (x, gamma, beta, out) = (site.inputs[0], site.inputs[1], site.inputs[2], site.outputs[0])
        let h = site.inputShapes[0].last ?? 1
        let rows = h == 0 ? 0 : site.inputCount(0) / h
        let parallel = site.parallel
        return Kernel { f in
            let xp = f.floats(x), gp = f.floats(gamma), bp = f.floats(beta), op = f.floats(out)
            parallel.split(rows, work: rows * h) { range in
                for row in range {
                    let xr = xp + row * h, yr = op + row * h
                    let (mean, rstd) = rowStatistics(xr, h, epsilon)
                    for j in 0..<h { yr[j] = (xr[j] - mean) * rstd * gp[j] + bp[j] }
                }
            }
        }
    }

    /// (dy [rows, h], x [rows, h], gamma [h]) -> (dx [rows, h], dgamma [h], dbeta [h]).
    /// With xhat = (x - mean) * rstd and g = dy * gamma:
    /// dx = rstd * (g - mean(g) - xhat * mean(g * xhat)), dgamma = sum dy * xhat, dbeta = sum dy.
    /// Three passes: row statistics, then dgamma and dbeta by columns, then dx by rows, so
    /// dx may share memory with dy or x (each dx row is written after its last read).
    static func layerNormGrad(_ site: KernelSite, epsilon: Float) -> Kernel {
        let (dy, x, gamma) = (site.inputs[0], site.inputs[1], site.inputs[2])
        let (dx, dgamma, dbeta) = (site.outputs[0], site.outputs[1], site.outputs[2])
        let h = site.inputShapes[1].last ?? 1
        let rows = h == 0 ? 0 : site.inputCount(1) / h
        let parallel = site.parallel
        let means = Scratch<Float>(rows, 0), rstds = Scratch<Float>(rows, 0)
        let g = Scratch<Float>(parallel.threads * h, 0)
        let columnSums = Scratch<Double>(2 * h, 0)
        return Kernel { f in
            let dyp = f.floats(dy), xp = f.floats(x), gp = f.floats(gamma)
            let dxp = f.floats(dx), dgp = f.floats(dgamma), dbp = f.floats(dbeta)
            let meanp = means.pointer, rstdp = rstds.pointer
            parallel.split(rows, work: rows * h) { range in
                for row in range { (meanp[row], rstdp[row]) = rowStatistics(xp + row * h, h, epsilon) }
            }
            // dgamma and dbeta column by column, each summing rows in order.
            let sg = columnSums.pointer, sb = columnSums.pointer + h
            parallel.split(h, work: rows * h) { cols in
                let (c0, n) = (cols.lowerBound, cols.count)
                (sg + c0).update(repeating: 0, count: n)
                (sb + c0).update(repeating: 0, count: n)
                for row in 0..<rows {
                    let xr = xp + row * h + c0, dyr = dyp + row * h + c0
                    let (mean, rstd) = (meanp[row], rstdp[row])
                    for j in 0..<n {
                        sg[c0 + j] += Double(dyr[j] * ((xr[j] - mean) * rstd))
                        sb[c0 + j] += Double(dyr[j])
                    }
                }
                for j in cols {
                    dgp[j] = Float(sg[j])
                    dbp[j] = Float(sb[j])
                }
            }
            // dx row by row; each of the `parts` ranges has its own [h] buffer for g = dy * gamma.
            let parts = max(1, min(parallel.threads, rows))
            parallel.split(parts, work: rows * h) { partRange in
                for part in partRange {
                    let gr = g.pointer + part * h
                    for row in (rows * part / parts)..<(rows * (part + 1) / parts) {
                        let xr = xp + row * h, dyr = dyp + row * h, dxr = dxp + row * h
                        let (mean, rstd) = (meanp[row], rstdp[row])
                        for j in 0..<h { gr[j] = dyr[j] * gp[j] }
                        let meanG = rowSum(gr, h) / Float(h)
                        var gx = 0.0
                        for j in 0..<h { gx += Double(gr[j]) * Double((xr[j] - mean) * rstd) }
                        let meanGX = Float(gx / Double(h))
                        for j in 0..<h { dxr[j] = rstd * (gr[j] - meanG - (xr[j] - mean) * rstd * meanGX) }
                    }
                }
            }
        }
    }

    /// (x [..., d1 ... dk]) -> [d1 ... dk]: the sum over all leading dims.
    static func sumLeading(_ site: KernelSite) -> Kernel {
        let (x, out) = (site.inputs[0], site.outputs[0])
        let columns = site.outputCount(0)
        let rows = columns == 0 ? 0 : site.inputCount(0) / columns
        let parallel = site.parallel
        let sums = Scratch<Double>(columns, 0)
        return Kernel { f in
            let xp = f.floats(x), op = f.floats(out), sp = sums.pointer
            parallel.split(columns, work: rows * columns) { cols in
                let (c0, n) = (cols.lowerBound, cols.count)
                let sums = sp + c0
                sums.update(repeating: 0, count: n)
                for row in 0..<rows {
                    let xr = xp + row * columns + c0
                    for j in 0..<n { sums[j] += Double(xr[j]) }
                }
                for j in cols { op[j] = Float(sp[j]) }
            }
        }
    }

    /// Mean and 1 / sqrt(population variance + eps) of a row, computed in two passes.
    @inline(__always)
    static func rowStatistics(_ x: UnsafePointer<Float>, _ h: Int, _ epsilon: Float) -> (Float, Float) {
        let mean = rowSum(x, h) / Float(h)
        var acc = SIMD8<Float>()
        var j = 0
        let m8 = SIMD8<Float>(repeating: mean)
        while j + 8 <= h {
            let d = UnsafeRawPointer(x + j).loadUnaligned(as: SIMD8<Float>.self) - m8
            acc += d * d
            j += 8
        }
        var total = 0.0
        for lane in 0..<8 { total += Double(acc[lane]) }
        while j < h { let d = Double(x[j] - mean); total += d * d; j += 1 }
        let variance = Float(total / Double(h))
        return (mean, 1 / (variance + epsilon).squareRoot())
    }
}
