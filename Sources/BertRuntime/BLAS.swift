// The one file that talks to BLAS (OpenBLAS's CBLAS). Everything else calls `BLAS.sgemm`,
// which also runs products with a packed weight on bertc's own `Gemm`.
//
// OpenBLAS always runs single-threaded here: a large product is split into blocks of rows
// (or columns) of the result, one single-threaded sgemm per block on the runtime's own
// threads. OpenBLAS's worker threads spin (sched_yield) for a long while after each threaded
// call, and on two cores that spinning steals the core our next elementwise kernel runs on;
// with OpenBLAS kept at one thread its workers never wake. Each result element is computed by
// the same kernel over the same k order whichever block it falls in.
import CBLAS

/// Single-precision matrix products through OpenBLAS.
enum BLAS {
    /// The thread count last given to OpenBLAS (nil before the first call).
    nonisolated(unsafe) private static var configuredThreads: Int?

    /// The thread count products of at least `smallProduct` multiply-adds are split across.
    nonisolated(unsafe) private static var requestedThreads = 1

    /// Below this many multiply-adds (m n k) a product runs on one thread: waking OpenBLAS's
    /// threads costs more than it saves on attention-sized products such as [128, 64] x [64, 128].
    static let smallProduct = 1 << 22

    /// Sets the thread count large products are split across. Call it outside any
    /// `WorkerPool` job: the runtime never runs BLAS and its own threads at once.
    static func setThreads(_ n: Int) {
        requestedThreads = n
    }

    /// Gives OpenBLAS `n` threads when that differs from the last count given.
    private static func applyThreads(_ n: Int) {
        guard configuredThreads != n else { return }
        openblas_set_num_threads(Int32(n))
        configuredThreads = n
    }

    /// `c = a' * b'` with row-major operands, where `'` is a transpose when the flag is set.
    /// - Parameters:
    ///   - m, n, k: `c` is [m, n]; the contraction is over `k`.
    ///   - a: [m, k] (or [k, m] with `transposeA`), rows `lda` apart.
    ///   - b: [k, n] (or [n, k] with `transposeB`), rows `ldb` apart.
    ///   - c: [m, n], rows `ldc` apart; overwritten when `beta` is 0, else `c = a' b' + beta c`.
    static func sgemm(transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
                      a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                      c: UnsafeMutablePointer<Float>, ldc: Int, beta: Float = 0) {
        if m == 0 || n == 0 { return }
        if k == 0 {
            if beta == 0 { for row in 0..<m { (c + row * ldc).update(repeating: 0, count: n) } }
            return
        }
        applyThreads(1)
        let (ta, tb) = (transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans)
        // Our own threads, each a single-threaded sgemm on a block of rows (or columns) of c.
        forEachBlock(m: m, n: n, k: k) { splitRows, start, end in
            if splitRows {
                cblas_sgemm(CblasRowMajor, ta, tb, blasint(end - start), blasint(n), blasint(k), 1,
                            a + (transposeA ? start : start * lda), blasint(lda), b, blasint(ldb),
                            beta, c + start * ldc, blasint(ldc))
            } else {
                cblas_sgemm(CblasRowMajor, ta, tb, blasint(m), blasint(end - start), blasint(k), 1,
                            a, blasint(lda), b + (transposeB ? start * ldb : start), blasint(ldb),
                            beta, c + start, blasint(ldc))
            }
        }
    }

    /// Sets OpenBLAS to one thread before a job whose units each call `serialSgemm`.
    static func prepareSerialProducts() {
        applyThreads(1)
    }

    /// `c = a' b'` on the calling thread alone (operands as in `sgemm`), for kernels that
    /// spread their own units of work over the runtime's threads; call
    /// `prepareSerialProducts` before their job.
    static func serialSgemm(transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
                            a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                            c: UnsafeMutablePointer<Float>, ldc: Int) {
        cblas_sgemm(CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
                    blasint(m), blasint(n), blasint(k), 1, a, blasint(lda), b, blasint(ldb), 0, c, blasint(ldc))
    }

    /// `c = a B (+ bias [n] in every row, when given)` with B packed once (`PackedMatrix`,
    /// [k, n]) for `Gemm`; a is [m, k] with rows `lda` apart. Split across threads like
    /// `sgemm`: by rows of c, or by columns at whole 16-column panels. `finish` runs on each
    /// finished block of c, on the thread that computed it (see `Gemm.multiply`).
    static func sgemm(m: Int, a: UnsafePointer<Float>, lda: Int, packed: PackedMatrix,
                      c: UnsafeMutablePointer<Float>, ldc: Int, bias: UnsafePointer<Float>?, finish: Gemm.FinishBlock? = nil) {
        let n = packed.n
        if m == 0 || n == 0 { return }
        forEachBlock(m: m, n: n, k: packed.k, streamsWeight: streams(packed)) { splitRows, start, end in
            if splitRows {
                Gemm.multiply(m: end - start, a: a + start * lda, lda: lda, packed: packed, columns: 0..<n,
                              c: c + start * ldc, ldc: ldc, accumulate: false, bias: bias, finish: finish)
            } else {
                Gemm.multiply(m: m, a: a, lda: lda, packed: packed, columns: start..<end, c: c + start, ldc: ldc,
                              accumulate: false, bias: bias.map { $0 + start }, finish: finish)
            }
        }
    }

    /// A packed weight of at least this many values is split across threads even when the
    /// product has too few rows to reach `smallProduct`: with one row (the [CLS] row of the
    /// last layer, the pooler) the product is bound by reading the weight from memory, and two
    /// cores read it faster than one (MiniLM-L6 batch 1: 0.36 ms of such products per step).
    static let streamedWeight = 1 << 16

    /// Whether a product with `packed` is split as one that streams its weight.
    static func streams(_ packed: PackedMatrix) -> Bool { packed.n * packed.k >= streamedWeight }

    /// Large products are split into blocks whose row (or column) counts are multiples of
    /// this, so every block tiles OpenBLAS's micro-kernels (and `Gemm`'s column panels) fully.
    static let splitQuantum = 16

    /// Calls `body(splitRows, start, end)` for each block an [m, n] x k product is split
    /// into: rows start..<end of c when `splitRows` (m >= n), else columns. One block (all
    /// of c) on the calling thread below `smallProduct` multiply-adds, unless `streamsWeight`;
    /// else up to `requestedThreads` blocks on the worker pool, cut at multiples of
    /// `splitQuantum`, the last taking the rest.
    private static func forEachBlock(m: Int, n: Int, k: Int, streamsWeight: Bool = false,
                                     _ body: (_ splitRows: Bool, _ start: Int, _ end: Int) -> Void) {
        let splitRows = m >= n
        let extent = splitRows ? m : n
        let parts = blockCount(m: m, n: n, k: k, streamsWeight: streamsWeight)
        WorkerPool.shared.perform(iterations: parts) { p in
            let start = extent * p / parts / splitQuantum * splitQuantum
            let end = p == parts - 1 ? extent : extent * (p + 1) / parts / splitQuantum * splitQuantum
            guard end > start else { return }
            body(splitRows, start, end)
        }
    }

    /// How many blocks `forEachBlock` cuts an [m, n] x k product into.
    static func blockCount(m: Int, n: Int, k: Int, streamsWeight: Bool) -> Int {
        m * n * k < smallProduct && !streamsWeight ? 1 : max(1, min(requestedThreads, max(m, n) / splitQuantum))
    }

    /// `batch` independent products `c_i = a_i' b_i'` (operands `aStride`, `bStride`,
    /// `cStride` elements apart), split across `parallel`'s threads with each thread running
    /// single-threaded sgemm on whole entries: attention-sized products are too small for
    /// OpenBLAS to use two threads well, so this keeps both cores busy without nesting
    /// OpenBLAS threads inside ours. Each entry's arithmetic is the same on any thread.
    static func batchedSgemm(transposeA: Bool, transposeB: Bool, batch: Int, m: Int, n: Int, k: Int,
                             a: UnsafePointer<Float>, lda: Int, aStride: Int,
                             b: UnsafePointer<Float>, ldb: Int, bStride: Int,
                             c: UnsafeMutablePointer<Float>, ldc: Int, cStride: Int, parallel: Parallel) {
        if m == 0 || n == 0 || batch == 0 { return }
        if k == 0 {
            for i in 0..<batch { for row in 0..<m { (c + i * cStride + row * ldc).update(repeating: 0, count: n) } }
            return
        }
        prepareSerialProducts()
        parallel.split(batch, work: batch * m * n * k / 64) { entries in
            for i in entries {
                serialSgemm(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, a: a + i * aStride, lda: lda,
                            b: b + i * bStride, ldb: ldb, c: c + i * cStride, ldc: ldc)
            }
        }
    }
}
