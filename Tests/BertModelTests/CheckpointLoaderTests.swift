// CheckpointLoader and the family tables: strict loading of the TensorFlow golden checkpoint
// and of the pretrained MiniLM-L6 into graph parameter names, and every refusal.

import BertGraph
@testable import BertModel
import BertRuntime
import Foundation
import XCTest

final class CheckpointLoaderTests: XCTestCase {
    /// The tiny config of tools/golden_tf_checkpoint.py.
    static let tiny = BertSizes(layers: 2, hidden: 16, intermediate: 32, vocab: 64, maxPositions: 32, typeVocab: 2, labels: 3)

    // MARK: - TensorFlow family

    func testTFCheckpointLoadsWithKernelsTransposedAndExtrasIgnored() throws {
        let (tensors, report) = try CheckpointLoader.load(from: CheckpointTFTests.tinyPrefix,
                                                          parameters: Self.tiny.parameters, seed: 1)
        XCTAssertEqual(report.family, .tensorFlow)
        XCTAssertEqual(report.loaded.count, 41)
        XCTAssertEqual(report.loaded, Self.tiny.parameters.map(\.name))
        XCTAssertEqual(report.initialized, [])
        XCTAssertEqual(report.ignored, [
            "bert/pooler/dense/kernel/adam_m", "bert/pooler/dense/kernel/adam_v",
            "cls/predictions/output_bias", "cls/predictions/transform/dense/kernel",
            "cls/seq_relationship/output_weights", "global_step", "output_bias/adam_m", "output_bias/adam_v",
        ])
        for (name, shape) in Self.tiny.parameters {
            XCTAssertEqual(tensors[name]?.shape, shape, name)
        }

        let tf = try TFCheckpointReader(prefix: CheckpointTFTests.tinyPrefix)
        let kernel = try XCTUnwrap(try tf.read("bert/encoder/layer_1/intermediate/dense/kernel").floats)  // [16, 32]
        let weight = try XCTUnwrap(tensors["bert.encoder.layer.1.intermediate.dense.weight"]?.floats)  // [32, 16]
        for i in 0..<16 {
            for o in 0..<32 { XCTAssertEqual(weight[o * 16 + i], kernel[i * 32 + o]) }
        }
        XCTAssertEqual(tensors["bert.embeddings.LayerNorm.weight"], try tf.read("bert/embeddings/LayerNorm/gamma"))
        XCTAssertEqual(tensors["bert.embeddings.word_embeddings.weight"], try tf.read("bert/embeddings/word_embeddings"))
        XCTAssertEqual(tensors["classifier.weight"], try tf.read("output_weights"))
        XCTAssertTrue(report.description.contains("loaded 41 parameters"), report.description)
    }

    func testWrongShapeNamesTensorAndBothShapes() throws {
        var sizes = Self.tiny
        sizes.labels = 2
        assertThrows(try CheckpointLoader.load(from: CheckpointTFTests.tinyPrefix, parameters: sizes.parameters, seed: 1)) { error in
            guard case .wrongShape(_, "output_weights", "classifier.weight", [2, 16], [3, 16]) = error else { return XCTFail("\(error)") }
        }
        sizes = Self.tiny
        sizes.intermediate = 64
        assertThrows(try CheckpointLoader.load(from: CheckpointTFTests.tinyPrefix, parameters: sizes.parameters, seed: 1)) { error in
            // The kernel is stored [in, out], so the expected stored shape is [16, 64].
            guard case .wrongShape(_, "bert/encoder/layer_0/intermediate/dense/kernel", _, [16, 64], [16, 32]) = error else {
                return XCTFail("\(error)")
            }
            XCTAssertTrue(error.description.contains("[16, 64]") && error.description.contains("[16, 32]"))
        }
    }

    func testMissingEncoderParametersAreAnError() throws {
        assertLayerNamed(graphLayers: 3, prefix: "bert.encoder.layer.2.") { error in
            guard case .missingParameters(_, let names) = error else { return nil }
            return names
        }
    }

    func testCheckpointTensorsWithoutParameterAreUnexpected() throws {
        assertLayerNamed(graphLayers: 1, prefix: "bert/encoder/layer_1/") { error in
            guard case .unexpectedTensors(_, let names) = error else { return nil }
            return names
        }
    }

    /// Loading the two-layer checkpoint into a graph of `graphLayers` layers fails, and the
    /// error (`names` of it; nil for another error) lists the 16 tensors of the layer only one
    /// side has, all starting with `prefix`.
    private func assertLayerNamed(graphLayers: Int, prefix: String, file: StaticString = #filePath, line: UInt = #line,
                                  _ names: (CheckpointError) -> [String]?) {
        var sizes = Self.tiny
        sizes.layers = graphLayers
        assertThrows(try CheckpointLoader.load(from: CheckpointTFTests.tinyPrefix, parameters: sizes.parameters, seed: 1),
                     file: file, line: line) { error in
            guard let names = names(error) else { return XCTFail("\(error)", file: file, line: line) }
            XCTAssertEqual(names.count, 16, file: file, line: line)
            XCTAssertTrue(names.allSatisfy { $0.hasPrefix(prefix) }, "\(names)", file: file, line: line)
        }
    }

    // MARK: - Hugging Face family (safetensors)

    func testGraphTensorsWrittenAsSafetensorsReloadIdentically() throws {
        let (tensors, _) = try CheckpointLoader.load(from: CheckpointTFTests.tinyPrefix, parameters: Self.tiny.parameters, seed: 1)
        let directory = temporaryFile("hf")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try SafetensorsWriter.write(tensors, metadata: ["format": "pt"], to: directory.appendingPathComponent("model.safetensors"))
        let (reloaded, report) = try CheckpointLoader.load(from: directory, parameters: Self.tiny.parameters, seed: 1)
        XCTAssertEqual(report.family, .huggingFace)
        XCTAssertEqual(reloaded, tensors)
    }

    func testWrongDTypeIsAnError() throws {
        var tensors = try CheckpointLoader.load(from: CheckpointTFTests.tinyPrefix, parameters: Self.tiny.parameters, seed: 1).tensors
        tensors["bert.pooler.dense.bias"] = HostTensor(shape: [16], int32s: [Int32](repeating: 0, count: 16))
        let url = temporaryFile("dtype.safetensors")
        try SafetensorsWriter.write(tensors, to: url)
        assertThrows(try CheckpointLoader.load(from: url, parameters: Self.tiny.parameters, seed: 1)) { error in
            XCTAssertEqual(error, .wrongDType(file: url.path, tensor: "bert.pooler.dense.bias", parameter: "bert.pooler.dense.bias",
                                              expected: "f32", found: "i32"))
        }
    }

    func testMissingTensorIsAnErrorButMissingHeadIsInitialised() throws {
        var tensors = try CheckpointLoader.load(from: CheckpointTFTests.tinyPrefix, parameters: Self.tiny.parameters, seed: 1).tensors
        tensors["classifier.weight"] = nil
        tensors["classifier.bias"] = nil
        let headless = temporaryFile("headless.safetensors")
        try SafetensorsWriter.write(tensors, to: headless)
        let (loaded, report) = try CheckpointLoader.load(from: headless, parameters: Self.tiny.parameters, seed: 7)
        XCTAssertEqual(report.initialized, ["classifier.weight", "classifier.bias"])
        XCTAssertEqual(loaded["classifier.bias"]?.floats, [0, 0, 0])
        XCTAssertEqual(loaded["classifier.weight"]?.shape, [3, 16])

        tensors["bert.encoder.layer.1.output.LayerNorm.bias"] = nil
        let broken = temporaryFile("missing.safetensors")
        try SafetensorsWriter.write(tensors, to: broken)
        assertThrows(try CheckpointLoader.load(from: broken, parameters: Self.tiny.parameters, seed: 7)) { error in
            XCTAssertEqual(error, .missingParameters(file: broken.path, parameters: ["bert.encoder.layer.1.output.LayerNorm.bias"]))
        }
    }

    /// A span graph (no pooler, the qa_outputs head) loads a checkpoint with a pooler and a
    /// classifier: those are ignored, and the missing span head is initialised.
    func testSpanGraphIgnoresThePoolerAndInitialisesItsHead() throws {
        let span = Self.tiny.parameters.filter { !$0.name.hasPrefix("bert.pooler.") && !$0.name.hasPrefix("classifier.") }
            + [("qa_outputs.weight", [2, 16]), ("qa_outputs.bias", [2])]
        let (loaded, report) = try CheckpointLoader.load(from: CheckpointTFTests.tinyPrefix, parameters: span, seed: 7)
        XCTAssertEqual(report.initialized, ["qa_outputs.weight", "qa_outputs.bias"])
        XCTAssertTrue(report.ignored.contains("bert/pooler/dense/kernel"), "\(report.ignored)")
        XCTAssertEqual(loaded["qa_outputs.bias"]?.floats, [0, 0])
        XCTAssertEqual(loaded.count, span.count)
    }

    func testPretrainedMiniLMMapsToGraphNamesWithANewClassifier() throws {
        let url = try miniLMWeights()
        let sizes = BertSizes(layers: 6, hidden: 384, intermediate: 1536, vocab: 30522, maxPositions: 512, typeVocab: 2, labels: 2)
        let (tensors, report) = try CheckpointLoader.load(from: url.deletingLastPathComponent(), parameters: sizes.parameters, seed: 42)
        XCTAssertEqual(report.family, .huggingFace)
        XCTAssertEqual(report.loaded.count, 103)
        XCTAssertEqual(report.initialized, ["classifier.weight", "classifier.bias"])
        XCTAssertEqual(report.ignored, ["embeddings.position_ids"])
        XCTAssertEqual(tensors.count, sizes.parameters.count)

        let golden = try GoldenListing.load("safetensors/minilm-l6-listing.json")
        let key = try XCTUnwrap(tensors["bert.encoder.layer.3.attention.self.key.weight"]?.floats)
        XCTAssertEqual(Array(key.prefix(8)), golden.first_values?["encoder.layer.3.attention.self.key.weight"]?.map { Float($0) })

        let head = try XCTUnwrap(tensors["classifier.weight"]?.floats)
        XCTAssertEqual(head.count, 2 * 384)
        XCTAssertTrue(head.allSatisfy { abs($0) <= 0.04 })
        XCTAssertEqual(tensors["classifier.bias"]?.floats, [0, 0])
        let again = try CheckpointLoader.load(from: url, parameters: sizes.parameters, seed: 42).tensors
        XCTAssertEqual(again["classifier.weight"], tensors["classifier.weight"], "same seed, same head")
        let other = try CheckpointLoader.load(from: url, parameters: sizes.parameters, seed: 43).tensors
        XCTAssertNotEqual(other["classifier.weight"], tensors["classifier.weight"])
    }

    // MARK: - Family tables

    func testHuggingFaceNamesWithAndWithoutPrefixAndOldLayerNormNames() {
        assertRoles(.huggingFace, parameters: [
            "bert.encoder.layer.11.attention.self.query.weight": "bert.encoder.layer.11.attention.self.query.weight",
            "encoder.layer.0.output.dense.bias": "bert.encoder.layer.0.output.dense.bias",
            "bert.embeddings.LayerNorm.gamma": "bert.embeddings.LayerNorm.weight",
            "encoder.layer.2.attention.output.LayerNorm.beta": "bert.encoder.layer.2.attention.output.LayerNorm.bias",
            "classifier.weight": "classifier.weight",
            "qa_outputs.weight": "qa_outputs.weight",
        ], ignored: ["bert.embeddings.position_ids", "cls.predictions.bias"],
        unknown: ["encoder.layer.x.output.dense.bias", "qa_outputs.kernel"])
    }

    func testTensorFlowNames() {
        assertRoles(.tensorFlow, parameters: [
            "bert/encoder/layer_10/output/LayerNorm/gamma": "bert.encoder.layer.10.output.LayerNorm.weight",
            "output_weights": "classifier.weight",
            "cls/squad/output_weights": "qa_outputs.weight", "cls/squad/output_bias": "qa_outputs.bias",
        ], transposed: [
            "bert/encoder/layer_0/attention/self/query/kernel": "bert.encoder.layer.0.attention.self.query.weight",
            "bert/pooler/dense/kernel": "bert.pooler.dense.weight",
        ], ignored: ["global_step", "bert/encoder/layer_0/output/dense/kernel/adam_m", "output_bias/adam_v",
                     "cls/predictions/output_bias", "cls/seq_relationship/output_weights", "cls/squad/output_weights/adam_m"],
        unknown: ["bert/encoder/layer_0/attention/self/query/weights"])
    }

    /// `family` maps each name of `parameters` to its graph parameter as stored and each of
    /// `transposed` to its parameter transposed, ignores `ignored` and does not know `unknown`.
    private func assertRoles(_ family: CheckpointFamily, parameters: KeyValuePairs<String, String>,
                             transposed: KeyValuePairs<String, String> = [:], ignored: [String], unknown: [String]) {
        for (name, parameter) in parameters {
            XCTAssertEqual(family.role(of: name), .parameter(parameter, transposed: false), name)
        }
        for (name, parameter) in transposed {
            XCTAssertEqual(family.role(of: name), .parameter(parameter, transposed: true), name)
        }
        for name in ignored { XCTAssertEqual(family.role(of: name), .ignored, name) }
        for name in unknown { XCTAssertEqual(family.role(of: name), .unknown, name) }
    }

    func testTruncatedNormalIsDeterministicAndWithinTwoStddev() {
        var a = TruncatedNormal(stddev: 0.02, seed: 5), b = TruncatedNormal(stddev: 0.02, seed: 5)
        let samples = a.samples(20_000)
        XCTAssertEqual(samples, b.samples(20_000))
        XCTAssertTrue(samples.allSatisfy { abs($0) <= 0.04 })
        let mean = samples.reduce(0, +) / Float(samples.count)
        let std = (samples.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Float(samples.count)).squareRoot()
        XCTAssertEqual(mean, 0, accuracy: 0.0005)
        // A normal truncated at ±2σ keeps 0.8796σ of standard deviation.
        XCTAssertEqual(std, 0.02 * 0.8796, accuracy: 0.0003)
    }
}

/// Sizes of a BERT classifier and its graph parameters, named and shaped as in CONTRACTS.md.
struct BertSizes {
    var layers, hidden, intermediate, vocab, maxPositions, typeVocab, labels: Int

    var parameters: [(name: String, shape: [Int])] {
        let h = hidden, i = intermediate
        var out: [(name: String, shape: [Int])] = [
            ("bert.embeddings.word_embeddings.weight", [vocab, h]),
            ("bert.embeddings.position_embeddings.weight", [maxPositions, h]),
            ("bert.embeddings.token_type_embeddings.weight", [typeVocab, h]),
            ("bert.embeddings.LayerNorm.weight", [h]), ("bert.embeddings.LayerNorm.bias", [h]),
        ]
        for layer in 0..<layers {
            let p = "bert.encoder.layer.\(layer)."
            for part in ["attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense"] {
                out += [(p + part + ".weight", [h, h]), (p + part + ".bias", [h])]
            }
            out += [(p + "attention.output.LayerNorm.weight", [h]), (p + "attention.output.LayerNorm.bias", [h]),
                    (p + "intermediate.dense.weight", [i, h]), (p + "intermediate.dense.bias", [i]),
                    (p + "output.dense.weight", [h, i]), (p + "output.dense.bias", [h]),
                    (p + "output.LayerNorm.weight", [h]), (p + "output.LayerNorm.bias", [h])]
        }
        out += [("bert.pooler.dense.weight", [h, h]), ("bert.pooler.dense.bias", [h]),
                ("classifier.weight", [labels, h]), ("classifier.bias", [labels])]
        return out
    }
}
