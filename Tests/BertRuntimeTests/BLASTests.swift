// Link check: OpenBLAS is found and multiplies like PyTorch.
import BertGraph
@testable import BertRuntime
import XCTest

final class BLASTests: XCTestCase {
    /// golden matmul_nn: a [2, 3, 4] as a [6, 4] matrix times b [4, 5]; tolerance 1e-5 abs + rel.
    func testSgemmMatchesPyTorch() throws {
        let golden = try GoldenCase.load("matmul_nn")
        let a = golden.inputs[0].host.floats!, b = golden.inputs[1].host.floats!
        var c = [Float](repeating: .nan, count: 6 * 5)
        a.withUnsafeBufferPointer { ap in
            b.withUnsafeBufferPointer { bp in
                c.withUnsafeMutableBufferPointer { cp in
                    BLAS.sgemm(transposeA: false, transposeB: false, m: 6, n: 5, k: 4,
                               a: ap.baseAddress!, lda: 4, b: bp.baseAddress!, ldb: 5, c: cp.baseAddress!, ldc: 5)
                }
            }
        }
        assertClose(HostTensor(shape: [2, 3, 5], floats: c), golden.outputs[0].host, atol: 1e-5, rtol: 1e-5, "sgemm")
    }
}
