import BertGraph
import BertPasses
import BertRuntime
import XCTest
@testable import BertModel

/// The compiled graphs (ModelCompiler's pipeline: FuseOps, and Rematerialize for training)
/// against the plain ones (shape inference, differentiation, dead-code elimination only) on a
/// small random BERT: forward outputs, the loss and every parameter gradient, with dropout on
/// and the same seed. Fusion only reassociates float sums, so the tolerance is relative:
/// max |fused - unfused| <= 1e-4 * max(|unfused|, 1e-3) per tensor.
final class FuseOpsTests: XCTestCase {
    private func config(_ gelu: GeluApproximation) -> BertConfig {
        var c = BertConfig(vocabSize: 50, hiddenSize: 16, numHiddenLayers: 2, numAttentionHeads: 2,
                           intermediateSize: 32, maxPositionEmbeddings: 16)
        c.geluApproximation = gelu
        return c
    }

    private let head = TaskHead.classification(labels: 3)
    private let (batch, seq) = (3, 7)

    func testInferenceFusesEveryForwardChainAndMatchesUnfused() throws {
        for gelu in [GeluApproximation.erf, .tanh] {
            let fused = try ModelCompiler.graph(config(gelu), head: head, mode: .infer)
            let counts = fusedCounts(fused)
            // Per layer: q, k, v, attention output, FFN output (identity); FFN up (gelu).
            XCTAssertEqual(counts["linear"], 2 * 6 + 2, "pooler and classifier are linear too")
            XCTAssertEqual(counts["add_layer_norm"], 2 * 2 + 1, "two per layer and the embeddings")
            XCTAssertEqual(counts["attention"], 2, "the scaled softmax and the rest of attention, per layer")
            XCTAssertNil(counts["scaled_masked_softmax"])
            XCTAssertTrue(fused.nodes.contains { $0.op == .linear(activation: .gelu(gelu)) })
            XCTAssertFalse(fused.nodes.contains { $0.op == .gelu(gelu) || $0.op == .maskedSoftmax })
            try compare(mode: .infer, gelu: gelu)
        }
    }

    func testTrainingGradientsMatchUnfused() throws {
        for gelu in [GeluApproximation.erf, .tanh] {
            let fused = try ModelCompiler.graph(config(gelu), head: head, mode: .train)
            let counts = fusedCounts(fused)
            XCTAssertEqual(counts["scaled_masked_softmax"], 2)
            XCTAssertEqual(counts["scaled_softmax_grad"], 2)
            XCTAssertEqual(counts["gelu_grad_sum"], 2)
            XCTAssertEqual(counts["linear"], 2 * 6 + 2)
            // The GELU's input is read by its gradient, so it stays a separate op here; its
            // output and the attention dropout's are recomputed for the backward (Rematerialize),
            // as is the classifier's dropout (its input, tanh's output, feeds tanh's gradient).
            XCTAssertEqual(fused.nodes.filter { $0.op == .gelu(gelu) }.count, 2 * 2)
            XCTAssertEqual(fused.nodes.filter { fused.values[$0.outputs[0]].name.hasSuffix(".recomputed") }.count, 2 * 2 + 1)
            try compare(mode: .train, gelu: gelu)
        }
    }

    func testFusedOpsAreReportedAndUnfusedGraphHasNone() throws {
        let (_, _, report) = try ModelCompiler.compile(config(.erf), head: head, mode: .train, batch: 2, seq: 4)
        XCTAssertEqual(report.fusedOps["gelu_grad_sum"], 2)
        let unfused = try ModelCompiler.graph(config(.erf), head: head, options: .training, pipeline: Pipeline(
            "unfused training", [InferShapes(), Differentiate(), Rematerialize(), EliminateDeadCode()]))
        XCTAssertTrue(fusedCounts(unfused).isEmpty)
        let fused = try ModelCompiler.graph(config(.erf), head: head, mode: .train)
        XCTAssertEqual(try GraphStatistics(fused).flops(bindings: ["batch": 2, "seq": 4]),
                       try GraphStatistics(unfused).flops(bindings: ["batch": 2, "seq": 4]), "fusion keeps the FLOP count")
    }

    // MARK: - Helpers

    private func fusedCounts(_ g: Graph) -> [String: Int] {
        g.nodes.reduce(into: [:]) { if $1.op.isFused { $0[$1.op.name, default: 0] += 1 } }
    }

    /// Runs the fused and unfused graphs of `mode` on one batch and compares every output and
    /// gradient.
    private func compare(mode: CompileMode, gelu: GeluApproximation) throws {
        let c = config(gelu)
        let fused = try ModelCompiler.graph(c, head: head, mode: mode)
        let pipeline = mode == .train ? Pipeline("unfused training", [InferShapes(), Differentiate(), EliminateDeadCode()])
                                      : .export
        let unfused = try ModelCompiler.graph(c, head: head, options: mode.graphOptions, pipeline: pipeline)
        let parameters = try ParameterStore.matching(unfused)
        try parameters.fillRandom(seed: 12345)
        let n = batch * seq
        var mask = [Int32](repeating: 1, count: n)
        mask[n - 1] = 0; mask[n - 2] = 0  // padding in the last example
        let inputs: [String: HostTensor] = [
            "input_ids": HostTensor(shape: [batch, seq], int32s: (0..<n).map { Int32($0 * 7 % 50) }),
            "token_type_ids": HostTensor(shape: [batch, seq], int32s: (0..<n).map { Int32($0 % seq > 3 ? 1 : 0) }),
            "attention_mask": HostTensor(shape: [batch, seq], int32s: mask),
            "labels": HostTensor(shape: [batch], int32s: [0, 2, 1]),
        ]
        func run(_ g: Graph) throws -> [String: HostTensor] {
            let plan = try ModelCompiler.plan(g, ["batch": batch, "seq": seq])
            return try Interpreter(graph: g, plan: plan, threads: 2, minimumParallelWork: 1)
                .run(inputs: inputs, parameters: parameters, seed: 7, step: 3)
        }
        let a = try run(fused), b = try run(unfused)
        XCTAssertEqual(Set(a.keys), Set(b.keys))
        for (name, expected) in b {
            let x = a[name]!.floats!, y = expected.floats!
            let scale = max(y.map(abs).max() ?? 0, 1e-3)
            let diff = zip(x, y).map { abs($0 - $1) }.max() ?? 0
            XCTAssertLessThanOrEqual(diff, 1e-4 * scale, "\(mode) \(gelu) \(name): max diff \(diff), scale \(scale)")
        }
    }
}
