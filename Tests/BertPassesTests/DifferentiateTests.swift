import XCTest
@testable import BertGraph
@testable import BertPasses

/// `Differentiate`: before/expected graph pairs, the outputs it adds, summing of reused values,
/// and its errors. Numerical checks live in BertTrainingTests (they need the runtime).
final class DifferentiateTests: XCTestCase {
    private let ft = Op.matmul(transposeA: false, transposeB: true)

    /// x [batch, 4] -> linear(3) -> gelu -> linear(2) -> softmax cross-entropy.
    private func mlp() throws -> (Graph, [ValueID]) {
        var g = Graph(name: "mlp")
        let x = g.addInput("x", .f32(.batch, .fixed(4)))
        let labels = g.addInput("labels", .i32(.batch))
        let w1 = g.addParameter("w1", .f32(.fixed(3), .fixed(4)))
        let b1 = g.addParameter("b1", .f32(.fixed(3)))
        let w2 = g.addParameter("w2", .f32(.fixed(2), .fixed(3)))
        let b2 = g.addParameter("b2", .f32(.fixed(2)))
        let h = try g.apply1(ft, [x, w1], name: "h")
        let hb = try g.apply1(.add, [h, b1], name: "hb")
        let a = try g.apply1(.gelu(.erf), [hb], name: "a")
        let o = try g.apply1(ft, [a, w2], name: "o")
        let logits = try g.apply1(.add, [o, b2], name: "logits")
        let loss = try g.apply1(.softmaxCrossEntropy, [logits, labels], name: "loss")
        g.addOutput("logits", logits)
        g.addOutput("loss", loss)
        return (g, [x, labels, w1, b1, w2, b2, h, hb, a, o, logits, loss])
    }

    func testMLPMatchesExpectedGraph() throws {
        let (before, v) = try mlp()
        let after = try Differentiate().run(before)
        try GraphVerifier.verify(after, after: "Differentiate")

        // Expected: the backward nodes in reverse order of the forward ones; the gradient of
        // the input x (grad/h/dx) is pruned because nothing reads it.
        var g = before
        let (x, labels, w2, hb, a, logits) = (v[0], v[1], v[4], v[7], v[8], v[10])
        let seed = try g.apply1(.fill(value: 1, shape: Shape([Dim]())), [], name: "grad/loss")
        let dlogits = try g.apply1(.softmaxCrossEntropyGrad, [seed, logits, labels], name: "grad/loss/dlogits")
        let db2 = try g.apply1(.sumLeading(keepRank: 1), [dlogits], name: "grad/logits/db")
        let da = try g.apply1(.matmul(transposeA: false, transposeB: false), [dlogits, w2], name: "grad/o/dx")
        let dw2 = try g.apply1(.matmul(transposeA: true, transposeB: false), [dlogits, a], name: "grad/o/dw")
        let dhb = try g.apply1(.geluGrad(.erf), [da, hb], name: "grad/a/dx")
        let db1 = try g.apply1(.sumLeading(keepRank: 1), [dhb], name: "grad/hb/db")
        let dw1 = try g.apply1(.matmul(transposeA: true, transposeB: false), [dhb, x], name: "grad/h/dw")
        for (name, value) in [("w1", dw1), ("b1", db1), ("w2", dw2), ("b2", db2)] {
            g.addOutput("grad:\(name)", value)
        }
        XCTAssertEqual(after.nodes, g.nodes)
        XCTAssertEqual(after.values, g.values)
        XCTAssertEqual(after, g)
    }

    /// Before/expected in the text format: a weight used twice (its two contributions summed,
    /// the later use first), a broadcast bias, tanh's rule reading its output, the pruned
    /// gradient of the input x, and a parameter the loss ignores (zero fill).
    func testTextBeforeAndExpected() throws {
        let forward = """
              input x: f32[batch, 4]
              input labels: i32[batch]
              param w: f32[4, 4]
              param b: f32[4]
              param unused: f32[2]
              %h: f32[batch, 4] = matmul[transpose_a=false, transpose_b=true](x, w)
              %t: f32[batch, 4] = tanh(%h)
              %y: f32[batch, 4] = matmul[transpose_a=false, transpose_b=true](%t, w)
              %z: f32[batch, 4] = add(%y, b)
              %loss: f32[] = softmax_cross_entropy(%z, labels)
            """
        let outputs = """
              output logits = %z
              output loss = %loss
            """
        try assertPass(Differentiate(), before: ir(forward, outputs), expected: ir(forward, """
              %grad/loss: f32[] = fill[value=1.0, shape=[]]()
              %grad/loss/dlogits: f32[batch, 4] = softmax_cross_entropy_grad(%grad/loss, %z, labels)
              %grad/z/db: f32[4] = sum_leading[keep_rank=1](%grad/loss/dlogits)
              %grad/y/dx: f32[batch, 4] = matmul[transpose_a=false, transpose_b=false](%grad/loss/dlogits, w)
              %grad/y/dw: f32[4, 4] = matmul[transpose_a=true, transpose_b=false](%grad/loss/dlogits, %t)
              %grad/t/dx: f32[batch, 4] = tanh_grad(%grad/y/dx, %t)
              %grad/h/dw: f32[4, 4] = matmul[transpose_a=true, transpose_b=false](%grad/t/dx, x)
              %grad/w/sum1: f32[4, 4] = add(%grad/y/dw, %grad/h/dw)
              %grad/unused/zero: f32[2] = fill[value=0.0, shape=[2]]()
            """, outputs, """
              output grad:w = %grad/w/sum1
              output grad:b = %grad/z/db
              output grad:unused = %grad/unused/zero
            """))
        // Differentiate numbers the values it adds in the order it adds them, so the printed
        // text parses back to the very same graph.
        let after = try Differentiate().run(GraphParser.parse(ir(forward, outputs)))
        XCTAssertEqual(after, try GraphParser.parse(GraphPrinter.render(after)))
    }

    /// A loss that no parameter reaches needs no backward at all (not even its seed); every
    /// parameter gets a zero gradient, and integer inputs get none.
    func testNoGradientFlowsWhereNoParameterReaches() throws {
        try assertPass(Differentiate(), before: ir("""
              input x: f32[batch, 3]
              input labels: i32[batch]
              param w: f32[3]
              %loss = softmax_cross_entropy(x, labels)
              output loss = %loss
            """), expected: ir("""
              input x: f32[batch, 3]
              input labels: i32[batch]
              param w: f32[3]
              %loss = softmax_cross_entropy(x, labels)
              %grad/w/zero = fill[value=0.0, shape=[3]]()
              output loss = %loss
              output grad:w = %grad/w/zero
            """))
    }

    func testEveryParameterGetsAGradientOfItsType() throws {
        let (before, _) = try mlp()
        let after = try Differentiate().run(before)
        XCTAssertEqual(after.outputs.map(\.name), ["logits", "loss", "grad:w1", "grad:b1", "grad:w2", "grad:b2"])
        for p in before.parameters {
            let out = try XCTUnwrap(after.output(named: "grad:\(before.values[p].name)"))
            XCTAssertEqual(after.type(of: out), before.type(of: p))
        }
        // The forward part is untouched.
        XCTAssertEqual(Array(after.nodes.prefix(before.nodes.count)), before.nodes)
        XCTAssertEqual(Array(after.values.prefix(before.values.count)), before.values)
    }

    func testReusedValueGradientsAreSummedInReverseOrder() throws {
        // p = x W^T, q = p W^T: W gets two contributions, summed once, later use first.
        var g = Graph(name: "reuse")
        let x = g.addInput("x", .f32(.fixed(2), .fixed(3)))
        let labels = g.addInput("labels", .i32(.fixed(2)))
        let w = g.addParameter("w", .f32(.fixed(3), .fixed(3)))
        let p = try g.apply1(ft, [x, w], name: "p")
        let q = try g.apply1(ft, [p, w], name: "q")
        g.addOutput("loss", try g.apply1(.softmaxCrossEntropy, [q, labels], name: "loss"))
        let after = try Differentiate().run(g)
        try GraphVerifier.verify(after)
        let dw = try XCTUnwrap(after.output(named: "grad:w"))
        XCTAssertEqual(after.values[dw].name, "grad/w/sum1")
        let sum = try XCTUnwrap(after.nodes.first { $0.outputs == [dw] })
        XCTAssertEqual(sum.op, .add)
        XCTAssertEqual(sum.inputs.map { after.values[$0].name }, ["grad/q/dw", "grad/p/dw"])
        XCTAssertEqual(after.nodes.filter { $0.op == .add }.count, 1)
    }

    func testValueUsedTwiceByOneNode() throws {
        // y = w * w: both inputs contribute, in input order.
        var g = Graph(name: "square")
        let targets = g.addInput("t", .f32(.fixed(2)))
        let w = g.addParameter("w", .f32(.fixed(2), .fixed(1)))
        let y = try g.apply1(.mul, [w, w], name: "y")
        g.addOutput("loss", try g.apply1(.meanSquaredError, [y, targets], name: "loss"))
        let after = try Differentiate().run(g)
        let dw = try XCTUnwrap(after.output(named: "grad:w"))
        let sum = try XCTUnwrap(after.nodes.first { $0.outputs == [dw] })
        XCTAssertEqual(sum.inputs.map { after.values[$0].name }, ["grad/y/da", "grad/y/db_full"])
    }

    func testUnreachableParameterGetsZeroFill() throws {
        var (g, _) = try mlp()
        let unused = g.addParameter("unused", .f32(.fixed(5), .fixed(2)))
        let after = try Differentiate().run(g)
        let d = try XCTUnwrap(after.output(named: "grad:unused"))
        XCTAssertEqual(after.type(of: d), after.type(of: unused))
        let node = try XCTUnwrap(after.nodes.first { $0.outputs == [d] })
        XCTAssertEqual(node.op, .fill(value: 0, shape: Shape([5, 2])))
    }

    func testErrors() throws {
        var g = Graph(name: "bad")
        let x = g.addInput("x", .f32(.fixed(2), .fixed(1)))
        let w = g.addParameter("w", .f32(.fixed(2), .fixed(1)))
        let y = try g.apply1(.tanhGrad, [x, w], name: "y")
        g.addOutput("y", y)
        XCTAssertThrowsError(try Differentiate().run(g)) { error in
            XCTAssertEqual(error as? DifferentiationError, .missingLoss(outputs: ["y"]))
        }
        var notScalar = g
        notScalar.addOutput("loss", y)
        XCTAssertThrowsError(try Differentiate().run(notScalar)) { error in
            XCTAssertEqual(error as? DifferentiationError, .lossNotScalar(.f32(.fixed(2), .fixed(1))))
        }
        let t = g.addInput("t", .f32(.fixed(2)))
        g.addOutput("loss", try g.apply1(.meanSquaredError, [y, t], name: "loss"))
        XCTAssertThrowsError(try Differentiate().run(g)) { error in
            XCTAssertEqual(error as? DifferentiationError, .secondOrder(node: "y", op: "tanh_grad"))
            XCTAssertTrue("\(error)".contains("second-order gradient not supported for tanh_grad"), "\(error)")
        }
    }

    /// A one-layer encoder with pooler and classifier, symbolic batch and seq: every rule
    /// the BERT graph needs must give gradients of the right types.
    func testEncoderBlockGradientsVerify() throws {
        let (h, heads, d, vocab) = (8, 2, 4, 11)
        var g = Graph(name: "block")
        let ids = g.addInput("input_ids", .i32(.batch, .seq))
        let mask = g.addInput("attention_mask", .i32(.batch, .seq))
        let labels = g.addInput("labels", .i32(.batch))
        func param(_ name: String, _ dims: Int...) -> ValueID { g.addParameter(name, TensorType(.float32, Shape(dims))) }
        let word = param("word", vocab, h), pos = param("pos", 16, h)
        let lnG = param("ln.weight", h), lnB = param("ln.bias", h)
        let wq = param("q.weight", h, h), wk = param("k.weight", h, h), wv = param("v.weight", h, h)
        let wp = param("pooler.weight", h, h), wc = param("classifier.weight", 3, h), bc = param("classifier.bias", 3)
        let e0 = try g.apply1(.gather, [word, ids], name: "we")
        let p = try g.apply1(.positions, [ids], name: "pid")
        let pe = try g.apply1(.gather, [pos, p], name: "pe")
        let e1 = try g.apply1(.add, [e0, pe], name: "emb")
        let x = try g.apply1(.layerNorm(epsilon: 1e-12), [e1, lnG, lnB], name: "ln")
        func heads4(_ w: ValueID, _ n: String) throws -> ValueID {
            let y = try g.apply1(ft, [x, w], name: n)
            let r = try g.apply1(.reshape(Shape([.batch, .seq, .fixed(heads), .fixed(d)])), [y], name: n + ".r")
            return try g.apply1(.transpose([0, 2, 1, 3]), [r], name: n + ".t")
        }
        let q = try heads4(wq, "q"), k = try heads4(wk, "k"), v = try heads4(wv, "v")
        let s = try g.apply1(.batchMatmul(transposeA: false, transposeB: true), [q, k], name: "scores")
        let ss = try g.apply1(.scale(0.5), [s], name: "scaled")
        let pr = try g.apply1(.maskedSoftmax, [ss, mask], name: "probs")
        let dp = try g.apply1(.dropout(rate: 0.1, stream: 7), [pr], name: "probs.drop")
        let c = try g.apply1(.batchMatmul(transposeA: false, transposeB: false), [dp, v], name: "ctx")
        let ct = try g.apply1(.transpose([0, 2, 1, 3]), [c], name: "ctx.t")
        let cr = try g.apply1(.reshape(Shape([.batch, .seq, .fixed(h)])), [ct], name: "ctx.r")
        let m = try g.apply1(.mul, [cr, x], name: "gate")
        let cls = try g.apply1(.select(axis: 1, index: 0), [m], name: "cls")
        let pooled = try g.apply1(.tanh, [g.apply1(ft, [cls, wp], name: "pool")], name: "pooled")
        let logits = try g.apply1(.add, [g.apply1(ft, [pooled, wc], name: "cl"), bc], name: "logits")
        g.addOutput("logits", logits)
        g.addOutput("loss", try g.apply1(.softmaxCrossEntropy, [logits, labels], name: "loss"))

        let after = try Differentiate().run(g)
        try GraphVerifier.verify(after, after: "Differentiate")
        for p in g.parameters {
            let out = try XCTUnwrap(after.output(named: "grad:\(g.values[p].name)"))
            XCTAssertEqual(after.type(of: out), g.type(of: p))
            XCTAssertNotEqual(after.values[out].name, "grad/\(g.values[p].name)/zero")
        }
        let ops = Set(after.nodes.dropFirst(g.nodes.count).map(\.op.name))
        XCTAssertEqual(ops, ["fill", "softmax_cross_entropy_grad", "sum_leading", "matmul", "tanh_grad", "select_grad",
                             "mul", "add", "reshape", "transpose", "batch_matmul", "dropout_grad", "softmax_grad",
                             "scale", "layer_norm_grad", "gather_grad"])
        // x feeds q, k, v and the gate: its gradient is a chain of three sums.
        XCTAssertNotNil(after.value(named: "grad/ln/sum3"))
        XCTAssertNil(after.value(named: "grad/ln/sum4"))
    }
}
