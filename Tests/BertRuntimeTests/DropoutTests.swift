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

    /// Keep decisions of neighbouring elements, and of the same element in two streams, are
    /// independent: both kept with probability 0.81 (standard deviation of the fraction over
    /// 64,000 pairs: 0.0016).
    func testNeighboursAndStreamsAreIndependent() throws {
        let a = try mask(stream: 0), b = try mask(stream: 1)
        let neighbours = (0..<(a.count - 1)).filter { a[$0] != 0 && a[$0 + 1] != 0 }.count
        let streams = a.indices.filter { a[$0] != 0 && b[$0] != 0 }.count
        XCTAssertEqual(Double(neighbours) / Double(a.count - 1), 0.81, accuracy: 0.008)
        XCTAssertEqual(Double(streams) / Double(a.count), 0.81, accuracy: 0.008)
    }

    /// The eight-lane loop and the scalar tail give each element the decision of the scalar
    /// `bits24`: 91 elements are 11 groups of eight and a tail of three.
    func testEveryElementFollowsTheScalarHash() throws {
        let (seed, step, stream, rate): (UInt64, Int, Int, Float) = (11, 2, 4, 0.3)
        let x = HostTensor(shape: [7, 13], floats: [Float](repeating: 1, count: 91))
        let y = try runOneNode(.dropout(rate: rate, stream: stream), [x], threads: 1, minimumParallelWork: 0,
                               seed: seed, step: step)[0].floats!
        let key = CounterRandom.key(seed: seed, step: step, stream: stream)
        let threshold = CounterRandom.keepThreshold(rate: rate)
        for i in 0..<91 {
            XCTAssertEqual(y[i] != 0, CounterRandom.bits24(key: key, i) >= threshold, "element \(i)")
        }
    }

    func testGradientUsesTheForwardMask() throws {
        XCTAssertEqual(try mask(stream: 5), try mask(stream: 5, grad: true))
    }

    func testRateZeroIsIdentity() throws {
        XCTAssertEqual(try mask(rate: 0), ones.floats!)
    }
}
