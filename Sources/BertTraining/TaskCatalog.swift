import BertModel
import BertText
import Foundation

/// A fine-tuning task: where its examples come from, its head, and the names its labels are
/// shown and exported with.
public struct TaskSpec: Sendable {
    /// The command-line name (`mrpc`, `sst2`, ...).
    public let name: String
    public let processor: any TaskProcessor
    /// Label names by class id for predictions and bundles (empty for regression).
    public let labelNames: [String]

    public var head: TaskHead {
        processor.isRegression ? .regression : .classification(labels: processor.labels.count)
    }

    /// The examples of `split`, tokenized and packed; unlabeled examples are an error here.
    public func encode(_ split: DatasetSplit, data: DataLocator, encoder: ExampleEncoder) throws -> [EncodedExample] {
        try processor.examples(split, in: data).map { e in
            let label: Float
            switch e.label {
            case .category(let i)?: label = Float(i)
            case .score(let s)?: label = s
            case nil: throw TrainingError.noExamples("labels for \(name) \(split.rawValue) (example \(e.guid) has none)")
            }
            return encoder.encode(e.textA, e.textB, label: label)
        }
    }
}

/// The tasks bertc knows, by command-line name.
public enum TaskCatalog {
    public static let names = ["mrpc", "sst2", "cola", "rte", "stsb", squad]
    /// SQuAD: a span task, read by `SQuADTask` rather than a `TaskProcessor`.
    public static let squad = "squad"

    /// Whether `name` is SQuAD's (`--task squad`).
    public static func isSQuAD(_ name: String) -> Bool { canonical(name) == squad }

    private static func canonical(_ name: String) -> String { name.lowercased().replacingOccurrences(of: "-", with: "") }

    /// The classification or regression task called `name`.
    public static func spec(_ name: String) throws -> TaskSpec {
        switch canonical(name) {
        case "mrpc": return TaskSpec(name: "mrpc", processor: MRPCProcessor(), labelNames: ["not_equivalent", "equivalent"])
        case "sst2": return TaskSpec(name: "sst2", processor: GLUETableTask.sst2, labelNames: ["negative", "positive"])
        case "cola": return TaskSpec(name: "cola", processor: GLUETableTask.cola, labelNames: ["unacceptable", "acceptable"])
        case "rte": return TaskSpec(name: "rte", processor: GLUETableTask.rte, labelNames: ["entailment", "not_entailment"])
        case "stsb": return TaskSpec(name: "stsb", processor: GLUETableTask.stsb, labelNames: [])
        case squad: throw TaskRecipeError(file: name, message: "SQuAD is a span task; it is read by SQuADTask")
        default: throw TaskRecipeError(file: name, message: "unknown task; known tasks: \(names.joined(separator: ", "))")
        }
    }
}

/// A task's default recipe (`graphs/tasks/<task>.json`): training options and the optimizer
/// config, so `bertc train --task mrpc` alone reproduces the documented result.
public struct TaskRecipe: Codable, Sendable {
    public var training: TrainingOptions
    public var optimization: OptimizationConfig

    /// The most bytes a recipe file may have.
    public static let maximumFileSize = 16 << 20

    /// Reads `graphs/tasks/<task>.json` from `graphs`; a task without a recipe gets the defaults.
    public static func load(task: String, graphs: URL?) throws -> TaskRecipe {
        guard let graphs else { return TaskRecipe(training: TrainingOptions(), optimization: OptimizationConfig()) }
        let url = graphs.appendingPathComponent("tasks/\(task).json")
        guard let data = try? FileAccess.read(url.path, limit: maximumFileSize, what: "a task recipe") else {
            return TaskRecipe(training: TrainingOptions(), optimization: OptimizationConfig())
        }
        do {
            return try JSONDecoder().decode(TaskRecipe.self, from: data)
        } catch {
            throw TaskRecipeError(file: url.path, message: "\(error)")
        }
    }
}

public struct TaskRecipeError: Error, CustomStringConvertible {
    public var file: String
    public var message: String
    public var description: String { "\(file): \(message)" }
}
