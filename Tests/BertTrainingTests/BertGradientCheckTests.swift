import XCTest
import BertGraph
import BertModel
import BertPasses
import BertRuntime

/// Finite-difference spot checks of the whole BERT training graph as BertBuilder builds it
/// (dropout on, symbolic batch and seq), differentiated by `Differentiate`. Same step and
/// tolerance as GradientCheckTests; 4 evenly spaced elements of every parameter.
final class BertGradientCheckTests: XCTestCase {
    private func bertCase(_ head: TaskHead, gelu: GeluApproximation) throws -> GradientCheckCase {
        let config = BertConfig(vocabSize: 12, hiddenSize: 8, numHiddenLayers: 2, numAttentionHeads: 2,
                                intermediateSize: 12, maxPositionEmbeddings: 8, layerNormEps: 1e-5, geluApproximation: gelu)
        var c = GradientCheckCase()
        c.g = try BertBuilder.build(config, head: head, options: .training)
        c.randomizeParameters()
        c.inputs["input_ids"] = HostTensor(shape: [2, 4], int32s: [2, 7, 11, 3, 2, 5, 5, 0])
        c.inputs["token_type_ids"] = HostTensor(shape: [2, 4], int32s: [0, 0, 1, 1, 0, 1, 1, 0])
        c.inputs["attention_mask"] = HostTensor(shape: [2, 4], int32s: [1, 1, 1, 1, 1, 1, 1, 0])
        switch head {
        case .classification: c.inputs["labels"] = HostTensor(shape: [2], int32s: [2, 0])
        case .regression: c.inputs["labels"] = HostTensor(shape: [2], floats: [0.7, -1.2])
        case .span:
            c.inputs["start_positions"] = HostTensor(shape: [2], int32s: [1, 2])
            c.inputs["end_positions"] = HostTensor(shape: [2], int32s: [3, 0])
        }
        return c
    }

    func testBertClassificationGraph() throws {
        try checkGradients(bertCase(.classification(labels: 3), gelu: .erf), bindings: ["batch": 2, "seq": 4], samples: 4)
    }

    func testBertRegressionGraph() throws {
        try checkGradients(bertCase(.regression, gelu: .tanh), bindings: ["batch": 2, "seq": 4], samples: 4)
    }

    /// The span head reads every token of the last layer and has no pooler.
    func testBertSpanGraph() throws {
        let c = try bertCase(.span, gelu: .erf)
        XCTAssertNil(c.g.parameters.first { c.g.values[$0].name.hasPrefix("bert.pooler.") })
        try checkGradients(c, bindings: ["batch": 2, "seq": 4], samples: 4)
    }
}
