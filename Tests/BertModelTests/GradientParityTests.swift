import BertGraph
import BertPasses
import BertRuntime
import BertTestSupport
import Foundation
import XCTest
@testable import BertModel

/// Every parameter gradient of one batch (8 MRPC dev pairs padded to 128, dropout off, mean
/// cross-entropy) against PyTorch autograd (golden/gradients/*, tools/golden_gradients.py).
/// Metric per tensor: max |bertc - torch| / max |torch| over the compared entries; target
/// <= 1e-3. Loss: 1e-5 absolute.
final class GradientParityTests: XCTestCase {
    func testRandomBertTinyGradientsMatchPyTorch() throws {
        let (config, weights) = try randomBertTiny()
        let golden = try SafetensorsReader(url: TestPaths.golden("gradients/bert-tiny-random.safetensors"))
        let grads = try gradients(config: config, golden: golden) { try weights.read($0) }
        var worst: Float = 0
        for name in grads.names where name != "bert.embeddings.word_embeddings.weight" {
            worst = max(worst, try relative(grads.tensor(name)!.floats!, golden.read(name).floats!, name))
        }
        worst = max(worst, try wordRows(grads, golden))
        print("bert-tiny: max relative gradient difference \(worst)")
        XCTAssertLessThanOrEqual(worst, 1e-3)
    }

    func testPretrainedMiniLMGradientsMatchPyTorch() throws {
        var config = try BertConfig.load(TestPaths.pretrainedModel().appendingPathComponent("config.json"))
        config.hiddenDropoutProb = 0
        config.attentionProbsDropoutProb = 0
        let weights = try SafetensorsReader(url: TestPaths.pretrainedModel().appendingPathComponent("model.safetensors"))
        let head = try SafetensorsReader(url: TestPaths.golden("forward/minilm-l6.safetensors"))
        let golden = try SafetensorsReader(url: TestPaths.golden("gradients/minilm-l6.safetensors"))
        let grads = try gradients(config: config, golden: golden) { name in
            name.hasPrefix("classifier.") ? try head.read(name) : try weights.read(String(name.dropFirst("bert.".count)))
        }
        var worst: Float = 0, worstNorm: Double = 0
        for name in grads.names {
            let mine = grads.tensor(name)!.floats!
            let index = try golden.read("\(name).index").int32s!.map(Int.init)
            worst = max(worst, try relative(index.map { mine[$0] }, golden.read("\(name).values").floats!, name))
            let norm = mine.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
            let reference = Double(try golden.read("\(name).norm").floats![0])
            if reference > 1e-5 { worstNorm = max(worstNorm, abs(norm - reference) / reference) } else {
                XCTAssertLessThan(norm, 1e-5, "\(name) should have a zero gradient")
            }
        }
        worst = max(worst, try wordRows(grads, golden))
        print("minilm-l6: max relative gradient difference \(worst) (sampled entries), \(worstNorm) (norms)")
        XCTAssertLessThanOrEqual(worst, 1e-3)
        XCTAssertLessThanOrEqual(worstNorm, 1e-3)
    }

    /// The span head (BertForQuestionAnswering's qa_outputs, no pooler) on the random bert-tiny
    /// encoder, with the loss over the real tokens only; padded and with packed tokens.
    func testRandomBertTinySpanGradientsMatchPyTorch() throws {
        let (config, weights) = try randomBertTiny()
        let golden = try SafetensorsReader(url: TestPaths.golden("gradients/bert-tiny-span.safetensors"))
        for packed in [false, true] {
            let grads = try gradients(config: config, golden: golden, head: .span, packedTokens: packed) { name in
                name.hasPrefix("qa_outputs.") ? try golden.read(name + ".value") : try weights.read(name)
            }
            XCTAssertEqual(grads.names.filter { $0.hasPrefix("bert.pooler.") }, [])
            var worst: Float = 0
            for name in grads.names where name != "bert.embeddings.word_embeddings.weight" {
                worst = max(worst, try relative(grads.tensor(name)!.floats!, golden.read(name).floats!, name))
            }
            worst = max(worst, try wordRows(grads, golden))
            print("bert-tiny span head\(packed ? ", packed tokens" : ""): max relative gradient difference \(worst)")
            XCTAssertLessThanOrEqual(worst, 1e-3)
        }
    }

    // MARK: - Helpers

    /// bert-tiny without dropout, and the random weights of golden/forward.
    private func randomBertTiny() throws -> (BertConfig, SafetensorsReader) {
        var config = try BertConfig.load(TestPaths.root.appendingPathComponent("graphs/bert-tiny.json"))
        config.hiddenDropoutProb = 0
        config.attentionProbsDropoutProb = 0
        return (config, try SafetensorsReader(url: TestPaths.golden("forward/bert-tiny-random.weights.safetensors")))
    }

    private func gradients(config: BertConfig, golden: SafetensorsReader, head: TaskHead = .classification(labels: 2),
                           packedTokens: Bool = false, weight: (String) throws -> HostTensor) throws -> ParameterStore {
        let graph = try ModelCompiler.graph(config, head: head, mode: .train, packedTokens: packedTokens)
        let parameters = try ParameterStore.matching(graph)
        for name in parameters.names { try parameters.set(name, weight(name)) }
        let gradients = try ParameterStore.matching(graph)
        let ids = try golden.read("input_ids")
        let mask = try golden.read("attention_mask")
        var inputs = ["input_ids": ids, "token_type_ids": try golden.read("token_type_ids"), "attention_mask": mask]
        var bindings = ["batch": ids.shape[0], "seq": ids.shape[1]]
        if head == .span {
            inputs["start_positions"] = try golden.read("start_positions")
            inputs["end_positions"] = try golden.read("end_positions")
        } else {
            inputs["labels"] = try golden.read("labels")
        }
        if packedTokens {
            // The real tokens of each row of the padded batch.
            let seq = ids.shape[1], values = mask.int32s ?? []
            let examples = (0..<ids.shape[0]).map { b in
                let n = Int(values[b * seq..<(b + 1) * seq].reduce(0, +))
                return EncodedExample(tokenIDs: .init(repeating: 0, count: n), typeIDs: .init(repeating: 0, count: n))
            }
            let rows = examples.reduce(0) { $0 + $1.length }
            bindings["tokens"] = rows
            let (tokenRows, classRows) = InputBatch.packing(examples, sequenceLength: seq, rows: rows)
            inputs["token_rows"] = HostTensor(shape: [rows], int32s: tokenRows)
            if graph.inputs.contains(where: { graph.values[$0].name == "class_rows" }) {
                inputs["class_rows"] = HostTensor(shape: [examples.count], int32s: classRows)
            }
        }
        let plan = try ModelCompiler.plan(graph, bindings)
        let out = try Interpreter(graph: graph, plan: plan).run(inputs: inputs, parameters: parameters, gradients: gradients)
        XCTAssertEqual(out["loss"]!.floats![0], try golden.read("loss").floats![0], accuracy: 1e-5)
        return gradients
    }

    /// The gradient rows of the word-embedding table for the ids in the batch; every other row
    /// must be exactly zero.
    private func wordRows(_ grads: ParameterStore, _ golden: SafetensorsReader) throws -> Float {
        let name = "bert.embeddings.word_embeddings.weight"
        let table = grads.tensor(name)!
        let hidden = table.shape[1]
        let rows = try golden.read("word_rows").int32s!.map(Int.init)
        let mine = rows.flatMap { r in table.floats![r * hidden..<(r + 1) * hidden] }
        let used = Set(rows)
        for r in 0..<table.shape[0] where !used.contains(r) {
            for v in table.floats![r * hidden..<(r + 1) * hidden] where v != 0 {
                XCTFail("row \(r) of \(name)'s gradient is \(v), expected 0")
                return .infinity
            }
        }
        return try relative(mine, golden.read("\(name).rows").floats!, name)
    }

    /// Relative difference; a gradient that is zero in exact arithmetic (the attention key
    /// bias: softmax ignores a constant added to a row) is float noise on both sides, so
    /// below `zeroScale` the absolute difference is returned instead.
    private func relative(_ a: [Float], _ b: [Float], _ name: String) throws -> Float {
        XCTAssertEqual(a.count, b.count, name)
        let zeroScale: Float = 1e-6
        let scale = b.map(abs).max() ?? 0
        let diff = zip(a, b).map { abs($0 - $1) }.max() ?? 0
        let r = scale > zeroScale ? diff / scale : diff
        if r > 1e-3 { print("  \(name): relative difference \(r)") }
        return r
    }
}
