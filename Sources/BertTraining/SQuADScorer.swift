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
