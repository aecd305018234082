// The SQuAD side of a span evaluation: the logits of every window go through run_squad.py's
// post-processing (`SQuADPostprocessor`: n-best spans, final text, null answers in v2.0) to
// one answer per question, which the official scripts' metrics (`SQuADMetrics`) score. The
// answers are also written, as run_squad.py writes them, to the run directory.
//
// `SQuADPostprocessor` and `SQuADMetrics` are built with the flag BERTC_SQUAD_POSTPROCESSING
// until they are part of BertText in every build; without it, `make` gives no scorer and a
// span evaluation reports its loss only.

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

    private init(dataset: SQuADDataset, options: SQuADOptions, lowercase: Bool, directory: URL?) {
        self.dataset = dataset
        self.options = options
        self.lowercase = lowercase
        self.directory = directory
    }

    /// The answers of `dataset` from logits, or nil in a build without SQuAD post-processing.
    public static func answering(_ dataset: SQuADDataset, options: SQuADOptions, lowercase: Bool) -> SQuADScorer? {
        make(dataset: dataset, options: options, lowercase: lowercase, directory: nil)
    }

    /// The scorer of `dataset`, or nil in a build without SQuAD post-processing.
    /// - Parameter lowercase: whether the model's tokenizer lower-cases (run_squad.py's
    ///   do_lower_case, which the final text's alignment needs).
    public static func make(dataset: SQuADDataset, options: SQuADOptions, lowercase: Bool, directory: URL?) -> SQuADScorer? {
        #if BERTC_SQUAD_POSTPROCESSING
        return SQuADScorer(dataset: dataset, options: options, lowercase: lowercase, directory: directory)
        #else
        return nil
        #endif
    }

    public func score(_ logits: [(start: [Float], end: [Float])]) throws -> (exactMatch: Double, f1: Double) {
        #if BERTC_SQUAD_POSTPROCESSING
        let predictions = try predict(logits)
        if let directory { try postprocessor.write(predictions, to: directory) }
        let answers = Dictionary(predictions.map { ($0.id, $0.text) }, uniquingKeysWith: { first, _ in first })
        let result = SQuADMetrics.evaluate(examples: dataset.examples, predictions: answers,
                                           versionTwo: options.versionTwoWithNegative)
        return (result.exactMatch, result.f1)
        #else
        return (.nan, .nan)
        #endif
    }

    /// One answer per question (`bertc predict`), and with `directory` the prediction files.
    /// - Throws: `TrainingError.unsupported` in a build without SQuAD post-processing.
    public func answers(_ logits: [(start: [Float], end: [Float])], writingTo directory: URL?) throws -> [SpanAnswer] {
        #if BERTC_SQUAD_POSTPROCESSING
        let predictions = try predict(logits)
        if let directory { try postprocessor.write(predictions, to: directory) }
        return predictions.map {
            SpanAnswer(id: $0.id, answer: $0.text, score: $0.score, probability: $0.probability,
                       start: $0.characters?.lowerBound, end: $0.characters?.upperBound)
        }
        #else
        throw TrainingError.unsupported("this build has no SQuAD post-processing")
        #endif
    }

    #if BERTC_SQUAD_POSTPROCESSING
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
    #endif
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
