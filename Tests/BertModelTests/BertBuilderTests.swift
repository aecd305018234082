import XCTest
import BertGraph
import BertTestSupport
@testable import BertModel

final class BertBuilderTests: XCTestCase {
    func testTinyGraphVerifiesAndHasHuggingFaceParameters() throws {
        let config = BertConfig(vocabSize: 100, hiddenSize: 16, numHiddenLayers: 2, numAttentionHeads: 2,
                                intermediateSize: 32, maxPositionEmbeddings: 20)
        let g = try BertBuilder.build(config, head: .classification(labels: 3), options: .training)
        try GraphVerifier.verify(g)
        let names = g.parameters.map { g.values[$0].name }
        // 5 embedding tensors, 16 per layer, 2 pooler, 2 classifier.
        XCTAssertEqual(names.count, 5 + 16 * 2 + 2 + 2)
        XCTAssertTrue(names.contains("bert.encoder.layer.1.attention.self.query.weight"))
        XCTAssertEqual(g.type(of: g.value(named: "classifier.weight")!), .f32(.fixed(3), .fixed(16)))
        XCTAssertEqual(g.type(of: g.output(named: "logits")!), .f32(.batch, .fixed(3)))
        XCTAssertEqual(g.type(of: g.output(named: "loss")!).shape.rank, 0)
        // Two dropouts per layer after projections, one on attention probabilities, one on
        // embeddings, one before the classifier.
        let dropouts = g.nodes.filter { if case .dropout = $0.op { return true } else { return false } }
        XCTAssertEqual(dropouts.count, 3 * 2 + 2)
        let inference = try BertBuilder.build(config, head: .classification(labels: 3), options: .inference)
        XCTAssertFalse(inference.nodes.contains { if case .dropout = $0.op { return true } else { return false } })
        XCTAssertNil(inference.output(named: "loss"))
    }

    func testConfigFamilyDecidesGelu() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("bertc-config-\(UUID())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let json = #"{"vocab_size": 10, "hidden_size": 8, "num_hidden_layers": 1, "num_attention_heads": 2, "intermediate_size": 16, "hidden_act": "gelu"}"#
        let tf = dir.appendingPathComponent("bert_config.json")
        let hf = dir.appendingPathComponent("config.json")
        try json.write(to: tf, atomically: true, encoding: .utf8)
        try json.write(to: hf, atomically: true, encoding: .utf8)
        XCTAssertEqual(try BertConfig.load(tf).geluApproximation, .tanh)
        XCTAssertEqual(try BertConfig.load(hf).geluApproximation, .erf)
        try #"{"vocab_size": 10, "hidden_size": 9, "num_hidden_layers": 1, "num_attention_heads": 2, "intermediate_size": 16}"#
            .write(to: hf, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try BertConfig.load(hf)) { e in
            XCTAssertTrue("\(e)".contains("config.json") && "\(e)".contains("num_attention_heads"), "\(e)")
        }
    }

    func testSharedFixtureConfigIsTensorflowFamily() throws {
        let url = TestPaths.fixture("tf-bundle-index/bert_config.json")
        let config = try BertConfig.load(url)
        XCTAssertEqual(config.hiddenSize, 256)
        XCTAssertEqual(config.numHiddenLayers, 4)
        XCTAssertEqual(config.geluApproximation, .tanh)
    }
}
