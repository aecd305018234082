// The exporter on a tiny BERT: libonnx accepts the model, the node patterns are the ones ORT's
// BERT optimizer fuses, training-only ops are refused, files are written atomically, and the
// external data path round-trips.

import BertGraph
import BertModel
import BertRuntime
import Foundation
import XCTest
@testable import BertONNX

final class ONNXExporterTests: XCTestCase {
    private func tinyBert(gelu: String = "erf") throws -> (Graph, [String: HostTensor]) {
        var config = TinyBertConfig()
        config.gelu = gelu
        let graph = try TinyBert.graph(config)
        return (graph, TinyBert.weights(for: graph))
    }

    private func temporaryDirectory() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("bertc-export-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        return dir
    }

    // MARK: - Validity and structure

    func testTinyBertPassesLibonnxFullCheck() throws {
        for gelu in ["erf", "tanh"] {
            let (graph, weights) = try tinyBert(gelu: gelu)
            let data = try ONNXExporter().modelData(graph: graph, weights: weights)
            XCTAssertGreaterThan(data.count, 0)
        }
    }

    func testModelHeaderInputsAndOutputs() throws {
        let (graph, weights) = try tinyBert()
        let model = try ONNXExporter().makeModel(graph: graph, weights: weights)
        XCTAssertEqual(model.irVersion, 8)
        XCTAssertEqual(model.opsetImport.map(\.version), [17])
        XCTAssertEqual(model.opsetImport.map(\.domain), [""])
        XCTAssertEqual(model.producerName, "bertc")
        XCTAssertEqual(model.graph.input.map(\.name), ["input_ids", "attention_mask", "token_type_ids"])
        for input in model.graph.input {
            XCTAssertEqual(input.type.tensorType.elemType, Int32(Onnx_TensorProto.DataType.int64.rawValue))
            XCTAssertEqual(input.type.tensorType.shape.dim.map(\.dimParam), ["batch", "sequence"])
        }
        XCTAssertEqual(model.graph.output.map(\.name), ["logits", "pooled_output", "sequence_output"])
        let logits = model.graph.output[0].type.tensorType.shape.dim
        XCTAssertEqual(logits.map(\.dimParam), ["batch", ""])
        XCTAssertEqual(logits[1].dimValue, 3)
        XCTAssertTrue(model.graph.node.allSatisfy { $0.domain.isEmpty }, "standard ops only")
    }

    /// The forms ORT's fusions look for: no Transpose for weights (stored [in, out]), one shared
    /// mask subgraph, one Softmax per layer, the Gelu and position-id patterns.
    func testNodePatternsMatchHuggingFaceExport() throws {
        let (graph, weights) = try tinyBert()
        let model = try ONNXExporter().makeModel(graph: graph, weights: weights)
        let counts = Dictionary(model.graph.node.map { ($0.opType, 1) }, uniquingKeysWith: +)
        XCTAssertEqual(counts["MatMul"], 2 * 8 + 2)        // q, k, v, out, up, down, qk, pv per layer; pooler, classifier
        XCTAssertEqual(counts["Transpose"], 2 * 5)          // q, k, v, context, k^T per layer
        XCTAssertEqual(counts["Softmax"], 2)
        XCTAssertEqual(counts["Cast"], 1)                   // the mask, once
        XCTAssertEqual(counts["Erf"], 2)
        XCTAssertEqual(counts["LayerNormalization"], 1 + 2 * 2)
        XCTAssertEqual(counts["Slice"], 1)
        XCTAssertNil(counts["Squeeze"])
        let query = model.graph.initializer.first { $0.name == "bert.encoder.layer.0.attention.self.query.weight.transposed" }
        XCTAssertEqual(query?.dims, [32, 32])
        let classifier = model.graph.initializer.first { $0.name == "classifier.weight.transposed" }
        XCTAssertEqual(classifier?.dims, [32, 3])               // [in, out]
        let positionIDs = model.graph.initializer.first { $0.name == "position_ids" }
        XCTAssertEqual(positionIDs?.dims, [1, 16])
        let reshapes = model.graph.node.filter { $0.opType == "Reshape" }.map(\.input[1])
        let shapes = reshapes.compactMap { name in model.graph.initializer.first { $0.name == name } }
            .map { t in t.rawData.withUnsafeBytes { Array($0.bindMemory(to: Int64.self)) } }
        XCTAssertTrue(shapes.contains([0, 0, 4, 8]))
        XCTAssertTrue(shapes.contains([0, 0, 32]))
    }

    func testSelectedOutputsDropUnusedNodes() throws {
        let (graph, weights) = try tinyBert()
        var options = ONNXExportOptions()
        options.outputs = ["logits"]
        let model = try ONNXExporter(options: options).makeModel(graph: graph, weights: weights)
        XCTAssertEqual(model.graph.output.map(\.name), ["logits"])
        options.outputs = ["sequence_output"]
        let encoderOnly = try ONNXExporter(options: options).makeModel(graph: graph, weights: weights)
        XCTAssertFalse(encoderOnly.graph.node.contains { $0.opType == "Tanh" }, "the pooler is dropped")
        XCTAssertFalse(encoderOnly.graph.initializer.contains { $0.name.hasPrefix("classifier") })
        options.outputs = ["loss"]
        XCTAssertThrowsError(try ONNXExporter(options: options).makeModel(graph: graph, weights: weights))
    }

    /// Every exportable op form passes libonnx; a value stored with a leading unit dim is
    /// squeezed once where its exact shape is needed, and a graph output gets its name.
    func testEveryInferenceOpExports() throws {
        let graph = try EveryInferenceOpGraph.build()
        let weights = TinyBert.weights(for: graph)
        _ = try ONNXExporter().modelData(graph: graph, weights: weights)
        let model = try ONNXExporter().makeModel(graph: graph, weights: weights)
        let counts = Dictionary(model.graph.node.map { ($0.opType, 1) }, uniquingKeysWith: +)
        XCTAssertEqual(counts["Squeeze"], 1)
        XCTAssertEqual(model.graph.output.map(\.name),
                       ["narrow", "probs", "ctx_t", "moved", "inner", "gram", "projected", "position_embeddings"])
        let squeeze = try XCTUnwrap(model.graph.node.first { $0.opType == "Squeeze" })
        let identity = try XCTUnwrap(model.graph.node.first { $0.opType == "Identity" })
        XCTAssertEqual(identity.input, squeeze.output)
        XCTAssertEqual(identity.output, ["position_embeddings"])
        XCTAssertTrue(model.graph.initializer.contains { $0.name == "plain.weight" })
        XCTAssertTrue(model.graph.initializer.contains { $0.name == "dense.weight.transposed" })
    }

    /// BertBuilder's graphs: the evaluation graph exports once its loss is left out (the
    /// `labels` input goes with it); the training graph is refused at its first dropout.
    func testBertBuilderGraphs() throws {
        let config = BertConfig(vocabSize: 40, hiddenSize: 16, numHiddenLayers: 1, numAttentionHeads: 2,
                                intermediateSize: 32, maxPositionEmbeddings: 8)
        let evaluation = try BertBuilder.build(config, head: .classification(labels: 2), options: .evaluation)
        let weights = TinyBert.weights(for: evaluation)
        XCTAssertThrowsError(try ONNXExporter().modelData(graph: evaluation, weights: weights)) { error in
            XCTAssertEqual(error as? ONNXExportError, .trainingOnlyOp(op: "softmax_cross_entropy", node: "loss"))
        }
        let logitsOnly = ONNXExporter(options: ONNXExportOptions(outputs: ["logits"]))
        _ = try logitsOnly.modelData(graph: evaluation, weights: weights)
        let model = try logitsOnly.makeModel(graph: evaluation, weights: weights)
        XCTAssertEqual(model.graph.input.map(\.name), ["input_ids", "attention_mask", "token_type_ids"])

        let training = try BertBuilder.build(config, head: .classification(labels: 2), options: .training)
        XCTAssertThrowsError(try logitsOnly.modelData(graph: training, weights: weights)) { error in
            guard case ONNXExportError.trainingOnlyOp(let op, _) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(op, "dropout")
        }
    }

    /// A span model exports with the classifier's inputs and `start_logits`, `end_logits`
    /// [batch, sequence] as outputs, each a Gather of qa_outputs' product along the last axis;
    /// libonnx accepts it.
    func testSpanHeadExportsStartAndEndLogits() throws {
        let config = BertConfig(vocabSize: 40, hiddenSize: 16, numHiddenLayers: 1, numAttentionHeads: 2,
                                intermediateSize: 32, maxPositionEmbeddings: 8)
        let graph = try ModelCompiler.exportGraph(config, head: .span)
        let weights = TinyBert.weights(for: graph)
        _ = try ONNXExporter().modelData(graph: graph, weights: weights)
        let model = try ONNXExporter().makeModel(graph: graph, weights: weights)
        XCTAssertEqual(model.graph.input.map(\.name), ["input_ids", "attention_mask", "token_type_ids"])
        XCTAssertEqual(model.graph.output.map(\.name), ["start_logits", "end_logits"])
        for output in model.graph.output {
            XCTAssertEqual(output.type.tensorType.shape.dim.map(\.dimParam), ["batch", "sequence"])
        }
        XCTAssertFalse(model.graph.initializer.contains { $0.name.hasPrefix("bert.pooler.") }, "no pooler")
        XCTAssertEqual(model.graph.node.filter { $0.output.contains("start_logits") || $0.output.contains("end_logits") }
            .map(\.opType), ["Gather", "Gather"])
    }

    // MARK: - Errors

    func testTrainingOnlyOpIsRefused() throws {
        var g = Graph(name: "dropout")
        let x = g.addInput("x", .f32(.batch, .fixed(4)))
        g.addOutput("y", try g.apply1(.dropout(rate: 0.1, stream: 0), [x], name: "drop"))
        XCTAssertThrowsError(try ONNXExporter().modelData(graph: g, weights: [:])) { error in
            XCTAssertEqual(error as? ONNXExportError, .trainingOnlyOp(op: "dropout", node: "drop"))
            XCTAssertTrue("\(error)".contains("op dropout cannot be exported (training-only)"))
        }
    }

    func testMalformedGraphIsRefusedBeforeExport() throws {
        var g = Graph(name: "broken")
        let x = g.addInput("x", .f32(.batch, .fixed(4)))
        let y = try g.apply1(.tanh, [x], name: "y")
        g.nodes[0].inputs = [y]   // reads its own output
        g.addOutput("y", y)
        XCTAssertThrowsError(try ONNXExporter().modelData(graph: g, weights: [:])) { error in
            guard case ONNXExportError.invalidGraph(let message) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(message.contains("before it is defined"), message)
        }
    }

    func testMissingAndMisShapedWeightsNameTheTensor() throws {
        let (graph, weights) = try tinyBert()
        var missing = weights
        missing["classifier.bias"] = nil
        XCTAssertThrowsError(try ONNXExporter().modelData(graph: graph, weights: missing)) { error in
            XCTAssertEqual(error as? ONNXExportError, .missingWeight(name: "classifier.bias"))
        }
        var wrong = weights
        wrong["classifier.bias"] = HostTensor(shape: [4], floats: [0, 0, 0, 0])
        XCTAssertThrowsError(try ONNXExporter().modelData(graph: graph, weights: wrong)) { error in
            XCTAssertEqual(error as? ONNXExportError, .weightMismatch(name: "classifier.bias", expected: "f32[3]", got: "f32[4]"))
        }
    }

    func testLibonnxMessageReachesTheError() throws {
        let (graph, weights) = try tinyBert()
        var model = try ONNXExporter().makeModel(graph: graph, weights: weights)
        model.graph.node[0].opType = "NoSuchOp"
        XCTAssertThrowsError(try ONNXValidator.validate(try model.serializedBytes())) { error in
            guard case ONNXExportError.invalidModel(let message) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(message.contains("NoSuchOp"), message)
        }
    }

    // MARK: - Files

    func testWriteIsAtomicAndLeavesNothingOnFailure() throws {
        let dir = try temporaryDirectory()
        let url = dir.appendingPathComponent("model.onnx")
        let (graph, weights) = try tinyBert()
        let summary = try ONNXExporter().write(graph: graph, weights: weights, to: url)
        XCTAssertNil(summary.externalDataPath)
        let good = try Data(contentsOf: url)
        XCTAssertEqual(good.count, summary.modelBytes)
        try ONNXValidator.validate(good)

        var broken = weights
        broken["classifier.weight"] = nil
        XCTAssertThrowsError(try ONNXExporter().write(graph: graph, weights: broken, to: url))
        XCTAssertEqual(try Data(contentsOf: url), good, "a failed export keeps the earlier file")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), ["model.onnx"])
    }

    /// A tiny threshold forces the >2 GiB code path: weights go to `model.onnx.data` with
    /// aligned offsets, and the model still validates against its directory.
    func testExternalDataPath() throws {
        let dir = try temporaryDirectory()
        let url = dir.appendingPathComponent("model.onnx")
        let (graph, weights) = try tinyBert()
        var options = ONNXExportOptions()
        options.externalDataThreshold = 1024
        let summary = try ONNXExporter(options: options).write(graph: graph, weights: weights, to: url)
        XCTAssertEqual(summary.externalDataPath, dir.appendingPathComponent("model.onnx.data").path)
        XCTAssertEqual(Set(try FileManager.default.contentsOfDirectory(atPath: dir.path)), ["model.onnx", "model.onnx.data"])

        let model = try Onnx_ModelProto(serializedBytes: try Data(contentsOf: url))
        let side = try Data(contentsOf: dir.appendingPathComponent("model.onnx.data"))
        let word = try XCTUnwrap(model.graph.initializer.first { $0.name == "bert.embeddings.word_embeddings.weight" })
        XCTAssertEqual(word.dataLocation, .external)
        XCTAssertTrue(word.rawData.isEmpty)
        let entries = Dictionary(uniqueKeysWithValues: word.externalData.map { ($0.key, $0.value) })
        XCTAssertEqual(entries["location"], "model.onnx.data")
        let offset = try XCTUnwrap(Int(entries["offset"] ?? ""))
        let length = try XCTUnwrap(Int(entries["length"] ?? ""))
        XCTAssertEqual(offset % ONNXExternalData.alignment, 0)
        XCTAssertEqual(length, 50 * 32 * 4)
        let stored = side.subdata(in: offset..<(offset + length))
        XCTAssertEqual(stored, ONNXGraphBuilder.littleEndianBytes(weights["bert.embeddings.word_embeddings.weight"]!.floats!))
        try ONNXValidator.validate(try Data(contentsOf: url), directory: dir)
        // Small constants stay inline.
        XCTAssertTrue(model.graph.initializer.contains { $0.dataLocation != .external })
    }
}
