// Writes the fixtures that tools/tests/test_onnx_parity.py and test_onnx_fusion.py run with
// ONNX Runtime: for each GELU form, a tiny BERT exported to `model.onnx`, its weights in HF
// layout (`weights.bin`, raw little-endian float32, and `weights.json` with each tensor's
// shape and element offset), and `config.json`. Two variants are the test's own TinyBert
// graph (`tiny-bert-*`); two are BertModel's BertBuilder graph (`bertc-*`) and also carry
// the bertc interpreter's outputs for one padded batch (`interpreter.json` + `.bin`), so the
// pytest compares ONNX Runtime with bertc itself as well as with numpy.
//
// Where: `$BERTC_ONNX_PARITY_DIR` when set, else `<package>/.build/onnx-parity`. CI runs
// `swift test` before pytest, so the pytest finds the fixtures there; run alone, the pytest
// runs this test itself with `BERTC_ONNX_PARITY_DIR` pointing at a temporary directory.

import BertGraph
import BertModel
import BertPasses
import BertRuntime
import BertTestSupport
import Foundation
import XCTest
@testable import BertONNX

final class ONNXParityFixtureTests: XCTestCase {
    /// Bumped when the fixture layout changes, so a pytest never reads a stale layout.
    static let fixtureVersion = 4

    static var fixtureDirectory: URL {
        if let dir = ProcessInfo.processInfo.environment["BERTC_ONNX_PARITY_DIR"], !dir.isEmpty {
            return URL(fileURLWithPath: dir)
        }
        return TestPaths.root.appendingPathComponent(".build/onnx-parity")
    }

    func testWriteParityFixtures() throws {
        let root = Self.fixtureDirectory
        var variants: [String] = []
        for gelu in ["erf", "tanh"] {
            var config = TinyBertConfig()
            config.gelu = gelu
            let graph = try TinyBert.graph(config)
            let weights = TinyBert.weights(for: graph, seed: gelu == "erf" ? 1 : 2)
            let dir = root.appendingPathComponent("tiny-bert-\(gelu)")
            try writeModel(to: dir, config: config, weights: weights) { model in
                try ONNXExporter().write(graph: graph, weights: weights, to: model)
            }
            variants.append(dir.lastPathComponent)
            if gelu == "erf" {
                // The same model with its weights in `model.onnx.data` (the >2 GiB code path).
                let external = root.appendingPathComponent("tiny-bert-erf-external-data")
                var options = ONNXExportOptions()
                options.externalDataThreshold = 1024
                try writeModel(to: external, config: config, weights: weights) { model in
                    let summary = try ONNXExporter(options: options).write(graph: graph, weights: weights, to: model)
                    XCTAssertNotNil(summary.externalDataPath)
                }
                variants.append(external.lastPathComponent)
            }
        }
        for gelu in [GeluApproximation.erf, .tanh] {
            let dir = root.appendingPathComponent("bertc-\(gelu.rawValue)")
            try writeBuilderFixture(gelu: gelu, to: dir)
            variants.append(dir.lastPathComponent)
        }
        let manifest: [String: Any] = ["version": Self.fixtureVersion, "variants": variants]
        try JSONSerialization.data(withJSONObject: manifest, options: [.sortedKeys])
            .write(to: root.appendingPathComponent("manifest.json"), options: .atomic)
    }

    /// EveryInferenceOpGraph exported to `every-op/model.onnx` with the interpreter's outputs.
    func testWriteEveryOpFixture() throws {
        let graph = try EveryInferenceOpGraph.build()
        let store = try ParameterStore.matching(graph)
        for (name, tensor) in TinyBert.weights(for: graph, seed: 5) { try store.set(name, tensor) }
        let dir = Self.fixtureDirectory.appendingPathComponent("every-op")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try ONNXExporter().write(graph: graph, parameters: store, to: dir.appendingPathComponent("model.onnx"))
        let (batch, seq) = (2, 5)
        let ids = (0..<(batch * seq)).map { Int32(($0 * 7 + 3) % 10) }
        let mask = (0..<(batch * seq)).map { i in Int32(i % seq < [5, 3][i / seq] ? 1 : 0) }
        try writeInterpreterRun(graph: graph, store: store, batch: batch, seq: seq,
                                inputs: ["input_ids": ids, "attention_mask": mask], to: dir)
    }

    /// The pretrained MiniLM-L6 (from `tools/setup.sh model`) with a seeded 2-label head:
    /// exported to `minilm-l6/model.onnx` with the interpreter's outputs for a padded batch.
    func testWritePretrainedFixture() throws {
        guard let modelDir = TestPaths.installedPretrainedModel else { throw XCTSkip("\(MissingPretrainedModel())") }
        let model = try ModelDirectory.open(modelDir.path)
        let graph = try BertBuilder.build(model.config, head: .classification(labels: 2),
                                          options: GraphOptions(dropout: false, loss: false, encoderOutputs: true))
        let store = try ParameterStore.matching(graph)
        _ = try model.loadParameters(into: store, seed: 11)
        let dir = Self.fixtureDirectory.appendingPathComponent("minilm-l6")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try ONNXExporter().write(graph: graph, parameters: store, to: dir.appendingPathComponent("model.onnx"))
        let config = ["heads": model.config.numAttentionHeads, "hidden": model.config.hiddenSize,
                      "layers": model.config.numHiddenLayers, "vocabSize": model.config.vocabSize]
        try JSONSerialization.data(withJSONObject: config, options: [.sortedKeys])
            .write(to: dir.appendingPathComponent("config.json"))

        let (batch, seq) = (2, 12)
        var rng = SplitMix64(seed: 9)
        let lengths = [12, 6]
        let ids = (0..<(batch * seq)).map { i in i % seq == 0 ? 101 : Int32(1000 + rng.next() % 20000) }
        let types = (0..<(batch * seq)).map { i in Int32(i % seq >= 4 ? 1 : 0) }
        let mask = (0..<(batch * seq)).map { i in Int32(i % seq < lengths[i / seq] ? 1 : 0) }
        try writeInterpreterRun(graph: graph, store: store, batch: batch, seq: seq,
                                inputs: ["input_ids": ids, "token_type_ids": types, "attention_mask": mask], to: dir)
    }

    /// BertBuilder's inference graph with encoder outputs, random weights in a ParameterStore,
    /// the export, and the interpreter's outputs for a batch of 3 rows of 7 tokens (padded).
    private func writeBuilderFixture(gelu: GeluApproximation, to dir: URL) throws {
        var tiny = TinyBertConfig()
        tiny.gelu = gelu.rawValue
        let config = BertConfig(vocabSize: tiny.vocabSize, hiddenSize: tiny.hidden, numHiddenLayers: tiny.layers,
                                numAttentionHeads: tiny.heads, intermediateSize: tiny.intermediate,
                                maxPositionEmbeddings: tiny.maxPositions, typeVocabSize: tiny.typeVocabSize,
                                layerNormEps: tiny.epsilon, geluApproximation: gelu)
        let graph = try BertBuilder.build(config, head: .classification(labels: tiny.labels),
                                          options: GraphOptions(dropout: false, loss: false, encoderOutputs: true))
        let weights = TinyBert.weights(for: graph, seed: gelu == .erf ? 3 : 4)
        let store = try ParameterStore.matching(graph)
        for (name, tensor) in weights { try store.set(name, tensor) }

        try writeModel(to: dir, config: tiny, weights: weights) { model in
            try ONNXExporter().write(graph: graph, parameters: store, to: model)
        }

        let (batch, seq) = (3, 7)
        var rng = SplitMix64(seed: 7)
        let lengths = [7, 5, 2]
        let ids = (0..<(batch * seq)).map { _ in Int32(rng.next() % UInt64(tiny.vocabSize)) }
        let types = (0..<(batch * seq)).map { i in Int32(i % seq >= 3 ? 1 : 0) }
        let mask = (0..<(batch * seq)).map { i in Int32(i % seq < lengths[i / seq] ? 1 : 0) }
        try writeInterpreterRun(graph: graph, store: store, batch: batch, seq: seq,
                                inputs: ["input_ids": ids, "token_type_ids": types, "attention_mask": mask], to: dir)
    }

    /// Runs the bertc interpreter on `inputs` (int32 `[batch, seq]`) and writes them with the
    /// outputs: `interpreter.json` (inputs as integers, outputs' shapes and element offsets)
    /// and `interpreter.bin` (outputs, raw little-endian float32).
    private func writeInterpreterRun(graph: Graph, store: ParameterStore, batch: Int, seq: Int,
                                     inputs rawInputs: [String: [Int32]], to dir: URL) throws {
        let inputs = rawInputs.mapValues { HostTensor(shape: [batch, seq], int32s: $0) }
        let plan = try PlanMemory().run(graph, bindings: ["batch": batch, "seq": seq])
        let outputs = try Interpreter(graph: graph, plan: plan, threads: 1).run(inputs: inputs, parameters: store)

        let (blob, outputIndex) = try floatBlob(outputs)
        let inputIndex = inputs.mapValues { t -> [String: Any] in ["shape": t.shape, "values": t.int32s!.map(Int.init)] }
        try blob.write(to: dir.appendingPathComponent("interpreter.bin"))
        try JSONSerialization.data(withJSONObject: ["inputs": inputIndex, "outputs": outputIndex], options: [.sortedKeys])
            .write(to: dir.appendingPathComponent("interpreter.json"))
    }

    /// A variant's `model.onnx` (written by `export`), its weights (`weights.bin` and
    /// `weights.json`) and `config.json`, in `dir`.
    private func writeModel<Config: Encodable>(to dir: URL, config: Config, weights: [String: HostTensor],
                                               export: (URL) throws -> Void) throws {
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try export(dir.appendingPathComponent("model.onnx"))
        let (blob, index) = try floatBlob(weights)
        try blob.write(to: dir.appendingPathComponent("weights.bin"))
        try JSONSerialization.data(withJSONObject: index, options: [.sortedKeys])
            .write(to: dir.appendingPathComponent("weights.json"))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(config).write(to: dir.appendingPathComponent("config.json"))
    }

    /// The float32 tensors in name order as one little-endian blob, and each one's shape and
    /// element offset in it.
    private func floatBlob(_ tensors: [String: HostTensor]) throws -> (Data, [String: Any]) {
        var blob = Data()
        var index: [String: Any] = [:]
        var offset = 0
        for name in tensors.keys.sorted() {
            let floats = try XCTUnwrap(tensors[name]?.floats)
            index[name] = ["shape": tensors[name]!.shape, "offset": offset]
            blob.append(ONNXGraphBuilder.littleEndianBytes(floats))
            offset += floats.count
        }
        return (blob, index)
    }
}
