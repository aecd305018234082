// The worker pool runs every index of every job exactly once, including jobs submitted back
// to back, from inside a job, and from two threads at once.
import Dispatch
@testable import BertRuntime
import Synchronization
import XCTest

final class WorkerPoolTests: XCTestCase {
    /// 20,000 jobs in a row (each a few indices), with short and long gaps: a worker that is
    /// still leaving one job must never run an index of the next.
    func testEveryIndexRunsOnceAcrossManyJobs() {
        let pool = WorkerPool(workers: 1)
        let slots = 7
        let counts = UnsafeMutablePointer<Int>.allocate(capacity: slots)
        defer { counts.deallocate() }
        for job in 0..<20_000 {
            counts.initialize(repeating: 0, count: slots)
            let iterations = 2 + job % (slots - 1)
            pool.perform(iterations: iterations) { i in counts[i] += job + 1 }
            for i in 0..<slots where counts[i] != (i < iterations ? job + 1 : 0) {
                XCTFail("job \(job): index \(i) ran \(counts[i]) (want \(i < iterations ? job + 1 : 0))")
                return
            }
            if job % 5_000 == 0 { usleep(1_000) }  // let the worker fall asleep now and then
        }
    }

    /// A job whose index 0 waits for index 1 finishes only if two threads run it: the worker
    /// takes part, after sleeping too. (Within 5 s, or the test fails instead of hanging.)
    func testTheWorkerRunsIndicesAlongsideTheCaller() {
        let pool = WorkerPool(workers: 1)
        for pause in [0, 5_000] as [UInt32] {
            usleep(pause)  // 5 ms: longer than the worker spins, so it has gone to sleep
            let done = Atomic<Bool>(false)
            let threads = UnsafeMutablePointer<pthread_t>.allocate(capacity: 2)
            defer { threads.deallocate() }
            var waited = true
            pool.perform(iterations: 2) { i in
                threads[i] = pthread_self()
                if i == 1 {
                    done.store(true, ordering: .releasing)
                } else {
                    let start = DispatchTime.now().uptimeNanoseconds
                    while !done.load(ordering: .acquiring) {
                        if DispatchTime.now().uptimeNanoseconds - start > 5_000_000_000 { waited = false; break }
                    }
                }
            }
            XCTAssertTrue(waited, "index 1 never ran while index 0 waited (pause \(pause) µs)")
            XCTAssertEqual(pthread_equal(threads[0], threads[1]), 0, "both indices ran on one thread")
        }
    }

    /// A job submitted from inside a job runs on its caller's thread, all of it.
    func testNestedJobsRunInline() {
        let pool = WorkerPool(workers: 1)
        let sums = UnsafeMutablePointer<Int>.allocate(capacity: 2)
        defer { sums.deallocate() }
        sums.initialize(repeating: 0, count: 2)
        pool.perform(iterations: 2) { outer in
            pool.perform(iterations: 10) { inner in sums[outer] += inner + 1 }
        }
        XCTAssertEqual([sums[0], sums[1]], [55, 55])
    }

    /// Two threads submitting at once: one gets the pool, the other runs inline; both finish
    /// with every index run once.
    func testConcurrentCallersBothFinish() {
        let pool = WorkerPool(workers: 1)
        let totals = UnsafeMutablePointer<Int>.allocate(capacity: 2 * 4)
        defer { totals.deallocate() }
        totals.initialize(repeating: 0, count: 8)
        DispatchQueue.concurrentPerform(iterations: 2) { caller in
            for _ in 0..<2_000 {
                pool.perform(iterations: 4) { i in totals[caller * 4 + i] += 1 }
            }
        }
        XCTAssertEqual(Array(UnsafeBufferPointer(start: totals, count: 8)), [Int](repeating: 2_000, count: 8))
    }
}
