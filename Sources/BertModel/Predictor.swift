import BertGraph
import BertPasses
import BertRuntime
import BertText
import Foundation

/// Predictions for a list of inputs: logits `[n, labels]`, argmax class ids and label names.
public struct Prediction: Codable, Equatable, Sendable {
    public var logits: [[Float]]
    public var classIDs: [Int]
    public var classes: [String]

    enum CodingKeys: String, CodingKey {
        case logits, classIDs = "class_id", classes = "class"
    }
}

/// Runs a classifier's inference graph on raw sentence pairs: tokenize, pack, batch by
/// length bucket, run, argmax over the last axis.
public final class Predictor {
    public let config: BertConfig
    public let labels: [String]
    public let parameters: ParameterStore
    public let encoder: ExampleEncoder
    public let buckets: [Int]
    public let graph: Graph
    private let interpreters: InterpreterCache

    /// - Parameters:
    ///   - graph: an inference graph with a `logits` output, built from `config`.
    ///   - parameters: its weights.
    ///   - labels: label names by class id.
    public init(config: BertConfig, graph: Graph, parameters: ParameterStore, labels: [String],
                encoder: ExampleEncoder, buckets: [Int] = [32, 64, 96, 128]) {
        self.config = config
        self.graph = graph
        self.parameters = parameters
        self.labels = labels
        self.encoder = encoder
        self.buckets = Array(Set(buckets.filter { $0 < encoder.maxLength } + [encoder.maxLength])).sorted()
        interpreters = InterpreterCache(graph: graph, planner: ModelCompiler.plan)
    }

    /// Loads a model directory. A model without a fine-tuned head gets one initialised from
    /// `seed` (and `fallbackLabels` as names); the load report says so.
    public static func load(_ model: ModelDirectory, fallbackLabels: [String] = ["0", "1"], maxLength: Int = 128,
                            seed: UInt64 = 0) throws -> (Predictor, LoadReport) {
        let labels = model.labels ?? fallbackLabels
        let loaded = try model.load(head: .classification(labels: labels.count), seed: seed)
        let tokenizer = try BertTokenizer(vocabularyFile: model.vocabURL.path, lowercase: model.lowercase)
        let encoder = try ExampleEncoder(tokenizer: tokenizer, maxLength: min(maxLength, model.config.maxPositionEmbeddings))
        return (Predictor(config: model.config, graph: loaded.graph, parameters: loaded.parameters, labels: labels,
                          encoder: encoder), loaded.report)
    }

    /// Predicts sentence pairs (`second` nil for single sentences), in input order.
    public func predict(_ pairs: [(String, String?)], batchSize: Int = 32) throws -> Prediction {
        try predict(encoded: pairs.map { encoder.encode($0.0, $0.1) }, batchSize: batchSize)
    }

    /// Predicts already encoded examples, in input order, batches of `batchSize` consecutive
    /// examples padded to the bucket of their longest.
    public func predict(encoded examples: [EncodedExample], batchSize: Int = 32) throws -> Prediction {
        var logits: [[Float]] = []
        logits.reserveCapacity(examples.count)
        for start in stride(from: 0, to: examples.count, by: batchSize) {
            let batch = Array(examples[start..<min(start + batchSize, examples.count)])
            let longest = batch.map(\.length).max() ?? 1
            let seq = buckets.first { $0 >= longest } ?? buckets.last!
            let out = try interpreters.interpreter(batch: batch.count, seq: seq)
                .run(inputs: InputBatch.make(batch, sequenceLength: seq), parameters: parameters)
            let flat = out["logits"]!.floats!
            let width = flat.count / batch.count
            for i in 0..<batch.count { logits.append(Array(flat[i * width..<(i + 1) * width])) }
        }
        let ids = logits.map { row in row.indices.max { row[$0] < row[$1] } ?? 0 }
        return Prediction(logits: logits, classIDs: ids, classes: ids.map { $0 < labels.count ? labels[$0] : String($0) })
    }
}
