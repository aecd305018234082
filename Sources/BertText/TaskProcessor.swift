// Task processors in the manner of google-research/bert run_classifier.py's DataProcessor: each
// GLUE task turns its files into `InputExample`s and knows its label list.

/// A data split.
public enum DatasetSplit: String, CaseIterable, Sendable {
    case train, dev, test
}

/// The gold label of an example.
public enum ExampleLabel: Equatable, Sendable {
    /// A class, as an index into the task's `labels`.
    case category(Int)
    /// A regression target (STS-B similarity, 0...5).
    case score(Float)
}

/// One example: one or two texts and a label (nil for unlabeled test data).
public struct InputExample: Equatable, Sendable {
    /// A unique id, `<split>-<line>` with the file's 1-based line number.
    public var guid: String
    /// The first (or only) text.
    public var textA: String
    /// The second text of a pair task, or nil.
    public var textB: String?
    /// The gold label, or nil for unlabeled data.
    public var label: ExampleLabel?

    public init(guid: String, textA: String, textB: String? = nil, label: ExampleLabel?) {
        self.guid = guid
        self.textA = textA
        self.textB = textB
        self.label = label
    }
}

/// Produces the examples of one task's splits.
public protocol TaskProcessor: Sendable {
    /// The task's name, e.g. `MRPC`.
    var name: String { get }
    /// The class labels in index order (as written in the files); empty for regression.
    var labels: [String] { get }
    /// The examples of `split`, read from `data`.
    /// - Throws: `DataError` naming the file (and line) that is missing or malformed.
    func examples(_ split: DatasetSplit, in data: DataLocator) throws -> [InputExample]
}

extension TaskProcessor {
    /// Whether the task predicts a number instead of a class.
    public var isRegression: Bool { labels.isEmpty }

    /// The label of `value` read at `file`:`line`.
    /// - Throws: `DataError.badLabel` when it is not a label of this task.
    func parseLabel(_ value: String, file: String, line: Int) throws -> ExampleLabel {
        if isRegression {
            guard let score = Float(value), score.isFinite else {
                throw DataError.badLabel(file: file, line: line, value: value, expected: "a number")
            }
            return .score(score)
        }
        guard let index = labels.firstIndex(of: value) else {
            throw DataError.badLabel(file: file, line: line, value: value,
                                     expected: "one of \(labels.joined(separator: ", "))")
        }
        return .category(index)
    }
}

/// The task processors by lower-cased name (`mrpc`, `sst-2`, `cola`, `rte`, `sts-b`).
public let taskProcessors: [String: any TaskProcessor] = [
    "mrpc": MRPCProcessor(),
    "sst-2": GLUETableTask.sst2,
    "cola": GLUETableTask.cola,
    "rte": GLUETableTask.rte,
    "sts-b": GLUETableTask.stsb,
]
