// Dropout masks come from (seed, step, stream, element index) only.
import BertGraph
@testable import BertRuntime
import XCTest

final class DropoutTests: XCTestCase {
    let ones = HostTensor(shape: [64, 1000], floats: [Float](repeating: 1, count: 64_000))

    func mask(rate: Float = 0.1, stream: Int = 0, seed: UInt64 = 7, step: Int = 3, threads: Int = 1,
              grad: Bool = false) throws -> [Float] {
        let op: Op = grad ? .dropoutGrad(rate: rate, stream: stream) : .dropout(rate: rate, stream: stream)
        return try runOneNode(op, [ones], threads: threads, minimumParallelWork: 0, seed: seed, step: step)[0].floats!
    }

    func testSameKeyGivesSameMaskWhateverTheThreadCount() throws {
        XCTAssertEqual(try mask(threads: 1), try mask(threads: 2))
    }

    func testStepsStreamsAndSeedsGiveDifferentMasks() throws {
        let base = try mask()
        XCTAssertNotEqual(base, try mask(step: 4))
        XCTAssertNotEqual(base, try mask(stream: 1))
        XCTAssertNotEqual(base, try mask(seed: 8))
    }

    func testKeepRateAndScale() throws {
        let m = try mask(rate: 0.1)
        let kept = m.filter { $0 != 0 }
        // 64,000 Bernoulli(0.9) draws: the standard deviation of the kept fraction is 0.0012.
        XCTAssertEqual(Double(kept.count) / Double(m.count), 0.9, accuracy: 0.006)
        XCTAssertTrue(kept.allSatisfy { abs($0 - 1 / 0.9) < 1e-6 })
    }

    func testGradientUsesTheForwardMask() throws {
        XCTAssertEqual(try mask(stream: 5), try mask(stream: 5, grad: true))
    }

    func testRateZeroIsIdentity() throws {
        XCTAssertEqual(try mask(rate: 0), ones.floats!)
    }
}
