// Every op against PyTorch: each golden case (tools/golden_ops.py) runs through the
// Interpreter on a one-node graph, on one thread and split over two threads.
import BertGraph
@testable import BertRuntime
import XCTest

final class GoldenOpTests: XCTestCase {
    /// The op each golden case exercises. Dropout has no golden (PyTorch's RNG differs); see
    /// DropoutTests.
    static let cases: [String: Op] = [
        "gather": .gather,
        "gather_grad": .gatherGrad(rows: 10),
        "positions": .positions,
        "select": .select(axis: 1, index: 0),
        "select_grad": .selectGrad(axis: 1, index: 0, size: .fixed(3)),
        "gather_rows": .gatherRows,
        "scatter_rows": .scatterRows(leading: Shape([2, 4])),
        "add": .add,
        "mul": .mul,
        "add_broadcast": .add,
        "add_broadcast_rank2": .add,
        "mul_broadcast": .mul,
        "scale": .scale(0.125),
        "gelu_erf": .gelu(.erf),
        "gelu_tanh": .gelu(.tanh),
        "gelu_grad_erf": .geluGrad(.erf),
        "gelu_grad_tanh": .geluGrad(.tanh),
        "tanh": .tanh,
        "tanh_grad": .tanhGrad,
        "matmul_nn": .matmul(transposeA: false, transposeB: false),
        "matmul_nt": .matmul(transposeA: false, transposeB: true),
        "matmul_tn": .matmul(transposeA: true, transposeB: false),
        "batch_matmul_nn": .batchMatmul(transposeA: false, transposeB: false),
        "batch_matmul_nt": .batchMatmul(transposeA: false, transposeB: true),
        "batch_matmul_tn": .batchMatmul(transposeA: true, transposeB: false),
        "batch_matmul_tt": .batchMatmul(transposeA: true, transposeB: true),
        "sum_leading_0": .sumLeading(keepRank: 0),
        "sum_leading_1": .sumLeading(keepRank: 1),
        "sum_leading_2": .sumLeading(keepRank: 2),
        "layer_norm": .layerNorm(epsilon: 1e-12),
        "layer_norm_grad": .layerNormGrad(epsilon: 1e-12),
        "masked_softmax": .maskedSoftmax,
        "softmax_grad": .softmaxGrad,
        "reshape": .reshape(Shape([6, 20])),
        "transpose_0213": .transpose([0, 2, 1, 3]),
        "transpose_2031": .transpose([2, 0, 3, 1]),
        "softmax_cross_entropy": .softmaxCrossEntropy,
        "softmax_cross_entropy_grad": .softmaxCrossEntropyGrad,
        "mean_squared_error": .meanSquaredError,
        "mean_squared_error_grad": .meanSquaredErrorGrad,
        "masked_softmax_cross_entropy": .maskedSoftmaxCrossEntropy,
        "masked_softmax_cross_entropy_grad": .maskedSoftmaxCrossEntropyGrad,
        "fill": .fill(value: 1.5, shape: Shape([2, 3])),
    ]

    /// Tolerance: |actual - expected| <= atol + rtol * |expected|. Float32 kernels against
    /// PyTorch's float32 CPU kernels on O(1) values; shapes are small, so 1e-5 holds.
    static let atol: Float = 1e-5, rtol: Float = 1e-5

    func testEveryGoldenCaseHasAnOp() throws {
        XCTAssertEqual(try GoldenCase.allNames(), Self.cases.keys.sorted())
    }

    func testOpsMatchPyTorch() throws {
        for name in Self.cases.keys.sorted() {
            let golden = try GoldenCase.load(name)
            let op = Self.cases[name]!
            XCTAssertEqual(op.name, golden.op, name)
            let inputs = golden.inputs.map(\.host)
            let single = try runOneNode(op, inputs, threads: 1)
            let split = try runOneNode(op, inputs, threads: 2, minimumParallelWork: 0)
            XCTAssertEqual(single.count, golden.outputs.count, name)
            for (k, expected) in golden.outputs.enumerated() {
                assertClose(single[k], expected.host, atol: Self.atol, rtol: Self.rtol, "\(name) output \(k)")
                XCTAssertEqual(single[k], split[k], "\(name) output \(k): one thread and two threads differ")
            }
        }
    }

    /// Far from zero the vector exp, erfc and tanh saturate instead of giving NaN or inf.
    func testElementwiseLimits() throws {
        let x = HostTensor(shape: [10], floats: [-1e4, -200, -90, -20, -9, 9, 20, 90, 200, 1e4])
        let dy = HostTensor(shape: [10], floats: [Float](repeating: 1, count: 10))
        let xs = x.floats!
        let relu = xs.map { max($0, 0) }, step = xs.map { $0 > 0 ? Float(1) : 0 }, sign = xs.map { $0 > 0 ? Float(1) : -1 }
        let expect: [(Op, [HostTensor], [Float])] = [
            (.gelu(.erf), [x], relu), (.gelu(.tanh), [x], relu),
            (.geluGrad(.erf), [dy, x], step), (.geluGrad(.tanh), [dy, x], step),
            (.tanh, [x], sign),
        ]
        for (op, inputs, limit) in expect {
            let y = try runOneNode(op, inputs)[0]
            assertClose(y, HostTensor(shape: [10], floats: limit), atol: 1e-6, rtol: 1e-6, "\(op.name) limits")
        }
        let scores = HostTensor(shape: [1, 1, 1, 4], floats: [-1e4, 80, 100, 1e4])
        let mask = HostTensor(shape: [1, 4], int32s: [1, 1, 1, 0])
        let probs = try runOneNode(.maskedSoftmax, [scores, mask])[0].floats!
        XCTAssertEqual(probs[0], 0)
        XCTAssertEqual(probs[2], 1, accuracy: 1e-6)
        XCTAssertEqual(probs[1] + probs[3], 0, accuracy: 1e-6)
    }

    func testIdOutsideTheTableIsATypedError() throws {
        let table = HostTensor(shape: [3, 2], floats: [0, 1, 2, 3, 4, 5])
        let ids = HostTensor(shape: [1, 2], int32s: [1, 3])
        XCTAssertThrowsError(try runOneNode(.gather, [table, ids])) { error in
            XCTAssertEqual(error as? RuntimeError, .indexOutOfRange(node: "y", op: "gather", index: 3, bound: 3))
        }
    }
}
