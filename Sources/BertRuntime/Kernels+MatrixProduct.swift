// Matrix products. Both ops flatten their operands to matrices. `matmul` calls `BLAS.sgemm` on
// the calling thread (BLAS runs its own threads, never nested inside ours); `batchMatmul`
// splits its entries across the runtime's threads, each running single-threaded sgemm.

enum MatrixProductKernels {
    /// transposeA false: (a [..., k], b [k, n] or [n, k] with transposeB) -> [..., n].
    /// transposeA true: (a [..., m], b [..., n]) -> [m, n] = a^T b over all leading dims.
    static func matmul(_ site: KernelSite, transposeA: Bool, transposeB: Bool) -> Kernel {
        let (a, b, out) = (site.inputs[0], site.inputs[1], site.outputs[0])
        let aDims = site.inputShapes[0], bDims = site.inputShapes[1]
        let m: Int, n: Int, k: Int
        if transposeA {
            (m, n) = (aDims.last ?? 1, bDims.last ?? 1)
            k = m == 0 ? 0 : site.inputCount(0) / m
        } else {
            k = aDims.last ?? 1
            m = k == 0 ? 0 : site.inputCount(0) / k
            n = transposeB ? bDims[0] : bDims[1]
        }
        let lda = transposeA ? m : k, ldb = bDims.last ?? 1
        return Kernel { f in
            BLAS.sgemm(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k,
                       a: f.floats(a), lda: lda, b: f.floats(b), ldb: ldb, c: f.floats(out), ldc: n)
        }
    }

    /// (a [..., m, k], b [..., k, n]) -> [..., m, n], one single-threaded sgemm per batch
    /// entry, entries split across the runtime's threads; the flags transpose the last two
    /// dims of an operand.
    static func batchMatmul(_ site: KernelSite, transposeA: Bool, transposeB: Bool) -> Kernel {
        let (a, b, out) = (site.inputs[0], site.inputs[1], site.outputs[0])
        let aDims = site.inputShapes[0], bDims = site.inputShapes[1]
        let r = aDims.count
        let (m, k) = transposeA ? (aDims[r - 1], aDims[r - 2]) : (aDims[r - 2], aDims[r - 1])
        let n = transposeB ? bDims[r - 2] : bDims[r - 1]
        let batch = aDims.dropLast(2).reduce(1, *)
        let (lda, ldb) = (aDims[r - 1], bDims[r - 1])
        let (aStride, bStride, cStride) = (m * k, k * n, m * n)
        let parallel = site.parallel
        return Kernel { f in
            BLAS.batchedSgemm(transposeA: transposeA, transposeB: transposeB, batch: batch, m: m, n: n, k: k,
                              a: f.floats(a), lda: lda, aStride: aStride, b: f.floats(b), ldb: ldb, bStride: bStride,
                              c: f.floats(out), ldc: n, cStride: cStride, parallel: parallel)
        }
    }
}
