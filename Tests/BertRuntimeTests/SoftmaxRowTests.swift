// The attention softmax's three-pass row against the five passes it replaced: the same bits.
import BertGraph
@testable import BertRuntime
import XCTest

final class SoftmaxRowTests: XCTestCase {
    /// Scale and mask, `rowMax`, exp, `rowSum`, division: one pass each, as the kernel did
    /// before it fused them.
    private func fivePasses(_ x: [Float], _ mask: [Float], factor: Float) -> [Float] {
        let n = x.count
        var y = zip(x, mask).map { $0 * factor + $1 }
        y.withUnsafeMutableBufferPointer { p in
            let yp = p.baseAddress!
            let top = FloatLanes(repeating: rowMax(yp, n))
            mapLanes(yp, yp, yp, n) { v, _ in vectorExp(v - top) }
            let inverse = 1 / rowSum(yp, n)
            for j in 0..<n { yp[j] *= inverse }
        }
        return y
    }

    /// Row lengths of every kind the loops split into (under 8, whole and partial groups of
    /// 8 and 16, sequence buckets), with masked keys, a scale of 1/8, and the output in place
    /// of the scores as the kernel runs it.
    func testThreePassesGiveTheBitsOfFive() {
        var random = SplitMix64(seed: 21)
        for n in [1, 5, 8, 13, 16, 24, 31, 40, 64, 128] {
            for factor: Float in [1, 0.125] {
                let x = (0..<n).map { _ in Float(random.next() >> 40) / Float(1 << 20) - 8 }
                let mask = (0..<n).map { j in j % 5 == 4 ? Float(-10000) : 0 }
                var y = x
                y.withUnsafeMutableBufferPointer { p in
                    mask.withUnsafeBufferPointer { m in
                        FusedKernels.softmaxRow(p.baseAddress!, m.baseAddress!, p.baseAddress!, n, factor)
                    }
                }
                XCTAssertEqual(y, fivePasses(x, mask, factor: factor), "n \(n), factor \(factor)")
                XCTAssertEqual(Double(y.reduce(0, +)), 1, accuracy: 1e-5, "n \(n)")
            }
        }
    }
}
