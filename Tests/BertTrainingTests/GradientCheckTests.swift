import XCTest
import BertGraph
import BertPasses
import BertRuntime

/// Finite-difference checks of every differentiable op (harness and tolerance in
/// GradientCheck.swift). Every check also asserts that the gradient is not all zeros, so that
/// it checks something.
final class GradientCheckTests: XCTestCase {
    typealias Case = GradientCheckCase

    // MARK: - Embedding and indexing

    func testGather() throws {
        var c = Case()
        let table = c.param("table", [5, 3])
        let ids = c.intInput("ids", [2, 3], [0, 4, 2, 4, 4, 1])  // repeats: rows scatter-add
        try c.mseLoss(c.apply(.gather, [table, ids], "y"))
        try checkGradients(c)
    }

    func testPositionsWithBroadcastAdd() throws {
        var c = Case()
        let pos = c.param("pos", [6, 3])
        let x = c.param("x", [2, 4, 3])
        let ids = c.intInput("ids", [2, 4], [3, 1, 0, 2, 2, 2, 1, 0])
        let pe = try c.apply(.gather, [pos, c.apply(.positions, [ids], "pid")], "pe")
        try c.mseLoss(c.apply(.add, [x, pe], "y"))
        try checkGradients(c)
    }

    func testSelect() throws {
        for (axis, index) in [(1, 0), (2, 3), (0, 1)] {
            var c = Case()
            let x = c.param("x", [2, 3, 4])
            try c.mseLoss(c.apply(.select(axis: axis, index: index), [x], "y"))
            try checkGradients(c)
        }
    }

    func testGatherRows() throws {
        var c = Case()
        let x = c.param("x", [2, 3, 4])
        let rows = c.intInput("rows", [4], [5, 0, 2, 3])
        try c.mseLoss(c.apply(.gatherRows, [x, rows], "y"))
        try checkGradients(c)
    }

    func testScatterRows() throws {
        var c = Case()
        let y = c.param("y", [3, 4])
        let rows = c.intInput("rows", [3], [4, 1, 2])
        try c.mseLoss(c.apply(.scatterRows(leading: [.fixed(2), .fixed(3)]), [y, rows], "x"))
        try checkGradients(c)
    }

    // MARK: - Elementwise

    /// add and mul, with b at a's shape and broadcast along one and two leading dims.
    func testAddAndMul() throws {
        for op in [Op.add, .mul] {
            for bDims in [[2, 3, 4], [3, 4], [4]] {
                var c = Case()
                let a = c.param("a", [2, 3, 4]), b = c.param("b", bDims)
                try c.mseLoss(c.apply(op, [a, b], "y"))
                try checkGradients(c)
            }
        }
    }

    func testMulOfAValueWithItself() throws {
        var c = Case()
        let x = c.param("x", [3, 4])
        try c.mseLoss(c.apply(.mul, [x, x], "y"))
        try checkGradients(c)
    }

    func testScale() throws {
        var c = Case()
        try c.mseLoss(c.apply(.scale(0.7), [c.param("x", [3, 4])], "y"))
        try checkGradients(c)
    }

    func testGelu() throws {
        for a in [GeluApproximation.erf, .tanh] {
            var c = Case()
            try c.mseLoss(c.apply(.gelu(a), [c.param("x", [3, 4], range: -2 ... 2)], "y"))
            try checkGradients(c)
        }
    }

    func testTanh() throws {
        var c = Case()
        try c.mseLoss(c.apply(.tanh, [c.param("x", [3, 4], range: -2 ... 2)], "y"))
        try checkGradients(c)
    }

    /// Inputs at least 0.05 away from the kink at 0, where central differences of step 1e-2
    /// would straddle it.
    func testRelu() throws {
        var c = Case()
        let x = c.param("x", [3, 4])
        c.values["x"] = HostTensor(shape: [3, 4], floats: c.values["x"]!.floats!.map { $0 < 0 ? $0 - 0.05 : $0 + 0.05 })
        try c.mseLoss(c.apply(.relu, [x], "y"))
        try checkGradients(c)
    }

    func testDropout() throws {
        var c = Case()
        try c.mseLoss(c.apply(.dropout(rate: 0.3, stream: 5), [c.param("x", [4, 6])], "y"))
        try checkGradients(c)
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
            try checkGradients(c)
        }
    }

    func testBatchMatmul() throws {
        for (ta, tb) in [(false, false), (false, true), (true, false), (true, true)] {
            var c = Case()
            let a = c.param("a", ta ? [2, 2, 4, 3] : [2, 2, 3, 4])
            let b = c.param("b", tb ? [2, 2, 5, 4] : [2, 2, 4, 5])
            try c.mseLoss(c.apply(.batchMatmul(transposeA: ta, transposeB: tb), [a, b], "y"))
            try checkGradients(c)
        }
    }

    // MARK: - Normalisation

    func testLayerNorm() throws {
        var c = Case()
        let x = c.param("x", [2, 3, 5], range: -2 ... 2)
        let gamma = c.param("gamma", [5], range: 0.5 ... 1.5), beta = c.param("beta", [5])
        try c.mseLoss(c.apply(.layerNorm(epsilon: 1e-5), [x, gamma, beta], "y"))
        try checkGradients(c)
    }

    func testMaskedSoftmax() throws {
        var c = Case()
        let s = c.param("scores", [2, 2, 3, 4], range: -2 ... 2)
        let mask = c.intInput("mask", [2, 4], [1, 1, 1, 0, 1, 1, 0, 0])
        try c.mseLoss(c.apply(.maskedSoftmax, [s, mask], "y"))
        try checkGradients(c)
    }

    // MARK: - Layout

    func testReshape() throws {
        var c = Case()
        try c.mseLoss(c.apply(.reshape(Shape([6, 2, 2])), [c.param("x", [2, 3, 4])], "y"))
        try checkGradients(c)
    }

    func testTranspose() throws {
        for perm in [[2, 0, 1], [0, 2, 1], [1, 0, 2]] {
            var c = Case()
            let x = c.param("x", [2, 3, 4])
            // A non-symmetric weight after the transpose makes each layout matter.
            let w = c.param("w", [3, [2, 3, 4][perm[2]]])
            try c.mseLoss(c.apply(.matmul(transposeA: false, transposeB: true), [c.apply(.transpose(perm), [x], "y"), w], "z"))
            try checkGradients(c)
        }
    }

    // MARK: - Losses

    func testSoftmaxCrossEntropy() throws {
        var c = Case()
        try c.crossEntropyLoss(c.param("logits", [3, 4], range: -2 ... 2))
        try checkGradients(c)
    }

    /// The span loss over the positions a mask keeps: the masked-out logits get no gradient.
    func testMaskedSoftmaxCrossEntropy() throws {
        var c = Case()
        let logits = c.param("logits", [3, 5], range: -2 ... 2)
        let mask = c.intInput("mask", [3, 5], [1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 1, 1, 0, 0, 0])
        let positions = c.intInput("positions", [3], [4, 2, 0])
        c.g.addOutput("loss", try c.apply(.maskedSoftmaxCrossEntropy, [logits, mask, positions], "loss"))
        try checkGradients(c)
    }

    func testMeanSquaredError() throws {
        var c = Case()
        let p = c.param("predictions", [4, 1])
        let t = c.floatInput("targets", [4])
        c.g.addOutput("loss", try c.apply(.meanSquaredError, [p, t], "loss"))
        try checkGradients(c)
        // Targets that depend on a parameter get a gradient too.
        var d = Case()
        let (dp, dt) = (d.param("predictions", [4, 1]), d.param("targets", [4]))
        d.g.addOutput("loss", try d.apply(.meanSquaredError, [dp, dt], "loss"))
        try checkGradients(d)
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
        try checkGradients(c, invariant: ["k.bias"])
    }
}

