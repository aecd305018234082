// The one file that talks to BLAS (OpenBLAS's CBLAS). Everything else calls `BLAS.sgemm`.
import CBLAS

/// Single-precision matrix products through OpenBLAS.
enum BLAS {
    /// The thread count last given to OpenBLAS (nil before the first call).
    nonisolated(unsafe) private static var configuredThreads: Int?

    /// The thread count products of at least `smallProduct` multiply-adds run on.
    nonisolated(unsafe) private static var requestedThreads = 1

    /// Below this many multiply-adds (m n k) a product runs on one thread: waking OpenBLAS's
    /// threads costs more than it saves on attention-sized products such as [128, 64] x [64, 128].
    static let smallProduct = 1 << 22

    /// Sets the thread count OpenBLAS uses for large products. Call it outside any
    /// `concurrentPerform` body: the runtime never runs BLAS and its own threads at once.
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
    ///   - c: [m, n], rows `ldc` apart; overwritten (beta = 0).
    static func sgemm(transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
                      a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                      c: UnsafeMutablePointer<Float>, ldc: Int) {
        if m == 0 || n == 0 { return }
        if k == 0 {
            for row in 0..<m { (c + row * ldc).update(repeating: 0, count: n) }
            return
        }
        applyThreads(m * n * k < smallProduct ? 1 : requestedThreads)
        cblas_sgemm(CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
                    blasint(m), blasint(n), blasint(k), 1, a, blasint(lda), b, blasint(ldb), 0, c, blasint(ldc))
    }
}
