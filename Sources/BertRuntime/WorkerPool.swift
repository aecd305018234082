// The threads every parallel kernel runs on: the calling thread plus one worker per further
// core, started once. A worker spins for a short while after each job before it sleeps, so
// the next kernel's job, usually microseconds away, starts on it at once.
//
// Why not `DispatchQueue.concurrentPerform`: it wakes a sleeping GCD thread for each job, so
// the second half of a job starts tens of microseconds late, and a batch-1 inference step is
// dozens of jobs of a few hundred microseconds each.
//
// Jobs are claimed index by index with a compare-and-swap on (generation, next index), so a
// worker still finishing one job can never take an index of the next. A worker reads the
// job's index count apart from that word, so a worker late for one job could pair the old
// generation with the next job's count and claim an index past the old job's end (running the
// next job's body on it, and that index again later). A new job therefore first closes the old
// generation (a generation of its own whose next index is past any count) before it writes
// its body and count, and only then opens its own. A job submitted while
// another runs (a nested call, or a second interpreter on another thread) runs on its
// caller's thread alone.
import Dispatch
import Foundation
import Synchronization

public final class WorkerPool: @unchecked Sendable {
    /// One worker per core beyond the first.
    public static let shared = WorkerPool(workers: ProcessInfo.processInfo.activeProcessorCount - 1)

    /// Generations are 31-bit and wrap.
    static let generationMask = 0x7FFF_FFFF
    /// The next index of a closed generation: past every job's count.
    static let closedIndex = 0xFFFF_FFFF

    /// How long a worker spins for the next job before it sleeps.
    static let spinNanoseconds: UInt64 = 200_000

    /// The job's generation (high 32 bits) and its next unclaimed index (low 32 bits).
    private let claims = Atomic<Int>(0)
    /// The current job's index count.
    private let count = Atomic<Int>(0)
    /// Indices of the current job done.
    private let finished = Atomic<Int>(0)
    /// Whether a job is running.
    private let busy = Atomic<Bool>(false)
    /// Workers asleep or about to sleep.
    private let sleepers = Atomic<Int>(0)
    private let wake = DispatchSemaphore(value: 0)
    /// The current job's body: written only while no index can be claimed, read only by a
    /// thread holding a claimed index.
    private let body: UnsafeMutablePointer<((Int) -> Void)?>
    private let workers: Int

    init(workers: Int) {
        self.workers = max(0, workers)
        body = .allocate(capacity: 1)
        body.initialize(to: nil)
        for _ in 0..<self.workers {
            Thread { self.work() }.start()  // a pool lives as long as the process
        }
    }

    /// Calls `job(i)` for every i in 0..<iterations, spread over the caller and the workers,
    /// and returns when all have finished.
    public func perform(iterations: Int, _ job: (Int) -> Void) {
        guard iterations > 1, workers > 0,
              busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else {
            for i in 0..<iterations { job(i) }
            return
        }
        withoutActuallyEscaping(job) { job in
            let previous = claims.load(ordering: .relaxed) >> 32
            let closed = (previous &+ 1) & WorkerPool.generationMask
            let generation = (previous &+ 2) & WorkerPool.generationMask
            // From here no index can be claimed, whatever count a late worker reads.
            claims.store(closed << 32 | WorkerPool.closedIndex, ordering: .sequentiallyConsistent)
            body.pointee = job
            count.store(iterations, ordering: .relaxed)
            finished.store(0, ordering: .relaxed)
            claims.store(generation << 32, ordering: .sequentiallyConsistent)
            let asleep = sleepers.load(ordering: .sequentiallyConsistent)
            for _ in 0..<asleep { wake.signal() }
            runClaims(generation: generation, iterations: iterations)
            while finished.load(ordering: .acquiring) < iterations {}
            body.pointee = nil
        }
        busy.store(false, ordering: .releasing)
    }

    /// Claims and runs indices of job `generation` until none are left.
    private func runClaims(generation: Int, iterations: Int) {
        while true {
            let state = claims.load(ordering: .acquiring)
            let index = state & 0xFFFF_FFFF
            guard state >> 32 == generation, index < iterations else { return }
            guard claims.compareExchange(expected: state, desired: state + 1, ordering: .acquiringAndReleasing).exchanged else {
                continue
            }
            WorkerPool.invoke(body, index)
            finished.add(1, ordering: .releasing)
        }
    }

    /// Runs the body on one index; the closure is released before this returns, so the
    /// caller's `withoutActuallyEscaping` never sees it held by a worker.
    @inline(never)
    private static func invoke(_ body: UnsafeMutablePointer<((Int) -> Void)?>, _ index: Int) {
        body.pointee!(index)
    }

    private func work() {
        var seen = 0
        while true {
            var generation = claims.load(ordering: .acquiring) >> 32
            let start = DispatchTime.now().uptimeNanoseconds
            var spins = 0
            while generation == seen {
                spins += 1
                if spins & 1023 == 0 && DispatchTime.now().uptimeNanoseconds - start > WorkerPool.spinNanoseconds {
                    sleepers.add(1, ordering: .sequentiallyConsistent)
                    if claims.load(ordering: .sequentiallyConsistent) >> 32 == seen { wake.wait() }
                    sleepers.subtract(1, ordering: .sequentiallyConsistent)
                }
                generation = claims.load(ordering: .acquiring) >> 32
            }
            seen = generation
            runClaims(generation: generation, iterations: count.load(ordering: .relaxed))
        }
    }
}
