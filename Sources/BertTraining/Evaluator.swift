import BertGraph
import BertModel
import BertRuntime
import Foundation

/// Dev/test metrics of a model on a set of examples.
public struct Evaluation: Codable, Equatable, Sendable {
    public var loss: Double
    public var accuracy: Double?
    /// Classification: F1 of the positive class (0-1). SQuAD: the mean token F1 over the
    /// questions, x100 as the official script prints it.
    public var f1: Double?
    /// SQuAD: the share of questions answered exactly (after normalisation), x100.
    public var exactMatch: Double?
    public var matthews: Double?
    public var pearson: Double?
    public var spearman: Double?
    public var examples: Int

    /// A one-line summary: loss and every metric present.
    public var summary: String {
        var parts = [String(format: "loss %.4f", loss)]
        if let exactMatch { parts.append(String(format: "exact_match %.2f", exactMatch)) }
        if let accuracy { parts.append(String(format: "accuracy %.4f", accuracy)) }
        if let f1 { parts.append(String(format: exactMatch == nil ? "f1 %.4f" : "f1 %.2f", f1)) }
        if let matthews { parts.append(String(format: "matthews %.4f", matthews)) }
        if let pearson { parts.append(String(format: "pearson %.4f", pearson)) }
        if let spearman { parts.append(String(format: "spearman %.4f", spearman)) }
        parts.append("\(examples) examples")
        return parts.joined(separator: ", ")
    }
}

/// Turns the span head's logits on every evaluated window into metrics (SQuAD: answers by
/// post-processing, then exact match and F1).
public protocol SpanScorer: AnyObject {
    /// - Parameter logits: per window, in the order of the examples evaluated: the start and
    ///   end logits of its real tokens.
    func score(_ logits: [(start: [Float], end: [Float])]) throws -> (exactMatch: Double, f1: Double)
}

/// Runs the evaluation graph (logits and loss, no dropout) over examples in length buckets and
/// computes the task's metrics.
public final class Evaluator {
    public let head: TaskHead
    public let batchSize: Int
    public let buckets: [Int]
    /// Scores a span head's logits; without one, span evaluations report the loss only.
    public let spanScorer: SpanScorer?
    private let interpreters: InterpreterCache

    public init(config: BertConfig, head: TaskHead, batchSize: Int, buckets: [Int], spanScorer: SpanScorer? = nil) throws {
        self.head = head
        self.batchSize = batchSize
        self.buckets = buckets
        self.spanScorer = spanScorer
        let graph = try ModelCompiler.graph(config, head: head, mode: .eval)
        interpreters = InterpreterCache(graph: graph, planner: ModelCompiler.plan)
    }

    /// Loss (mean over examples) and metrics of `parameters` on `examples`.
    public func evaluate(_ examples: [EncodedExample], parameters: ParameterStore) throws -> Evaluation {
        try run(examples, parameters: parameters).evaluation
    }

    /// The span head's start and end logits on the real tokens of each example (windows of
    /// unlabelled questions have positions 0 and 0, so the loss is computed but meaningless).
    public func spanLogits(_ examples: [EncodedExample], parameters: ParameterStore) throws -> [(start: [Float], end: [Float])] {
        try run(examples, parameters: parameters).spans
    }

    private func run(_ examples: [EncodedExample], parameters: ParameterStore) throws
        -> (evaluation: Evaluation, spans: [(start: [Float], end: [Float])]) {
        guard !examples.isEmpty else { throw TrainingError.noExamples("the evaluation set") }
        let batcher = LengthBatcher(buckets: buckets, batchSize: batchSize, seed: 0)
        var lossSum = 0.0
        var predictions = [Int](repeating: 0, count: examples.count)
        var scores = [Double](repeating: 0, count: examples.count)
        var spans = [(start: [Float], end: [Float])](repeating: ([], []), count: head == .span ? examples.count : 0)
        for batch in batcher.batches(lengths: examples.map(\.length), epoch: 0, shuffle: false) {
            let members = batch.indices.map { examples[$0] }
            let out = try interpreters.interpreter(batch: members.count, seq: batch.sequenceLength)
                .run(inputs: InputBatch.make(members, sequenceLength: batch.sequenceLength, head: head), parameters: parameters)
            lossSum += Double(out[GraphNames.loss]!.floats![0]) * Double(members.count)
            if head == .span {
                let start = out[GraphNames.startLogits]!.floats!, end = out[GraphNames.endLogits]!.floats!
                for (row, i) in batch.indices.enumerated() {
                    let r = row * batch.sequenceLength..<row * batch.sequenceLength + examples[i].length
                    spans[i] = (Array(start[r]), Array(end[r]))
                }
                continue
            }
            let logits = out["logits"]!.floats!
            let width = logits.count / members.count
            for (row, i) in batch.indices.enumerated() {
                let r = logits[row * width..<(row + 1) * width]
                predictions[i] = r.indices.max { r[$0] < r[$1] }! - row * width
                scores[i] = Double(r.first!)
            }
        }
        let loss = lossSum / Double(examples.count)
        switch head {
        case .classification:
            let labels = examples.map { Int($0.label) }
            return (Evaluation(loss: loss, accuracy: Metrics.accuracy(predictions: predictions, labels: labels),
                               f1: Metrics.f1(predictions: predictions, labels: labels),
                               matthews: Metrics.matthews(predictions: predictions, labels: labels),
                               pearson: nil, spearman: nil, examples: examples.count), [])
        case .regression:
            let labels = examples.map { Double($0.label) }
            return (Evaluation(loss: loss, accuracy: nil, f1: nil, matthews: nil,
                               pearson: Metrics.pearson(scores, labels), spearman: Metrics.spearman(scores, labels),
                               examples: examples.count), [])
        case .span:
            let metrics = try spanScorer?.score(spans)
            return (Evaluation(loss: loss, accuracy: nil, f1: metrics?.f1, exactMatch: metrics?.exactMatch, matthews: nil,
                               pearson: nil, spearman: nil, examples: examples.count), spans)
        }
    }
}
