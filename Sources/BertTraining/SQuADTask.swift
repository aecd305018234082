// SQuAD as a span task: which files and articles a run trains and evaluates on, and their
// questions turned into model inputs. Questions are read with `SQuADReader` and cut into
// run_squad.py's windows by `SQuADFeatureConverter`; each window becomes one
// `EncodedExample` of its real tokens only (no padding), so length buckets and packed tokens
// apply as they do to sentence pairs. The answer's first and last token are the labels.

import BertModel
import BertText
import Foundation

/// The SQuAD settings of a run (run_squad.py's flags, the files and the articles used); a run
/// records them in `training.json`, and `--resume` must be given the same.
public struct SQuADOptions: Codable, Hashable, Sendable {
    /// Tokens between the starts of a question's context windows.
    public var docStride = 128
    /// Question pieces kept (the rest is cut).
    public var maxQueryLength = 64
    /// SQuAD v2.0: questions may have no answer (`is_impossible`).
    public var versionTwoWithNegative = false
    /// v2.0: answer "" when the null score beats the best span by more than this.
    public var nullScoreDiffThreshold = 0.0
    public var nBestSize = 20
    public var maxAnswerLength = 30
    /// The training file, relative to the data root or absolute; nil: the default protocol
    /// (`defaultSources`).
    public var trainFile: String?
    /// The evaluation file, as `trainFile`.
    public var predictFile: String?
    /// The articles (`data` entries, from 0) of each file used, as "first-last"; nil: the
    /// default protocol's.
    public var trainArticles: String?
    public var evalArticles: String?

    public init() {}

    enum CodingKeys: String, CodingKey {
        case docStride = "doc_stride", maxQueryLength = "max_query_length"
        case versionTwoWithNegative = "version_2_with_negative", nullScoreDiffThreshold = "null_score_diff_threshold"
        case nBestSize = "n_best_size", maxAnswerLength = "max_answer_length"
        case trainFile = "train_file", predictFile = "predict_file"
        case trainArticles = "train_articles", evalArticles = "eval_articles"
    }

    /// Missing keys keep their defaults.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        docStride = try c.decodeIfPresent(Int.self, forKey: .docStride) ?? docStride
        maxQueryLength = try c.decodeIfPresent(Int.self, forKey: .maxQueryLength) ?? maxQueryLength
        versionTwoWithNegative = try c.decodeIfPresent(Bool.self, forKey: .versionTwoWithNegative) ?? versionTwoWithNegative
        nullScoreDiffThreshold = try c.decodeIfPresent(Double.self, forKey: .nullScoreDiffThreshold) ?? nullScoreDiffThreshold
        nBestSize = try c.decodeIfPresent(Int.self, forKey: .nBestSize) ?? nBestSize
        maxAnswerLength = try c.decodeIfPresent(Int.self, forKey: .maxAnswerLength) ?? maxAnswerLength
        trainFile = try c.decodeIfPresent(String.self, forKey: .trainFile)
        predictFile = try c.decodeIfPresent(String.self, forKey: .predictFile)
        trainArticles = try c.decodeIfPresent(String.self, forKey: .trainArticles)
        evalArticles = try c.decodeIfPresent(String.self, forKey: .evalArticles)
        for (key, value) in [(CodingKeys.docStride, docStride), (.nBestSize, nBestSize), (.maxAnswerLength, maxAnswerLength)]
        where value <= 0 {
            throw DecodingError.dataCorruptedError(forKey: key, in: c, debugDescription: "must be positive, got \(value)")
        }
        guard maxQueryLength >= 0 else {
            throw DecodingError.dataCorruptedError(forKey: .maxQueryLength, in: c,
                                                   debugDescription: "must be 0 or more, got \(maxQueryLength)")
        }
        guard nullScoreDiffThreshold.isFinite else {
            throw DecodingError.dataCorruptedError(forKey: .nullScoreDiffThreshold, in: c, debugDescription: "must be finite")
        }
        for (key, value) in [(CodingKeys.trainArticles, trainArticles), (.evalArticles, evalArticles)] {
            if let value, SQuADSource.articles(value) == nil {
                throw DecodingError.dataCorruptedError(forKey: key, in: c,
                                                       debugDescription: "must be \"first-last\" article numbers, got \"\(value)\"")
            }
        }
    }
}

/// One SQuAD file and the articles of it a run uses.
public struct SQuADSource: Sendable, Equatable, CustomStringConvertible {
    /// The file's path.
    public var path: String
    /// The articles used; nil: all.
    public var articles: ClosedRange<Int>?

    public init(path: String, articles: ClosedRange<Int>?) {
        self.path = path
        self.articles = articles
    }

    public var description: String {
        path + (articles.map { " (articles \($0.lowerBound)-\($0.upperBound))" } ?? "")
    }

    /// "first-last" (or one number) as a range of article numbers, or nil.
    public static func articles(_ text: String) -> ClosedRange<Int>? {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false).map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard (1...2).contains(parts.count), let first = parts[0], let last = parts.last!, 0 <= first, first <= last else {
            return nil
        }
        return first...last
    }

    /// The default protocol: train-v1.1.json / dev-v1.1.json (v2.0: train-v2.0 / dev-v2.0)
    /// when the data root has the training file; otherwise the dev file alone, its articles
    /// 0-35 for training and 36-47 for evaluation (8,123 and 2,447 questions of dev-v1.1).
    /// Files and articles in `options` replace the defaults one by one.
    public static func defaultSources(_ options: SQuADOptions, data: DataLocator) throws -> (train: SQuADSource, dev: SQuADSource) {
        let version = options.versionTwoWithNegative ? "v2.0" : "v1.1"
        let trainName = "squad/train-\(version).json", devName = "squad/dev-\(version).json"
        let haveTrain = data.fileExists(trainName)
        let train = try resolve(options.trainFile ?? (haveTrain ? trainName : devName), data: data)
        let dev = try resolve(options.predictFile ?? devName, data: data)
        let splitDev = options.trainFile == nil && options.predictFile == nil && !haveTrain
        func range(_ text: String?, _ fallback: ClosedRange<Int>?) throws -> ClosedRange<Int>? {
            guard let text else { return fallback }
            guard let r = articles(text) else { throw TaskRecipeError(file: "squad", message: "bad article range \"\(text)\"") }
            return r
        }
        return (SQuADSource(path: train, articles: try range(options.trainArticles, splitDev ? 0...35 : nil)),
                SQuADSource(path: dev, articles: try range(options.evalArticles, splitDev ? 36...47 : nil)))
    }

    /// An absolute path as is; a relative one under the data root, which must hold it.
    static func resolve(_ path: String, data: DataLocator) throws -> String {
        path.hasPrefix("/") ? path : try data.existingFile(path)
    }
}

/// Questions of one SQuAD file cut into windows, ready for the span head.
public struct SQuADDataset: Sendable {
    /// The questions, in file order (only the articles asked for).
    public var examples: [SQuADExample]
    /// Their windows; `features[i].exampleIndex` indexes `examples`.
    public var features: [SQuADFeature]
    /// One model input per feature: its real tokens, and the answer's first and last token
    /// (0 and 0, [CLS], when the window does not hold it or the question has none).
    public var encoded: [EncodedExample]
    /// Questions training left out because their answer is not in the context's words.
    public var dropped: Int
}

/// Reads SQuAD files into `SQuADDataset`s with one converter (vocabulary and window settings).
public struct SQuADTask: Sendable {
    public let options: SQuADOptions
    public let converter: SQuADFeatureConverter

    /// - Parameter maxSequenceLength: the window length (run_squad.py's max_seq_length, 384).
    public init(options: SQuADOptions, vocabulary: Vocabulary, lowercase: Bool, maxSequenceLength: Int) throws {
        self.options = options
        converter = try SQuADFeatureConverter(vocabulary: vocabulary, lowercase: lowercase, maxSeqLength: maxSequenceLength,
                                              docStride: options.docStride, maxQueryLength: options.maxQueryLength)
    }

    /// The training windows of `source`, as run_squad.py trains (the first answer of each
    /// question; questions whose answer is not in the context are dropped and counted).
    public func trainingSet(_ source: SQuADSource) throws -> SQuADDataset {
        let (examples, dropped) = try SQuADReader.read(source.path, options: readingOptions(training: true))
        let used = Self.select(examples, source.articles)
        let features = converter.features(of: used, isTraining: true)
        let encoded = features.map { Self.encode($0, start: $0.startPosition ?? 0, end: $0.endPosition ?? 0) }
        return SQuADDataset(examples: used, features: features, encoded: encoded, dropped: dropped)
    }

    /// Every question of `source` for evaluation (all answers kept, none dropped). With
    /// `positions`, each window is labelled with the training answer's positions as
    /// `trainingSet` would (for the dev loss); a question training would drop gets 0 and 0.
    public func evaluationSet(_ source: SQuADSource, positions: Bool) throws -> SQuADDataset {
        let examples = Self.select(try SQuADReader.read(source.path, options: readingOptions(training: false)).examples,
                                   source.articles)
        let features = converter.features(of: examples, isTraining: false)
        var labels: [String: [(Int, Int)]] = [:]
        if positions {
            let trained = Self.select(try SQuADReader.read(source.path, options: readingOptions(training: true)).examples,
                                      source.articles)
            for (i, example) in trained.enumerated() {
                labels[example.id] = converter.features(of: example, exampleIndex: i, isTraining: true)
                    .map { ($0.startPosition ?? 0, $0.endPosition ?? 0) }
            }
        }
        let encoded = features.map { f -> EncodedExample in
            let span = labels[examples[f.exampleIndex].id].flatMap { f.docSpanIndex < $0.count ? $0[f.docSpanIndex] : nil }
            return Self.encode(f, start: span?.0 ?? 0, end: span?.1 ?? 0)
        }
        return SQuADDataset(examples: examples, features: features, encoded: encoded, dropped: 0)
    }

    /// One question about one context given as text (`bertc predict --question --context`),
    /// read as a SQuAD file that holds only it would be, with the id "0".
    public func dataset(question: String, context: String) throws -> SQuADDataset {
        let file: [String: Any] = ["data": [["title": "", "paragraphs": [["context": context, "qas": [["id": "0", "question": question]]]]]]]
        let data = try JSONSerialization.data(withJSONObject: file)
        let examples = try SQuADReader.read(data: data, source: "the question and context given",
                                            options: readingOptions(training: false)).examples
        let features = converter.features(of: examples, isTraining: false)
        return SQuADDataset(examples: examples, features: features, encoded: features.map { Self.encode($0, start: 0, end: 0) },
                            dropped: 0)
    }

    private func readingOptions(training: Bool) -> SQuADReadingOptions {
        SQuADReadingOptions(isTraining: training, versionTwoWithNegative: options.versionTwoWithNegative,
                            firstAnswerOnly: training)
    }

    private static func select(_ examples: [SQuADExample], _ articles: ClosedRange<Int>?) -> [SQuADExample] {
        guard let articles else { return examples }
        return examples.filter { articles.contains($0.articleIndex) }
    }

    /// The feature's real tokens (its input mask) as a model input with span labels.
    private static func encode(_ f: SQuADFeature, start: Int, end: Int) -> EncodedExample {
        let length = f.tokens.count
        return EncodedExample(tokenIDs: Array(f.inputIDs.prefix(length)), typeIDs: Array(f.segmentIDs.prefix(length)),
                              startPosition: Int32(start), endPosition: Int32(end))
    }
}
