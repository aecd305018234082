// The worker pool runs every index of every job exactly once, including jobs submitted back
// to back, from inside a job, and from two threads at once.
import Dispatch
@testable import BertRuntime
import XCTest

final class WorkerPoolTests: XCTestCase {
    /// 20,000 jobs in a row (each a few indices), with short and long gaps: a worker that is
    /// still leaving one job must never run an index of the next.
    func testEveryIndexRunsOnceAcrossManyJobs() {
        let pool = WorkerPool(workers: 1)
        let slots = 7
        let counts = UnsafeMutablePointer<Int>.allocate(capacity: slots)
        defer { counts.deallocate() }
        let caller = pthread_self()
        var onWorker = [Int](repeating: 0, count: slots)  // per index, so no two threads write one slot
        for job in 0..<20_000 {
            counts.initialize(repeating: 0, count: slots)
            let iterations = 2 + job % (slots - 1)
            onWorker.withUnsafeMutableBufferPointer { onWorker in
                pool.perform(iterations: iterations) { i in
                    counts[i] += job + 1
                    if pthread_equal(pthread_self(), caller) == 0 { onWorker[i] += 1 }
                }
            }
            for i in 0..<slots where counts[i] != (i < iterations ? job + 1 : 0) {
                XCTFail("job \(job): index \(i) ran \(counts[i]) (want \(i < iterations ? job + 1 : 0))")
                return
            }
            if job % 5_000 == 0 { usleep(1_000) }  // let the worker fall asleep now and then
        }
        XCTAssertGreaterThan(onWorker.reduce(0, +), 0, "the worker ran no index at all")
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
