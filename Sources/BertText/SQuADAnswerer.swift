// Questions about contexts given as strings, answered with run_squad.py's conversion and
// post-processing around a model the caller runs (`bertc predict --question --context` and the
// bundle's `serving_default` signature): each pair is one example, split into stride windows;
// the model sees every window of the batch at once and gives their start and end logits; the
// best n-best entry is the answer, with its offsets in the context.

/// Answers questions about contexts with a span model given as a closure.
public struct SQuADAnswerer: Sendable {
    public let converter: SQuADFeatureConverter
    public let postprocessor: SQuADPostprocessor

    /// - Parameters:
    ///   - converter: the model's tokenisation and windows (max_seq_length, doc_stride, ...).
    ///   - options: post-processing; `lowercase` should be the converter's.
    public init(converter: SQuADFeatureConverter, options: SQuADPostprocessingOptions = .init()) {
        self.converter = converter
        postprocessor = SQuADPostprocessor(options: options)
    }

    /// The answer to each question about its context, in order.
    /// - Parameters:
    ///   - pairs: (question, context) strings.
    ///   - logits: runs the model on the windows of all pairs (padded rows of
    ///     `converter.maxSeqLength`), one `SQuADSpanLogits` per window, in order.
    /// - Returns: one prediction per pair (`id` is the pair's index); a context without words
    ///   gives the answer "" with score and probability 0 and no offsets.
    /// - Throws: what `logits` throws, or `SQuADPostprocessingError` when its result does not
    ///   fit the windows.
    public func answers(to pairs: [(question: String, context: String)],
                        logits: ([SQuADFeature]) throws -> [SQuADSpanLogits]) throws -> [SQuADPrediction] {
        let examples = pairs.enumerated().map { SQuADExample(id: String($0), question: $1.question, context: $1.context) }
        let features = converter.features(of: examples, isTraining: false)
        let answered = try postprocessor.predictions(examples: examples, features: features,
                                                     logits: features.isEmpty ? [] : logits(features))
        var byExample = [SQuADPrediction?](repeating: nil, count: examples.count)
        for prediction in answered {
            if let index = Int(prediction.id), byExample.indices.contains(index) { byExample[index] = prediction }
        }
        return byExample.enumerated().map { index, prediction in
            prediction ?? SQuADPrediction(id: String(index), text: "", probability: 0, score: 0, characters: nil,
                                          nbest: [], nullScoreDiff: nil)
        }
    }

    /// The answer to one question about one context.
    public func answer(question: String, context: String,
                       logits: ([SQuADFeature]) throws -> [SQuADSpanLogits]) throws -> SQuADPrediction {
        let answers = try answers(to: [(question, context)], logits: logits)
        return answers[0]
    }
}
