import XCTest
import BertGraph
import BertPasses
import BertRuntime

/// Finite-difference checks of every gradient rule: a tiny graph (the op, then a scalar loss),
/// differentiated by `Differentiate` and run by the `Interpreter`, against central
/// differences of the forward graph's loss.
///
/// Everything runs in float32. Central differences use a step of 1e-2 (the truncation error,
/// ~1e-4 * f''', and the float32 rounding of a loss of size ~1, ~1e-5, then both stay below
/// the tolerance): an element passes when |analytic - numeric| <= 1e-3 + 1e-2 * |numeric|.
/// Every check also asserts the gradient is not all zeros, so that it checks something.
final class GradientCheckTests: XCTestCase {
    static let step: Float = 1e-2
    static let (atol, rtol): (Float, Float) = (1e-3, 1e-2)

    // MARK: - Harness

    /// A small graph under construction: parameters get random values, the loss head turns
    /// any float value into `meanSquaredError(reshape(y) R^T, targets)` with fixed random R.
    struct Case {
        var g = Graph(name: "check")
        var inputs: [String: HostTensor] = [:]
        var values: [String: HostTensor] = [:]
        var rng = SplitMix64(seed: 42)

        mutating func param(_ name: String, _ dims: [Int], range: ClosedRange<Float> = -1 ... 1) -> ValueID {
            values[name] = HostTensor(shape: dims, floats: (0 ..< dims.reduce(1, *)).map { _ in Float.random(in: range, using: &rng) })
            return g.addParameter(name, TensorType(.float32, Shape(dims)))
        }

        mutating func floatInput(_ name: String, _ dims: [Int]) -> ValueID {
            inputs[name] = HostTensor(shape: dims, floats: (0 ..< dims.reduce(1, *)).map { _ in Float.random(in: -1 ... 1, using: &rng) })
            return g.addInput(name, TensorType(.float32, Shape(dims)))
        }

        mutating func intInput(_ name: String, _ dims: [Int], _ values: [Int32]) -> ValueID {
            inputs[name] = HostTensor(shape: dims, int32s: values)
            return g.addInput(name, TensorType(.int32, Shape(dims)))
        }

        mutating func apply(_ op: Op, _ x: [ValueID], _ name: String) throws -> ValueID {
            try g.apply1(op, x, name: name)
        }

        /// Ends the graph with a quadratic loss of `y` (any float shape with fixed dims).
        mutating func mseLoss(_ y: ValueID) throws {
            let dims = g.type(of: y).shape.resolve([:])!
            let last = dims.last ?? 1
            let rows = dims.reduce(1, *) / last
            let flat = try apply(.reshape(Shape([rows, last])), [y], "head.flat")
            let r = floatInput("head.r", [1, last])
            let proj = try apply(.matmul(transposeA: false, transposeB: true), [flat, r], "head.proj")
            let t = floatInput("head.targets", [rows])
            g.addOutput("loss", try apply(.meanSquaredError, [proj, t], "loss"))
        }

        /// Ends the graph with softmax cross-entropy of `logits` [b, c] against fixed labels.
        mutating func crossEntropyLoss(_ logits: ValueID) throws {
            let dims = g.type(of: logits).shape.resolve([:])!
            let labels = intInput("head.labels", [dims[0]], (0 ..< dims[0]).map { Int32($0 % dims[1]) })
            g.addOutput("loss", try apply(.softmaxCrossEntropy, [logits, labels], "loss"))
        }
    }

    /// Differentiates `c.g`, runs it, and compares every parameter's gradient with central
    /// differences of the forward loss. Parameters in `invariant` must get a zero gradient
    /// (the loss does not depend on them); all others a nonzero one.
    func check(_ c: Case, invariant: Set<String> = [], file: StaticString = #filePath, line: UInt = #line) throws {
        let train = try Differentiate().run(c.g)
        try GraphVerifier.verify(train, after: "Differentiate")
        let params = try ParameterStore.matching(c.g)
        for (name, t) in c.values { try params.set(name, t) }
        let grads = try ParameterStore.matching(c.g)
        let backward = try Interpreter(graph: train, plan: MemoryPlan.naive(train, bindings: [:]))
        _ = try backward.run(inputs: c.inputs, parameters: params, gradients: grads, seed: 7, step: 3)

        let forward = try Interpreter(graph: c.g, plan: MemoryPlan.naive(c.g, bindings: [:]))
        func loss() throws -> Float {
            try forward.run(inputs: c.inputs, parameters: params, seed: 7, step: 3)["loss"]!.floats![0]
        }
        for name in params.names {
            let slot = params.slot(name)!
            let analytic = grads.tensor(name)!.floats!
            var numeric: [Float] = []
            for i in slot {
                let original = params.withUnsafeMutableBufferPointer { $0[i] }
                params.withUnsafeMutableBufferPointer { $0[i] = original + Self.step }
                let up = try loss()
                params.withUnsafeMutableBufferPointer { $0[i] = original - Self.step }
                let down = try loss()
                params.withUnsafeMutableBufferPointer { $0[i] = original }
                numeric.append((up - down) / (2 * Self.step))
            }
            if invariant.contains(name) {
                XCTAssertLessThan(numeric.map(abs).max() ?? 0, Self.atol, "\(name): the loss depends on it", file: file, line: line)
            } else {
                XCTAssertGreaterThan(numeric.map(abs).max() ?? 0, 1e-3, "\(name): the loss does not depend on it", file: file, line: line)
            }
            for (k, (a, n)) in zip(analytic, numeric).enumerated() where abs(a - n) > Self.atol + Self.rtol * abs(n) {
                XCTFail("\(name)[\(k)]: analytic \(a), numeric \(n)", file: file, line: line)
                break
            }
        }
    }

    // MARK: - Embedding and indexing

    func testGather() throws {
        var c = Case()
        let table = c.param("table", [5, 3])
        let ids = c.intInput("ids", [2, 3], [0, 4, 2, 4, 4, 1])  // repeats: rows scatter-add
        try c.mseLoss(c.apply(.gather, [table, ids], "y"))
        try check(c)
    }

    func testPositionsWithBroadcastAdd() throws {
        var c = Case()
        let pos = c.param("pos", [6, 3])
        let x = c.param("x", [2, 4, 3])
        let ids = c.intInput("ids", [2, 4], [3, 1, 0, 2, 2, 2, 1, 0])
        let pe = try c.apply(.gather, [pos, c.apply(.positions, [ids], "pid")], "pe")
        try c.mseLoss(c.apply(.add, [x, pe], "y"))
        try check(c)
    }

    func testSelect() throws {
        for (axis, index) in [(1, 0), (2, 3), (0, 1)] {
            var c = Case()
            let x = c.param("x", [2, 3, 4])
            try c.mseLoss(c.apply(.select(axis: axis, index: index), [x], "y"))
            try check(c)
        }
    }

    // MARK: - Elementwise

    func testAdd() throws {
        for bDims in [[2, 3, 4], [3, 4], [4]] {
            var c = Case()
            let a = c.param("a", [2, 3, 4]), b = c.param("b", bDims)
            try c.mseLoss(c.apply(.add, [a, b], "y"))
            try check(c)
        }
    }

    func testMul() throws {
        for bDims in [[2, 3, 4], [3, 4], [4]] {
            var c = Case()
            let a = c.param("a", [2, 3, 4]), b = c.param("b", bDims)
            try c.mseLoss(c.apply(.mul, [a, b], "y"))
            try check(c)
        }
    }

    func testMulOfAValueWithItself() throws {
        var c = Case()
        let x = c.param("x", [3, 4])
        try c.mseLoss(c.apply(.mul, [x, x], "y"))
        try check(c)
    }

    func testScale() throws {
        var c = Case()
        try c.mseLoss(c.apply(.scale(0.7), [c.param("x", [3, 4])], "y"))
        try check(c)
    }

    func testGelu() throws {
        for a in [GeluApproximation.erf, .tanh] {
            var c = Case()
            try c.mseLoss(c.apply(.gelu(a), [c.param("x", [3, 4], range: -2 ... 2)], "y"))
            try check(c)
        }
    }

    func testTanh() throws {
        var c = Case()
        try c.mseLoss(c.apply(.tanh, [c.param("x", [3, 4], range: -2 ... 2)], "y"))
        try check(c)
    }

    func testDropout() throws {
        var c = Case()
        try c.mseLoss(c.apply(.dropout(rate: 0.3, stream: 5), [c.param("x", [4, 6])], "y"))
        try check(c)
    }

    // MARK: - Matrix products

    func testMatmul() throws {
        let shapes: [(Bool, Bool, [Int], [Int])] = [
            (false, true, [2, 3, 4], [5, 4]),   // x W^T, W [out, in]
            (false, false, [3, 4], [4, 5]),     // x W
            (true, false, [2, 3, 4], [2, 3, 5]),  // a^T b over leading dims
        ]
        for (ta, tb, aDims, bDims) in shapes {
            var c = Case()
            let a = c.param("a", aDims), b = c.param("b", bDims)
            try c.mseLoss(c.apply(.matmul(transposeA: ta, transposeB: tb), [a, b], "y"))
            try check(c)
        }
    }

    func testBatchMatmul() throws {
        for (ta, tb) in [(false, false), (false, true), (true, false), (true, true)] {
            var c = Case()
            let a = c.param("a", ta ? [2, 2, 4, 3] : [2, 2, 3, 4])
            let b = c.param("b", tb ? [2, 2, 5, 4] : [2, 2, 4, 5])
            try c.mseLoss(c.apply(.batchMatmul(transposeA: ta, transposeB: tb), [a, b], "y"))
            try check(c)
        }
    }

    // MARK: - Normalisation

    func testLayerNorm() throws {
        var c = Case()
        let x = c.param("x", [2, 3, 5], range: -2 ... 2)
        let gamma = c.param("gamma", [5], range: 0.5 ... 1.5), beta = c.param("beta", [5])
        try c.mseLoss(c.apply(.layerNorm(epsilon: 1e-5), [x, gamma, beta], "y"))
        try check(c)
    }

    func testMaskedSoftmax() throws {
        var c = Case()
        let s = c.param("scores", [2, 2, 3, 4], range: -2 ... 2)
        let mask = c.intInput("mask", [2, 4], [1, 1, 1, 0, 1, 1, 0, 0])
        try c.mseLoss(c.apply(.maskedSoftmax, [s, mask], "y"))
        try check(c)
    }

    // MARK: - Layout

    func testReshape() throws {
        var c = Case()
        try c.mseLoss(c.apply(.reshape(Shape([6, 2, 2])), [c.param("x", [2, 3, 4])], "y"))
        try check(c)
    }

    func testTranspose() throws {
        for perm in [[2, 0, 1], [0, 2, 1], [1, 0, 2]] {
            var c = Case()
            let x = c.param("x", [2, 3, 4])
            // A non-symmetric weight after the transpose makes each layout matter.
            let w = c.param("w", [3, [2, 3, 4][perm[2]]])
            try c.mseLoss(c.apply(.matmul(transposeA: false, transposeB: true), [c.apply(.transpose(perm), [x], "y"), w], "z"))
            try check(c)
        }
    }

    // MARK: - Losses

    func testSoftmaxCrossEntropy() throws {
        var c = Case()
        try c.crossEntropyLoss(c.param("logits", [3, 4], range: -2 ... 2))
        try check(c)
    }

    func testMeanSquaredError() throws {
        var c = Case()
        let p = c.param("predictions", [4, 1])
        let t = c.floatInput("targets", [4])
        c.g.addOutput("loss", try c.apply(.meanSquaredError, [p, t], "loss"))
        try check(c)
    }

    // MARK: - Composites

    /// Embeddings, self-attention, residual, layer norm, pooler and classifier: one small
    /// BERT layer, with values used several times (x feeds q, k, v and the residual).
    func testEncoderLayer() throws {
        let (b, s, h, heads, d) = (2, 3, 4, 2, 2)
        var c = Case()
        let ids = c.intInput("input_ids", [b, s], [1, 5, 2, 0, 3, 3])
        let mask = c.intInput("attention_mask", [b, s], [1, 1, 1, 1, 1, 0])
        let word = c.param("word", [6, h]), pos = c.param("pos", [4, h])
        let lnG = c.param("ln.weight", [h], range: 0.5 ... 1.5), lnB = c.param("ln.bias", [h])
        let emb = try c.apply(.add, [c.apply(.gather, [word, ids], "we"),
                                     c.apply(.gather, [pos, c.apply(.positions, [ids], "pid")], "pe")], "emb")
        let x = try c.apply(.layerNorm(epsilon: 1e-5), [emb, lnG, lnB], "x")
        func linear(_ input: ValueID, _ name: String, _ out: Int, _ inp: Int) throws -> ValueID {
            let w = c.param(name + ".weight", [out, inp]), bias = c.param(name + ".bias", [out])
            return try c.apply(.add, [c.apply(.matmul(transposeA: false, transposeB: true), [input, w], name), bias], name + ".out")
        }
        func split(_ y: ValueID, _ n: String) throws -> ValueID {
            try c.apply(.transpose([0, 2, 1, 3]), [c.apply(.reshape(Shape([b, s, heads, d])), [y], n + ".r")], n + ".t")
        }
        let q = try split(linear(x, "q", h, h), "q"), k = try split(linear(x, "k", h, h), "k")
        let v = try split(linear(x, "v", h, h), "v")
        let scores = try c.apply(.scale(1 / Float(d).squareRoot()),
                                 [c.apply(.batchMatmul(transposeA: false, transposeB: true), [q, k], "qk")], "scores")
        let probs = try c.apply(.dropout(rate: 0.2, stream: 1), [c.apply(.maskedSoftmax, [scores, mask], "probs")], "probs.drop")
        let ctx = try c.apply(.reshape(Shape([b, s, h])),
                              [c.apply(.transpose([0, 2, 1, 3]), [c.apply(.batchMatmul(transposeA: false, transposeB: false), [probs, v], "ctx")], "ctx.t")], "ctx.r")
        let attn = try linear(ctx, "o", h, h)
        let ln2G = c.param("ln2.weight", [h], range: 0.5 ... 1.5), ln2B = c.param("ln2.bias", [h])
        let y = try c.apply(.layerNorm(epsilon: 1e-5), [c.apply(.add, [attn, x], "res"), ln2G, ln2B], "y")
        let ffn = try linear(c.apply(.gelu(.tanh), [linear(y, "ffn.in", 6, h)], "ffn.act"), "ffn.out", h, 6)
        let z = try c.apply(.add, [ffn, y], "z")
        let pooled = try c.apply(.tanh, [linear(c.apply(.select(axis: 1, index: 0), [z], "cls"), "pooler", h, h)], "pooled")
        try c.crossEntropyLoss(linear(pooled, "classifier", 3, h))
        // The key bias adds q.b to every score of a query row: softmax ignores it.
        try check(c, invariant: ["k.bias"])
    }
}

/// A seeded generator so that test values are the same on every run.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
