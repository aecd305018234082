import BertGraph
import BertRuntime
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
    /// Whether the tokenizer lower-cases and strips accents (`do_lower_case` of
    /// `tokenizer_config.json`; uncased when absent, as the default model is).
    public let lowercase: Bool

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

        var labels: [String]? = nil
        var task: String? = nil
        var regression = false
        if let object = try? JSONSerialization.jsonObject(with: Data(contentsOf: configURL)) as? [String: Any] {
            task = object["finetuning_task"] as? String
            regression = (object["problem_type"] as? String) == "regression"
            if let map = object["id2label"] as? [String: String] {
                let pairs = map.compactMap { k, v in Int(k).map { ($0, v) } }.sorted { $0.0 < $1.0 }
                if pairs.map(\.0) == Array(0..<pairs.count) { labels = pairs.map(\.1) } else {
                    throw ModelError.badConfig(configURL.path, "id2label keys must be 0..<n, got \(map.keys.sorted())")
                }
            }
        }
        var lowercase = true
        if let data = try? Data(contentsOf: url.appendingPathComponent("tokenizer_config.json")),
           let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
           let flag = object["do_lower_case"] as? Bool {
            lowercase = flag
        }
        return ModelDirectory(url: url, config: config, vocabURL: vocab, labels: labels, task: task,
                              isRegression: regression, lowercase: lowercase)
    }

    /// The task head this model's config describes, or `fallback` when it has none.
    public func head(fallback: TaskHead) -> TaskHead {
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
