// Multi-head attention in one kernel (`Op.attention`, made by FuseOps in graphs that do not
// differentiate through it). A unit of work is one head of one example, run on one thread:
// the scores q k^T of all its queries go to a scratch [sq, sk], each row is scaled, masked
// and normalised there (`FusedKernels.softmaxRow`, as the unfused softmax does), and the
// scratch times v is written straight into the head's columns of the output rows. The heads
// are read where the projections wrote them, h floats apart, so no transpose runs, the
// [b, heads, sq, sk] scores are never stored, and a head's scores stay in the thread's cache
// from the first product to the second.
//
// The scores are a single-threaded, strided OpenBLAS product, as in the unfused graph; the
// context runs on bertc's `Gemm` (v's head packed as its right operand, sk x d floats) where
// the build has it. Which library runs which product changes only the order of float sums;
// `tools/float32_spread.py` measures the logits' distance from float64 PyTorch.
//
// Units are split into up to six parts per thread, claimed by whichever thread is free, each
// part with its own scratch. A unit's arithmetic does not depend on the part or thread it
// runs on.

enum AttentionKernels {
    /// Parts per thread the units are split into, so that a thread slowed by the machine
    /// leaves its remaining parts to the others.
    static let partsPerThread = 6

    /// (q [b, sq, h] or [b, h], k [b, sk, h], v [b, sk, h], mask int[b, sk]) -> [q's shape].
    static func attention(_ site: KernelSite, heads: Int, factor: Float) -> Kernel {
        let (q, k, v, mask, out) = (site.inputs[0], site.inputs[1], site.inputs[2], site.inputs[3], site.outputs[0])
        let kDims = site.inputShapes[1]
        let (batch, keys, width) = (kDims[0], kDims[1], kDims[2])
        let d = width / heads
        let queries = batch * width == 0 ? 0 : site.inputCount(0) / (batch * width)
        let maskType = IndexType(site.inputTypes[3])
        let units = batch * heads
        let parallel = site.parallel
        let parts = parallel.parts(units, work: units * queries * keys * (2 * d + 1), perThread: partsPerThread)
        let useGemm = Gemm.isAvailable
        // Per part: the scores of the current head, and its v packed for `Gemm`.
        let scores = (0..<parts).map { _ in Scratch<Float>(queries * keys, 0) }
        let packedValues = useGemm ? (0..<parts).map { _ in PackedMatrix(k: keys, n: d) } : []
        let bias = Scratch<Float>(batch * keys, 0)
        return Kernel { f in
            let qp = f.floats(q), kp = f.floats(k), vp = f.floats(v), op = f.floats(out)
            if keys == 0 { op.update(repeating: 0, count: batch * queries * width) }  // no keys: nothing to attend to
            if units == 0 || queries == 0 || keys == 0 { return }
            let mp = UnsafeRawPointer(f.raw(mask)), bp = bias.pointer
            FusedKernels.additiveMask(mp, maskType, count: batch * keys, into: bp)
            BLAS.prepareSerialProducts()
            WorkerPool.shared.perform(iterations: parts) { part in
                let s = scores[part].pointer
                for unit in (units * part / parts)..<(units * (part + 1) / parts) {
                    let (example, head) = unit.quotientAndRemainder(dividingBy: heads)
                    let column = head * d
                    let qh = qp + example * queries * width + column, oh = op + example * queries * width + column
                    let kh = kp + example * keys * width + column, vh = vp + example * keys * width + column
                    BLAS.serialSgemm(transposeA: false, transposeB: true, m: queries, n: keys, k: d,
                                     a: qh, lda: width, b: kh, ldb: width, c: s, ldc: keys)
                    let maskRow = bp + example * keys
                    for row in 0..<queries {
                        FusedKernels.softmaxRow(s + row * keys, maskRow, s + row * keys, keys, factor)
                    }
                    if useGemm {
                        packedValues[part].pack(vh, ldb: width, transposed: false)
                        Gemm.multiply(m: queries, a: s, lda: keys, packed: packedValues[part], columns: 0..<d,
                                      c: oh, ldc: width, accumulate: false)
                    } else {
                        BLAS.serialSgemm(transposeA: false, transposeB: false, m: queries, n: d, k: keys,
                                         a: s, lda: keys, b: vh, ldb: width, c: oh, ldc: width)
                    }
                }
            }
        }
    }
}
