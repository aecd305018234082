import BertGraph
import BertPasses
import BertRuntime
import XCTest
@testable import BertModel

/// The fused `attention` op (FuseOps, inference and evaluation graphs) against the unfused
/// chain it replaces: heads split by reshape and transpose, the scores' batched product,
/// the scaled masked softmax, the context's product and the merge back. Run on random q, k
/// and v, at BERT-sized heads (12 x 32 at sequence 128: whole GEMM tiles and every part of
/// the kernel's split) and at odd sizes (3 heads of 5, 7 keys: edge tiles), with padded keys,
/// for a query per position and for one query per example (the [CLS]-only last layer).
/// The two differ only in the order of float sums: max |fused - unfused| <= 1e-5 *
/// max(|unfused|, 1e-3).
final class AttentionFusionTests: XCTestCase {
    /// (batch, queries (nil: one per example, q [b, h]), keys, heads, head width)
    private let cases: [(batch: Int, queries: Int?, keys: Int, heads: Int, d: Int)] = [
        (1, 128, 128, 12, 32), (2, nil, 128, 12, 32), (3, 7, 7, 3, 5), (2, nil, 7, 3, 5), (2, 128, 128, 12, 32),
    ]

    func testFusedAttentionMatchesTheUnfusedChain() throws {
        for (batch, queries, keys, heads, d) in cases {
            let h = heads * d
            let unfused = try attentionGraph(batch: batch, queries: queries, keys: keys, heads: heads, d: d)
            let fused = try FuseOps().run(unfused)
            XCTAssertEqual(fused.nodes.map(\.op), [.attention(heads: heads, factor: 0.25)],
                           "the whole chain is one node (\(batch), \(String(describing: queries)), \(keys))")
            let fusedLive = try EliminateDeadCode().run(fused)
            var rng = SplitMix64(seed: UInt64(batch * 1000 + keys))
            func random(_ count: Int) -> [Float] { (0..<count).map { _ in Float(rng.nextUnitInterval() * 4 - 2) } }
            let qCount = batch * (queries ?? 1) * h
            var mask = [Int32](repeating: 1, count: batch * keys)
            for j in 0..<min(keys - 1, 5) { mask[batch * keys - 1 - j] = 0 }  // padding in the last example
            let qShape = queries.map { [batch, $0, h] } ?? [batch, h]
            let inputs: [String: HostTensor] = [
                "q": HostTensor(shape: qShape, floats: random(qCount)),
                "k": HostTensor(shape: [batch, keys, h], floats: random(batch * keys * h)),
                "v": HostTensor(shape: [batch, keys, h], floats: random(batch * keys * h)),
                "mask": HostTensor(shape: [batch, keys], int32s: mask),
            ]
            func run(_ g: Graph) throws -> [String: HostTensor] {
                let plan = try ModelCompiler.plan(g, [:])
                return try Interpreter(graph: g, plan: plan, threads: 2, minimumParallelWork: 1)
                    .run(inputs: inputs, parameters: ParameterStore(specs: []))
            }
            let expected = try run(unfused)
            let got = try run(fusedLive)
            assertTensorsClose(got, expected, relative: 1e-5, " (\(batch), \(String(describing: queries)), \(keys), \(heads)x\(d))")
            // One thread gives the same bits as two.
            let plan = try ModelCompiler.plan(fusedLive, [:])
            let serial = try Interpreter(graph: fusedLive, plan: plan, threads: 1).run(inputs: inputs, parameters: ParameterStore(specs: []))
            XCTAssertEqual(serial["context"]?.floats, got["context"]?.floats)
        }
    }

    func testBertInferenceAndEvaluationGraphsFuseEveryLayerButTrainingDoesNot() throws {
        let config = BertConfig(vocabSize: 50, hiddenSize: 16, numHiddenLayers: 3, numAttentionHeads: 4,
                                intermediateSize: 32, maxPositionEmbeddings: 16)
        for mode in [CompileMode.infer, .eval] {
            let g = try ModelCompiler.graph(config, head: .classification(labels: 2), mode: mode)
            XCTAssertEqual(g.nodes.filter { $0.op == .attention(heads: 4, factor: 0.5) }.count, 3, "\(mode)")
            XCTAssertFalse(g.nodes.contains { $0.op.name == "batch_matmul" || $0.op.name == "transpose" }, "\(mode)")
        }
        // Training reads the probabilities again (dropout, the softmax gradient).
        let train = try ModelCompiler.graph(config, head: .classification(labels: 2), mode: .train)
        XCTAssertFalse(train.nodes.contains { $0.op.name == "attention" })
    }

    func testShapeRuleNamesTheProblem() throws {
        let rule = { (q: Shape, k: Shape, mask: Shape, heads: Int) throws -> [TensorType] in
            try Op.attention(heads: heads, factor: 1).outputTypes(
                [TensorType(.float32, q), TensorType(.float32, k), TensorType(.float32, k), TensorType(.int32, mask)], node: "att")
        }
        let b = Dim.batch, s = Dim.seq
        XCTAssertEqual(try rule([b, s, .fixed(8)], [b, s, .fixed(8)], [b, s], 2), [TensorType(.float32, [b, s, .fixed(8)])])
        XCTAssertEqual(try rule([b, .fixed(8)], [b, s, .fixed(8)], [b, s], 4), [TensorType(.float32, [b, .fixed(8)])])
        for (q, k, mask, heads, needle) in [
            (Shape([b, s, .fixed(8)]), Shape([b, s, .fixed(8)]), Shape([b, s]), 3, "multiple of 3 heads"),
            ([b, s, .fixed(6)], [b, s, .fixed(8)], [b, s], 2, "q must be"),
            ([b, s, .fixed(8)], [b, s, .fixed(8)], [b, .fixed(4)], 2, "mask must be"),
            ([b, s, .fixed(8)], [b, s, .fixed(8)], [b, s], 0, "heads"),
        ] as [(Shape, Shape, Shape, Int, String)] {
            XCTAssertThrowsError(try rule(q, k, mask, heads)) { error in
                XCTAssertTrue("\(error)".contains("att") && "\(error)".contains(needle), "\(error)")
            }
        }
    }

    // MARK: - Helpers

    /// The unfused chain BertBuilder emits for one self-attention, from inputs q, k, v
    /// ([b, sq, h], or [b, h] for one query) and mask to the output "context".
    private func attentionGraph(batch: Int, queries: Int?, keys: Int, heads: Int, d: Int) throws -> Graph {
        var g = Graph(name: "attention")
        let (b, sk, h) = (Dim.fixed(batch), Dim.fixed(keys), Dim.fixed(heads * d))
        let q = g.addInput("q", TensorType(.float32, Shape(queries.map { [b, .fixed($0), h] } ?? [b, h])))
        let k = g.addInput("k", .f32(b, sk, h))
        let v = g.addInput("v", .f32(b, sk, h))
        let mask = g.addInput("mask", TensorType(.int32, [b, sk]))
        func split(_ x: ValueID, _ s: Dim, _ name: String) throws -> ValueID {
            let r = try g.apply1(.reshape(Shape([b, s, .fixed(heads), .fixed(d)])), [x], name: name + ".heads")
            return try g.apply1(.transpose([0, 2, 1, 3]), [r], name: name + ".bhsd")
        }
        let qh = try queries.map { try split(q, .fixed($0), "q") }
            ?? g.apply1(.reshape(Shape([b, .fixed(heads), .fixed(1), .fixed(d)])), [q], name: "q.bhsd")
        let scores = try g.apply1(.batchMatmul(transposeA: false, transposeB: true), [qh, try split(k, sk, "k")], name: "scores")
        let probs = try g.apply1(.scaledMaskedSoftmax(factor: 0.25), [scores, mask], name: "probs")
        let context = try g.apply1(.batchMatmul(transposeA: false, transposeB: false), [probs, try split(v, sk, "v")],
                                   name: "context.bhsd")
        let merged: ValueID
        if let sq = queries {
            let t = try g.apply1(.transpose([0, 2, 1, 3]), [context], name: "context.bshd")
            merged = try g.apply1(.reshape(Shape([b, .fixed(sq), h])), [t], name: "context")
        } else {
            merged = try g.apply1(.reshape(Shape([b, h])), [context], name: "context")
        }
        g.addOutput("context", merged)
        return g
    }
}
