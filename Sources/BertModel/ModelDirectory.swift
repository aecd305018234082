import BertGraph
import BertRuntime
import BertText
import Foundation

/// A model directory: a config (`config.json` or TF's `bert_config.json`), weights
/// (`model.safetensors` or a TF checkpoint) and `vocab.txt`; a fine-tuned model's config also
/// names its task and labels (`finetuning_task`, `id2label`, as Hugging Face writes them).
/// A training run directory is accepted too: its `model/` folder is the model.
public struct ModelDirectory: Sendable {
    public let url: URL
    public let config: BertConfig
    public let vocabURL: URL
    /// Label names by class id, when the model was fine-tuned.
    public let labels: [String]?
    /// The task the model was fine-tuned on, when known.
    public let task: String?
    /// True when the config says the head is a regression head.
    public let isRegression: Bool
    /// True when the config's architecture is `BertForQuestionAnswering`: a span head.
    public let isSpan: Bool
    /// Whether the tokenizer lower-cases and strips accents (`do_lower_case` of
    /// `tokenizer_config.json`; uncased when absent, as the default model is).
    public let lowercase: Bool

    /// The `architectures` entry of a span model's config, as Hugging Face names it.
    public static let spanArchitecture = "BertForQuestionAnswering"

    /// The subfolder of a run directory that holds its model.
    public static let runModelFolder = "model"

    /// Opens a model directory or a run directory.
    public static func open(_ path: String) throws -> ModelDirectory {
        let fm = FileManager.default
        var url = URL(fileURLWithPath: path)
        var isDir: ObjCBool = false
        guard fm.fileExists(atPath: url.path, isDirectory: &isDir) else {
            throw ModelError.notAModelDirectory(path, "it does not exist")
        }
        guard isDir.boolValue else { throw ModelError.notAModelDirectory(path, "it is a file, not a directory") }
        let inner = url.appendingPathComponent(runModelFolder)
        if fm.fileExists(atPath: inner.appendingPathComponent("config.json").path) { url = inner }

        let configURL = ["config.json", "bert_config.json"].map { url.appendingPathComponent($0) }
            .first { fm.fileExists(atPath: $0.path) }
        guard let configURL else { throw ModelError.notAModelDirectory(url.path, "no config.json or bert_config.json") }
        let vocab = url.appendingPathComponent("vocab.txt")
        guard fm.fileExists(atPath: vocab.path) else { throw ModelError.notAModelDirectory(url.path, "no vocab.txt") }
        let config = try BertConfig.load(configURL)
        let head = try decodeJSON(HeadSettings.self, from: configURL, what: "a model config")
        let labels = try head.labelNames(file: configURL.path)
        let vocabulary = try Vocabulary(contentsOf: vocab.path)
        guard vocabulary.count <= config.vocabSize else {
            throw ModelError.notAModelDirectory(
                url.path, "\(vocab.path) holds \(vocabulary.count) tokens but the config's vocab_size is "
                    + "\(config.vocabSize), so ids would run past the embedding table; is it the model's own vocab.txt?")
        }
        var lowercase = true
        let tokenizerConfig = url.appendingPathComponent("tokenizer_config.json")
        if fm.fileExists(atPath: tokenizerConfig.path) {
            lowercase = try decodeJSON(TokenizerSettings.self, from: tokenizerConfig, what: "a tokenizer config").doLowerCase ?? true
        }
        let task = head.finetuningTask, regression = head.problemType == "regression"
        return ModelDirectory(url: url, config: config, vocabURL: vocab, labels: labels, task: task,
                              isRegression: regression, isSpan: head.architectures?.contains(spanArchitecture) ?? false,
                              lowercase: lowercase)
    }

    /// The task head this model's config describes, or `fallback` when it has none.
    public func head(fallback: TaskHead) -> TaskHead {
        if isSpan { return .span }
        if isRegression { return .regression }
        if let labels { return .classification(labels: labels.count) }
        return fallback
    }

    /// Loads the weights into `store` strictly (missing and unexpected tensors are errors; a task
    /// head the checkpoint lacks is initialised from `seed` and reported).
    public func loadParameters(into store: ParameterStore, seed: UInt64) throws -> LoadReport {
        let specs = store.names.map { ($0, store.shape($0)!) }
        let (tensors, report) = try CheckpointLoader.load(from: url, parameters: specs, seed: seed)
        for name in store.names { try store.set(name, tensors[name]!) }
        return report
    }
}

// MARK: - The config's task head and the tokenizer config

/// The fields of `config.json` that describe a fine-tuned head, as Hugging Face writes them.
private struct HeadSettings: Decodable {
    var architectures: [String]?
    var finetuningTask: String?
    var problemType: String?
    var id2label: [String: String]?
    var label2id: [String: Int]?
    var numLabels: Int?

    enum CodingKeys: String, CodingKey {
        case architectures, finetuningTask = "finetuning_task", problemType = "problem_type", id2label, label2id, numLabels = "num_labels"
    }

    /// More classes than any classification head bertc trains.
    static let maximumLabels = 100_000

    /// The label names of `id2label` (keys 0..<n), checked against `label2id` and `num_labels`.
    func labelNames(file: String) throws -> [String]? {
        func bad(_ message: String) -> ModelError { .badConfig(file, message) }
        if let numLabels, !(1...Self.maximumLabels).contains(numLabels) {
            throw bad("num_labels must be between 1 and \(Self.maximumLabels), got \(numLabels)")
        }
        guard let id2label else { return nil }
        guard !id2label.isEmpty, id2label.count <= Self.maximumLabels else {
            throw bad("id2label must name between 1 and \(Self.maximumLabels) labels, got \(id2label.count)")
        }
        let pairs = id2label.compactMap { k, v in Int(k).map { ($0, v) } }.sorted { $0.0 < $1.0 }
        guard pairs.map(\.0) == Array(0..<id2label.count) else {
            throw bad("id2label keys must be 0..<\(id2label.count), got \(id2label.keys.sorted())")
        }
        let labels = pairs.map(\.1)
        if let numLabels, numLabels != labels.count {
            throw bad("num_labels is \(numLabels) but id2label names \(labels.count) labels")
        }
        if let label2id {
            // A name used twice (Hugging Face's LABEL_0 style never is) can map to one id only.
            for (id, label) in labels.enumerated() where labels.firstIndex(of: label) == id && label2id[label] != id {
                throw bad("label2id maps \"\(label)\" to \(label2id[label].map(String.init) ?? "nothing"), "
                    + "but id2label gives it id \(id)")
            }
        }
        return labels
    }
}

/// `tokenizer_config.json`: only whether the tokenizer lower-cases.
private struct TokenizerSettings: Decodable {
    var doLowerCase: Bool?

    enum CodingKeys: String, CodingKey { case doLowerCase = "do_lower_case" }
}

/// Decodes a JSON file of at most `BertConfig.maximumFileSize` bytes.
private func decodeJSON<T: Decodable>(_ type: T.Type, from url: URL, what: String) throws -> T {
    let data: Data
    do { data = try FileAccess.read(url.path, limit: BertConfig.maximumFileSize, what: what) } catch {
        throw ModelError.unreadable(url.path, FileAccess.reason(for: error))
    }
    do { return try JSONDecoder().decode(T.self, from: data) } catch {
        switch error {
        case DecodingError.typeMismatch(let expected, let context):
            let key = context.codingPath.map(\.stringValue).joined(separator: ".")
            throw ModelError.badConfig(url.path, "\"\(key)\" must be \(expected == Bool.self ? "true or false" : "a \(expected)")")
        case DecodingError.valueNotFound(_, let context), DecodingError.keyNotFound(_, let context):
            throw ModelError.badConfig(url.path, "at \"\(context.codingPath.map(\.stringValue).joined(separator: "."))\": "
                + context.debugDescription)
        default:
            throw ModelError.badConfig(url.path, "not valid JSON")
        }
    }
}
