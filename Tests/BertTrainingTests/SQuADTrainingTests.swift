import BertGraph
import BertModel
import BertRuntime
import BertTestSupport
import BertText
import Foundation
import XCTest
@testable import BertTraining

/// Training the span head on SQuAD windows with a tiny random model: the 80 questions of
/// golden/squad/dev-v2.0-small.json (v2.0, half without an answer) in windows of 64 tokens
/// with packed tokens. The loss falls, a run stopped after an epoch and resumed ends
/// bit-identical to one that was not stopped, and the windows carry run_squad.py's labels.
final class SQuADTrainingTests: XCTestCase {
    let config = BertConfig(vocabSize: 30522, hiddenSize: 16, numHiddenLayers: 2, numAttentionHeads: 2,
                            intermediateSize: 32, maxPositionEmbeddings: 64)

    func testWindowsCarryTheAnswerPositions() throws {
        let (train, dev) = try datasets()
        XCTAssertEqual(train.examples.count, 80)
        XCTAssertEqual(train.encoded.count, train.features.count)
        XCTAssertGreaterThan(train.features.count, 80, "contexts longer than a window are cut into several")
        for (feature, example) in zip(train.features, train.encoded) {
            XCTAssertEqual(example.length, feature.tokens.count, "only the real tokens")
            XCTAssertEqual(Int(example.startPosition), feature.startPosition)
            XCTAssertEqual(Int(example.endPosition), feature.endPosition)
            XCTAssertLessThan(Int(example.endPosition), example.length)
        }
        XCTAssertTrue(train.encoded.contains { $0.startPosition > 0 })
        // The dev windows are the same windows with the training labels, for the dev loss.
        XCTAssertEqual(dev.encoded, train.encoded)
        XCTAssertTrue(dev.features.allSatisfy { $0.startPosition == nil })
    }

    func testLossFallsAndResumeIsBitIdentical() throws {
        let (straight, summary) = try train(epochs: 3)
        let losses = summary.evaluations.map(\.evaluation.loss)
        XCTAssertEqual(losses.count, 4)
        XCTAssertLessThan(losses.last!, losses.first! * 0.9, "dev loss \(losses)")
        XCTAssertNil(summary.accuracy)

        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("bertc-squad-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        _ = try train(epochs: 1, totalEpochs: 3, run: dir)
        let (resumed, resumedSummary) = try train(epochs: 3, run: dir, resume: true)
        XCTAssertEqual(resumed.withUnsafeMutableBufferPointer { Array($0) },
                       straight.withUnsafeMutableBufferPointer { Array($0) })
        XCTAssertEqual(resumedSummary.loss, summary.loss)
    }

    // MARK: - Helpers

    private func options() -> SQuADOptions {
        var o = SQuADOptions()
        o.versionTwoWithNegative = true
        o.docStride = 32
        o.maxQueryLength = 16
        return o
    }

    private func datasets() throws -> (train: SQuADDataset, dev: SQuADDataset) {
        let vocabulary = try Vocabulary(contentsOf: DataLocator(currentDirectory: TestPaths.root.path)
            .existingFile("vocab-bert-base-uncased.txt"))
        let task = try SQuADTask(options: options(), vocabulary: vocabulary, lowercase: true, maxSequenceLength: 64)
        let source = SQuADSource(path: TestPaths.golden("squad/dev-v2.0-small.json").path, articles: nil)
        return (try task.trainingSet(source), try task.evaluationSet(source, positions: true))
    }

    private func train(epochs: Int, totalEpochs: Int? = nil, run: URL? = nil,
                       resume: Bool = false) throws -> (ParameterStore, TrainingSummary) {
        let graph = try ModelCompiler.graph(config, head: .span, mode: .infer)
        let parameters = try ParameterStore.matching(graph)
        for (name, value) in TinyBert.weights(for: graph, seed: 3) { try parameters.set(name, value) }
        // A recipe as graphs/tasks/squad.json writes one, scaled down.
        var training = try JSONDecoder().decode(TrainingOptions.self, from: Data(#"""
            {"batch_size": 16, "max_seq_length": 64, "buckets": [32, 64], "pack_tokens": 16,
             "eval_batch_size": 32, "log_every": 2}
            """#.utf8))
        training.epochs = totalEpochs ?? epochs
        training.squad = options()
        var optimization = OptimizationConfig()
        optimization.learningRate.polynomial.initialLearningRate = 3e-3
        let trainer = try Trainer(config: config, head: .span, parameters: parameters, options: training,
                                  optimization: optimization)
        let (train, dev) = try datasets()
        let dir = run ?? FileManager.default.temporaryDirectory.appendingPathComponent("bertc-squad-\(UUID().uuidString)")
        defer { if run == nil { try? FileManager.default.removeItem(at: dir) } }
        let summary = try trainer.train(train: train.encoded, dev: dev.encoded, run: RunDirectory(dir), resume: resume,
                                        stopAfterEpoch: epochs, task: TaskCatalog.squad)
        return (parameters, summary)
    }
}
