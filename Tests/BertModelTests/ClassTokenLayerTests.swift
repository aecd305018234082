import BertGraph
import BertPasses
import BertRuntime
import XCTest
@testable import BertModel

/// The head reads only the [CLS] row, so graphs without `sequence_output` compute only that
/// row in the last layer. Against the graph that computes every row (`encoderOutputs`), on a
/// small random BERT with padding: logits, loss and every parameter gradient agree. The row's
/// arithmetic is the same; only the products' row counts differ, which may reassociate a sum,
/// so the tolerance is relative: max |pruned - full| <= 1e-5 * max(|full|, 1e-3) per tensor.
/// Dropout is off: the pruned layer draws its masks for fewer elements.
final class ClassTokenLayerTests: XCTestCase {
    private let config = BertConfig(vocabSize: 50, hiddenSize: 16, numHiddenLayers: 2, numAttentionHeads: 2,
                                    intermediateSize: 32, maxPositionEmbeddings: 16)
    private let head = TaskHead.classification(labels: 3)
    private let (batch, seq) = (3, 7)

    func testLastLayerComputesOnlyTheClassRowUnlessTheSequenceIsAnOutput() throws {
        let pruned = try BertBuilder.build(config, head: head, options: .inference)
        let full = try BertBuilder.build(config, head: head, options: GraphOptions(dropout: false, loss: false, encoderOutputs: true))
        let last = "bert.encoder.layer.1.output.dense.out", first = "bert.encoder.layer.0.output.dense.out"
        XCTAssertEqual(pruned.type(of: pruned.value(named: last)!), .f32(.batch, .fixed(16)))
        XCTAssertEqual(pruned.type(of: pruned.value(named: first)!), .f32(.batch, .seq, .fixed(16)))
        XCTAssertEqual(full.type(of: full.value(named: last)!), .f32(.batch, .seq, .fixed(16)))
        // Keys and values still read every token of the last layer's input.
        XCTAssertEqual(pruned.type(of: pruned.value(named: "bert.encoder.layer.1.attention.self.key.out")!),
                       .f32(.batch, .seq, .fixed(16)))
        XCTAssertEqual(pruned.parameters.map { pruned.values[$0].name }, full.parameters.map { full.values[$0].name },
                       "same parameters in the same order")
        let bindings = ["batch": 32, "seq": 128]
        let saved = 1 - Double(try GraphStatistics(InferShapes().run(pruned)).flops(bindings: bindings))
            / Double(try GraphStatistics(InferShapes().run(full)).flops(bindings: bindings))
        XCTAssertGreaterThan(saved, 0.3, "of two layers, the last one's query, output, FFN and most attention go")
    }

    func testInferenceMatchesEveryRowGraph() throws {
        try compare(pruned: .inference, full: GraphOptions(dropout: false, loss: false, encoderOutputs: true), train: false)
    }

    func testLossAndGradientsMatchEveryRowGraph() throws {
        try compare(pruned: GraphOptions(dropout: false, loss: true),
                    full: GraphOptions(dropout: false, loss: true, encoderOutputs: true), train: true)
    }

    // MARK: - Helpers

    private func compare(pruned: GraphOptions, full: GraphOptions, train: Bool) throws {
        let pipeline = train ? Pipeline("unfused training", [InferShapes(), Differentiate(), EliminateDeadCode()]) : .export
        let a = try ModelCompiler.graph(config, head: head, options: pruned, pipeline: pipeline)
        let b = try ModelCompiler.graph(config, head: head, options: full, pipeline: pipeline)
        let parameters = try ParameterStore.matching(b)
        try parameters.fillRandom(seed: 2024)
        let n = batch * seq
        var mask = [Int32](repeating: 1, count: n)
        mask[n - 1] = 0; mask[n - 2] = 0; mask[n - 3] = 0  // padding in the last example
        var inputs: [String: HostTensor] = [
            "input_ids": HostTensor(shape: [batch, seq], int32s: (0..<n).map { Int32($0 * 11 % 50) }),
            "token_type_ids": HostTensor(shape: [batch, seq], int32s: (0..<n).map { Int32($0 % seq > 3 ? 1 : 0) }),
            "attention_mask": HostTensor(shape: [batch, seq], int32s: mask),
        ]
        if train { inputs["labels"] = HostTensor(shape: [batch], int32s: [2, 0, 1]) }
        func run(_ g: Graph) throws -> [String: HostTensor] {
            let plan = try ModelCompiler.plan(g, ["batch": batch, "seq": seq])
            return try Interpreter(graph: g, plan: plan, threads: 2, minimumParallelWork: 1)
                .run(inputs: inputs, parameters: parameters)
        }
        let x = try run(a), y = try run(b)
        XCTAssertEqual(Set(x.keys), Set(y.keys).subtracting(["pooled_output", "sequence_output"]))
        XCTAssertGreaterThan(x.count, train ? 30 : 0, "logits, loss and the gradients are compared")
        assertTensorsClose(x, y, relative: 1e-5, "")
    }
}
