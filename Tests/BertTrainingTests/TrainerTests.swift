import BertGraph
import BertModel
import BertRuntime
import Foundation
import XCTest
@testable import BertTraining

/// The training loop on a tiny random model: same seed, same run; a run stopped after an
/// epoch and resumed ends bit-identical to one that was not stopped; a diverging run stops
/// with a clear error and leaves the last checkpoint intact.
final class TrainerTests: XCTestCase {
    let config = BertConfig(vocabSize: 60, hiddenSize: 16, numHiddenLayers: 2, numAttentionHeads: 2,
                            intermediateSize: 32, maxPositionEmbeddings: 32)

    func testSameSeedGivesIdenticalRuns() throws {
        let (a, summaryA) = try train(epochs: 2)
        let (b, summaryB) = try train(epochs: 2)
        XCTAssertEqual(try floats(a), try floats(b))
        XCTAssertEqual(summaryA.loss, summaryB.loss)
        XCTAssertEqual(summaryA.accuracy, summaryB.accuracy)
        XCTAssertEqual(summaryA.evaluations.count, 3, "before training and after each epoch")
    }

    func testResumeIsBitIdenticalToAnUninterruptedRun() throws {
        let (straight, _) = try train(epochs: 2)
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        _ = try train(epochs: 1, totalEpochs: 2, run: dir)
        let (resumed, summary) = try train(epochs: 2, run: dir, resume: true)
        XCTAssertEqual(try floats(resumed), try floats(straight))
        XCTAssertEqual(summary.steps, 2 * 3)
        let lines = try String(contentsOf: dir.appendingPathComponent("metrics.jsonl"), encoding: .utf8)
        XCTAssertTrue(lines.contains("\"kind\":\"eval\""))
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir.appendingPathComponent("loss.svg").path))
        XCTAssertTrue(try FileManager.default.contentsOfDirectory(atPath: dir.path).contains { $0.hasPrefix("events.out.tfevents.") })
    }

    /// A run directory written by an earlier version (a plain `checkpoint/` folder, a state
    /// without log lengths) resumes bit-identical, and its checkpoint is then published the
    /// current way.
    func testResumeFromAnEarlierCheckpointLayout() throws {
        let (straight, _) = try train(epochs: 2)
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        _ = try train(epochs: 1, totalEpochs: 2, run: dir)
        let fm = FileManager.default
        let link = dir.appendingPathComponent("checkpoint")
        let folder = dir.appendingPathComponent(try fm.destinationOfSymbolicLink(atPath: link.path))
        try fm.removeItem(at: link)
        try fm.moveItem(at: folder, to: link)
        try fm.removeItem(at: dir.appendingPathComponent("checkpoints"))
        let statePath = link.appendingPathComponent("state.json")
        var state = try JSONSerialization.jsonObject(with: Data(contentsOf: statePath)) as! [String: Any]
        for key in ["metrics_bytes", "events_file", "events_bytes", "optimization", "unlogged_losses"] { state[key] = nil }
        try JSONSerialization.data(withJSONObject: state).write(to: statePath)

        let (resumed, summary) = try train(epochs: 2, run: dir, resume: true)
        XCTAssertEqual(try floats(resumed), try floats(straight))
        XCTAssertEqual(summary.steps, 2 * 3)
        XCTAssertEqual(try fm.destinationOfSymbolicLink(atPath: link.path), "checkpoints/epoch-2")
        let steps = try String(contentsOf: dir.appendingPathComponent("metrics.jsonl"), encoding: .utf8)
            .split(separator: "\n").compactMap { line -> String? in
                let o = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
                return "\(o["kind"]!) \(o["step"]!)"
            }
        XCTAssertEqual(steps, Array(Set(steps)).sorted { steps.firstIndex(of: $0)! < steps.firstIndex(of: $1)! },
                       "no step logged twice")
    }

    func testDivergingRunStopsAndKeepsTheCheckpoint() throws {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        _ = try train(epochs: 1, totalEpochs: 2, run: dir)
        let before = try Data(contentsOf: dir.appendingPathComponent("checkpoint/model.safetensors"))
        // A resumed run keeps its settings, so the divergent learning rate goes into the
        // checkpoint's own record.
        let statePath = dir.appendingPathComponent("checkpoint/state.json")
        let state = try String(contentsOf: statePath, encoding: .utf8)
        try state.replacingOccurrences(of: "\"initial_learning_rate\" : 0.001", with: "\"initial_learning_rate\" : 1e30")
            .write(to: statePath, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try train(epochs: 2, run: dir, resume: true, learningRate: 1e30)) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("training stopped") && text.contains("checkpoint"), text)
        }
        let after = try Data(contentsOf: dir.appendingPathComponent("checkpoint/model.safetensors"))
        XCTAssertEqual(before, after)
        XCTAssertThrowsError(try train(epochs: 2, run: dir, resume: true)) { error in
            XCTAssertTrue("\(error)".contains("initial_learning_rate 1e+30 (asked 0.001)"), "\(error)")
        }
    }

    /// Packed tokens change only the order of float sums over tokens (packed rows draw the
    /// dropout masks of their padded positions), so three steps of packed and padded training
    /// end at the same parameters within 1e-5 relative. Batches of 8 examples of 3-22 tokens
    /// pack into multiples of 4 rows.
    func testPackedTokensTrainLikePaddedBatches() throws {
        let (packed, a) = try train(epochs: 1, packTokens: 4)
        let (padded, b) = try train(epochs: 1, packTokens: 0)
        let p = try floats(packed), q = try floats(padded)
        let diff = zip(p, q).map { abs($0 - $1) }.max()!
        XCTAssertLessThanOrEqual(diff, 1e-5 * q.map(abs).max()!, "max parameter difference \(diff)")
        XCTAssertGreaterThan(zip(p, try floats(initial())).map { abs($0 - $1) }.max()!, 1e-4, "training moved the parameters")
        XCTAssertEqual(a.loss, b.loss, accuracy: 1e-5 * abs(b.loss))
    }

    func testFreshRunRefusesAnExistingRun() throws {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        _ = try train(epochs: 1, run: dir)
        XCTAssertThrowsError(try train(epochs: 1, run: dir)) { XCTAssertTrue("\($0)".contains("--resume"), "\($0)") }
    }

    // MARK: - Helpers

    /// Trains `epochs` epochs of a run planned for `totalEpochs` (the schedule depends on it).
    private func train(epochs: Int, totalEpochs: Int? = nil, run: URL? = nil, resume: Bool = false,
                       learningRate: Double = 1e-3,
                       packTokens: Int = TrainingOptions().packTokens) throws -> (ParameterStore, TrainingSummary) {
        let parameters = try initial()
        var options = TrainingOptions()
        options.packTokens = packTokens
        options.epochs = totalEpochs ?? epochs
        options.batchSize = 8
        options.maxSequenceLength = 24
        options.buckets = [12, 24]
        options.evalBatchSize = 16
        options.logEvery = 1
        var optimization = OptimizationConfig()
        optimization.learningRate.polynomial.initialLearningRate = learningRate
        let trainer = try Trainer(config: config, head: .classification(labels: 2), parameters: parameters,
                                  options: options, optimization: optimization)
        let dir = run ?? temporaryDirectory()
        defer { if run == nil { try? FileManager.default.removeItem(at: dir) } }
        var limited = options
        limited.epochs = epochs
        let summary = try trainer.train(train: examples(count: 20, seed: 1), dev: examples(count: 10, seed: 2),
                                        run: RunDirectory(dir), resume: resume, stopAfterEpoch: epochs)
        return (parameters, summary)
    }

    /// The tiny model's seeded starting parameters.
    private func initial() throws -> ParameterStore {
        let graph = try ModelCompiler.graph(config, head: .classification(labels: 2), mode: .infer)
        let parameters = try ParameterStore.matching(graph)
        var rng = SplitMix64(seed: 11)
        for name in parameters.names {
            let shape = parameters.shape(name)!
            let values = (0..<shape.reduce(1, *)).map { _ in Float(Double(rng.next() % 2001) / 1000 - 1) * 0.05 }
            try parameters.set(name, HostTensor(shape: shape, floats: values))
        }
        return parameters
    }

    private func examples(count: Int, seed: UInt64) -> [EncodedExample] {
        var rng = SplitMix64(seed: seed)
        return (0..<count).map { _ in
            let n = Int(rng.next() % 20) + 3
            let ids = [Int32(1)] + (0..<(n - 2)).map { _ in Int32(rng.next() % 55) + 5 } + [Int32(2)]
            let types = (0..<n).map { Int32($0 >= n / 2 ? 1 : 0) }
            return EncodedExample(tokenIDs: ids, typeIDs: types, label: Float(ids[1] % 2))
        }
    }

    private func floats(_ store: ParameterStore) throws -> [Float] {
        store.withUnsafeMutableBufferPointer { Array($0) }
    }

    private func temporaryDirectory() -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("bertc-trainer-\(UUID().uuidString)")
    }
}
