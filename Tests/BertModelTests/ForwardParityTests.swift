import BertGraph
import BertPasses
import BertRuntime
import BertTestSupport
import Foundation
import XCTest
@testable import BertModel

/// The forward pass against PyTorch + transformers (golden/forward/*, written by
/// tools/golden_forward.py): logits, pooled output and sequence output on MRPC dev pairs, padded
/// to 128 and at their natural lengths. Tolerance: max abs 1e-4 on logits and pooled output,
/// 2e-4 on the sequence output.
final class ForwardParityTests: XCTestCase {
    func testPretrainedMiniLMMatchesPyTorch() throws {
        let model = try TestPaths.pretrainedModel()
        let config = try BertConfig.load(model.appendingPathComponent("config.json"))
        let golden = try SafetensorsReader(url: TestPaths.golden("forward/minilm-l6.safetensors"))
        let weights = try SafetensorsReader(url: model.appendingPathComponent("model.safetensors"))
        try check(config: config, golden: golden) { name in
            if name.hasPrefix("classifier.") { return try golden.read(name) }
            return try weights.read(String(name.dropFirst("bert.".count)))
        }
    }

    func testRandomBertTinyMatchesPyTorch() throws {
        let config = try BertConfig.load(TestPaths.root.appendingPathComponent("graphs/bert-tiny.json"))
        let golden = try SafetensorsReader(url: TestPaths.golden("forward/bert-tiny-random.safetensors"))
        let weights = try SafetensorsReader(url: TestPaths.golden("forward/bert-tiny-random.weights.safetensors"))
        try check(config: config, golden: golden) { try weights.read($0) }
    }

    // MARK: - Helpers

    private func check(config: BertConfig, golden: SafetensorsReader, weight: (String) throws -> HostTensor) throws {
        // Through the compiler's pipeline, so the fused kernels are what is compared.
        let graph = try ModelCompiler.graph(config, head: .classification(labels: 2),
                                            options: GraphOptions(dropout: false, loss: false, encoderOutputs: true),
                                            pipeline: .inference)
        let parameters = try ParameterStore.matching(graph)
        for name in parameters.names { try parameters.set(name, weight(name)) }

        // Padded to 128.
        let ids = try golden.read("input_ids")
        let batch = ids.shape[0], seq = ids.shape[1]
        let padded = try run(graph, parameters, batch: batch, seq: seq, inputs: [
            "input_ids": ids, "token_type_ids": try golden.read("token_type_ids"),
            "attention_mask": try golden.read("attention_mask"),
        ])
        let logitsDiff = maxAbsDiff(padded["logits"]!, try golden.read("logits"))
        let pooledDiff = maxAbsDiff(padded["pooled_output"]!, try golden.read("pooled_output"))
        let goldenSequence = try golden.read("sequence_output")
        let sequence = padded["sequence_output"]!.floats!.prefix(goldenSequence.elementCount)
        let sequenceDiff = zip(sequence, goldenSequence.floats!).map { abs($0 - $1) }.max() ?? 0
        print("max abs diff, padded to \(seq): logits \(logitsDiff), pooled \(pooledDiff), sequence \(sequenceDiff)")
        XCTAssertLessThanOrEqual(logitsDiff, 1e-4)
        XCTAssertLessThanOrEqual(pooledDiff, 1e-4)
        XCTAssertLessThanOrEqual(sequenceDiff, 2e-4)

        // One pair at a time at its natural length.
        let naturalLogits = try golden.read("natural.logits").floats!
        let naturalPooled = try golden.read("natural.pooled_output").floats!
        let labels = 2, hidden = config.hiddenSize
        var worst: Float = 0
        for k in 0..<naturalLogits.count / labels {
            let ids = try golden.read("natural.\(k).input_ids")
            let length = ids.shape[1]
            let out = try run(graph, parameters, batch: 1, seq: length, inputs: [
                "input_ids": ids, "token_type_ids": try golden.read("natural.\(k).token_type_ids"),
                "attention_mask": HostTensor(shape: [1, length], int32s: Array(repeating: 1, count: length)),
            ])
            let l = HostTensor(shape: [labels], floats: Array(naturalLogits[k * labels..<(k + 1) * labels]))
            let p = HostTensor(shape: [hidden], floats: Array(naturalPooled[k * hidden..<(k + 1) * hidden]))
            worst = max(worst, maxAbsDiff(out["logits"]!, l), maxAbsDiff(out["pooled_output"]!, p))
        }
        print("max abs diff at natural lengths: \(worst)")
        XCTAssertLessThanOrEqual(worst, 1e-4)
    }

    private func run(_ graph: Graph, _ parameters: ParameterStore, batch: Int, seq: Int,
                     inputs: [String: HostTensor]) throws -> [String: HostTensor] {
        let plan = try ModelCompiler.plan(graph, ["batch": batch, "seq": seq])
        return try Interpreter(graph: graph, plan: plan).run(inputs: inputs, parameters: parameters)
    }

    private func maxAbsDiff(_ a: HostTensor, _ b: HostTensor) -> Float {
        zip(a.floats!, b.floats!).map { abs($0 - $1) }.max() ?? .infinity
    }
}
