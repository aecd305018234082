/// How kernels split work across threads. Work is split into contiguous ranges of rows (or of
/// columns, for reductions over rows), and every output element is computed by the same
/// arithmetic in the same order whichever range it falls in, so results do not depend on
/// the thread count.
struct Parallel {
    /// Number of ranges to split into (1 runs everything on the calling thread).
    let threads: Int
    /// Below this many elements touched, a kernel runs on one thread (dispatch costs more).
    let minimumWork: Int

    /// Calls `body` with disjoint consecutive ranges that cover `0..<count`, on up to
    /// `threads` threads when `work` (elements touched) reaches `minimumWork`.
    func split(_ count: Int, work: Int, _ body: (Range<Int>) -> Void) {
        let parts = parts(count, work: work)
        if parts <= 1 {
            body(0..<count)
            return
        }
        WorkerPool.shared.perform(iterations: parts) { p in
            body((count * p / parts)..<(count * (p + 1) / parts))
        }
    }

    /// How many ranges `count` items touching `work` elements are split into: up to
    /// `perThread` per thread (for kernels that hand parts out dynamically), at least 1.
    func parts(_ count: Int, work: Int, perThread: Int = 1) -> Int {
        threads > 1 && work >= minimumWork ? max(1, min(count, threads * perThread)) : 1
    }

    /// Like `split` over `count` independent elements, in blocks of 64 elements so that each
    /// range starts on a cache line of a 64-byte aligned buffer.
    func splitElements(_ count: Int, _ body: (Range<Int>) -> Void) {
        let block = 64
        split((count + block - 1) / block, work: count) { blocks in
            body((blocks.lowerBound * block)..<min(blocks.upperBound * block, count))
        }
    }
}
