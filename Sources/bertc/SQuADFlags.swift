import ArgumentParser
import BertModel
import BertText
import BertTraining

/// The SQuAD settings `train`, `eval` and `predict` take for `--task squad`, over the recipe's
/// (graphs/tasks/squad.json).
struct SQuADFlags: ParsableArguments {
    @Option(help: "SQuAD: training file, relative to the data root or absolute (default squad/train-v1.1.json when present, else squad/dev-v1.1.json).")
    var trainFile: String?
    @Option(help: "SQuAD: evaluation file, as --train-file (default squad/dev-v1.1.json).") var predictFile: String?
    @Option(help: "SQuAD: articles of the training file used, e.g. 0-35 (default 0-35 when training on the dev file).")
    var trainArticles: String?
    @Option(help: "SQuAD: articles of the evaluation file used, e.g. 36-47 (default 36-47 when training on the dev file).")
    var evalArticles: String?
    @Flag(name: .customLong("version-2-with-negative"), help: "SQuAD v2.0: questions may have no answer.")
    var versionTwoWithNegative = false
    @Option(help: "SQuAD v2.0: answer \"\" when the null score beats the best span by more than this.")
    var nullScoreDiffThreshold: Double?
    @Option(help: "SQuAD: tokens between the starts of a context's windows (default 128).") var docStride: Int?
    @Option(help: "SQuAD: question pieces kept (default 64).") var maxQueryLength: Int?

    func validate() throws {
        for (name, value) in [("--train-articles", trainArticles), ("--eval-articles", evalArticles)] {
            if let value, SQuADSource.articles(value) == nil {
                throw ValidationError("\(name) must be article numbers \"first-last\", e.g. 0-35; got \"\(value)\"")
            }
        }
        if let docStride, docStride <= 0 { throw ValidationError("--doc-stride must be positive") }
        if let maxQueryLength, maxQueryLength < 0 { throw ValidationError("--max-query-length must be 0 or more") }
        if let nullScoreDiffThreshold, !nullScoreDiffThreshold.isFinite {
            throw ValidationError("--null-score-diff-threshold must be a number")
        }
    }

    /// `options` with the flags given here applied.
    func apply(to options: SQuADOptions) -> SQuADOptions {
        var o = options
        if let trainFile { o.trainFile = trainFile }
        if let predictFile { o.predictFile = predictFile }
        if let trainArticles { o.trainArticles = trainArticles }
        if let evalArticles { o.evalArticles = evalArticles }
        if versionTwoWithNegative { o.versionTwoWithNegative = true }
        if let nullScoreDiffThreshold { o.nullScoreDiffThreshold = nullScoreDiffThreshold }
        if let docStride { o.docStride = docStride }
        if let maxQueryLength { o.maxQueryLength = maxQueryLength }
        return o
    }
}

/// SQuAD's files for a model, read as the run's protocol says, reporting which on stderr.
enum SQuADData {
    /// The reader and window settings for `model`'s vocabulary.
    static func task(_ options: SQuADOptions, model: ModelDirectory, maxSequenceLength: Int) throws -> SQuADTask {
        try SQuADTask(options: options, vocabulary: Vocabulary(contentsOf: model.vocabURL.path), lowercase: model.lowercase,
                      maxSequenceLength: maxSequenceLength)
    }

    /// The training and evaluation sets; with `devPositions` the dev windows carry the
    /// answers' positions for the dev loss.
    static func load(_ options: SQuADOptions, model: ModelDirectory, maxSequenceLength: Int, data: DataLocator,
                     devPositions: Bool) throws -> (train: SQuADDataset, dev: SQuADDataset) {
        let task = try task(options, model: model, maxSequenceLength: maxSequenceLength)
        let sources = try SQuADSource.defaultSources(options, data: data)
        note("squad: training on \(sources.train), evaluating on \(sources.dev)")
        let train = try task.trainingSet(sources.train)
        let dev = try task.evaluationSet(sources.dev, positions: devPositions)
        note("squad: \(train.encoded.count) training windows of \(train.examples.count) questions"
             + (train.dropped > 0 ? " (\(train.dropped) questions without their answer in the context dropped)" : "")
             + "; \(dev.encoded.count) dev windows of \(dev.examples.count) questions")
        return (train, dev)
    }

    /// The evaluation set alone (`bertc eval`).
    static func dev(_ options: SQuADOptions, model: ModelDirectory, maxSequenceLength: Int, data: DataLocator) throws -> SQuADDataset {
        let task = try task(options, model: model, maxSequenceLength: maxSequenceLength)
        let source = try SQuADSource.defaultSources(options, data: data).dev
        let dev = try task.evaluationSet(source, positions: true)
        note("squad: evaluating on \(source): \(dev.encoded.count) windows of \(dev.examples.count) questions")
        return dev
    }
}
