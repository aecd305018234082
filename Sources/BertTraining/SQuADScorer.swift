// The SQuAD side of a span evaluation: the logits of every window go through run_squad.py's
// post-processing (`SQuADPostprocessor`: n-best spans, final text, null answers in v2.0) to
// one answer per question, which the official scripts' metrics (`SQuADMetrics`) score. The
// answers are also written, as run_squad.py writes them, to the run directory.

import BertModel
import BertText
import Foundation

/// Scores a SQuAD dataset's window logits: answers, files and exact match / F1.
public final class SQuADScorer: SpanScorer {
    public let dataset: SQuADDataset
    public let options: SQuADOptions
    public let lowercase: Bool
    /// Where predictions.json, nbest_predictions.json (and null_odds.json in v2.0) go after
    /// each evaluation; nil: nowhere.
    public let directory: URL?

    /// - Parameters:
    ///   - lowercase: whether the model's tokenizer lower-cases (run_squad.py's do_lower_case,
    ///     which the final text's alignment needs).
    ///   - directory: where the prediction files of each evaluation go; nil: nowhere.
    public init(dataset: SQuADDataset, options: SQuADOptions, lowercase: Bool, directory: URL? = nil) {
        self.dataset = dataset
        self.options = options
        self.lowercase = lowercase
        self.directory = directory
    }

    public func score(_ logits: [(start: [Float], end: [Float])]) throws -> (exactMatch: Double, f1: Double) {
        let predictions = try predict(logits)
        if let directory { try postprocessor.write(predictions, to: directory) }
        let answers = Dictionary(predictions.map { ($0.id, $0.text) }, uniquingKeysWith: { first, _ in first })
        let result = SQuADMetrics.evaluate(examples: dataset.examples, predictions: answers,
                                           versionTwo: options.versionTwoWithNegative)
        return (result.exactMatch, result.f1)
    }

    /// One answer per question (`bertc predict`), and with `directory` the prediction files.
    public func answers(_ logits: [(start: [Float], end: [Float])], writingTo directory: URL?) throws -> [SpanAnswer] {
        let predictions = try predict(logits)
        if let directory { try postprocessor.write(predictions, to: directory) }
        return predictions.map {
            SpanAnswer(id: $0.id, answer: $0.text, score: $0.score, probability: $0.probability,
                       start: $0.characters?.lowerBound, end: $0.characters?.upperBound)
        }
    }

    private var postprocessor: SQuADPostprocessor {
        var o = SQuADPostprocessingOptions()
        o.nBestSize = options.nBestSize
        o.maxAnswerLength = options.maxAnswerLength
        o.versionTwoWithNegative = options.versionTwoWithNegative
        o.nullScoreDiffThreshold = options.nullScoreDiffThreshold
        o.lowercase = lowercase
        return SQuADPostprocessor(options: o)
    }

    /// One prediction per question from the logits of its windows.
    public func predict(_ logits: [(start: [Float], end: [Float])]) throws -> [SQuADPrediction] {
        try postprocessor.predictions(examples: dataset.examples, features: dataset.features,
                                      logits: logits.map { SQuADSpanLogits(start: $0.start, end: $0.end) })
    }
}

/// One question's answer as `bertc predict` reports it.
public struct SpanAnswer: Codable, Sendable, Equatable {
    /// The question's id.
    public var id: String
    /// The answer text ("" when a v2.0 question is judged to have none).
    public var answer: String
    /// The start plus end logit of the answer's span.
    public var score: Double
    /// Its probability among the n-best spans.
    public var probability: Double
    /// The answer's characters in the context, [start, end) in Unicode scalars; nil for none.
    public var start: Int?
    public var end: Int?
}
