import ArgumentParser
import BertModel
import BertRuntime
import BertText
import BertTraining
import Foundation

/// `bertc eval`: loss and metrics of a model or run on a task split.
struct Eval: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Evaluate a model or run on a task split.")

    @Option(help: "Model or run directory.") var model: String
    @Option(help: "Task: \(TaskCatalog.names.joined(separator: ", ")).") var task: String = "mrpc"
    @Option(help: "Split: dev or test.") var split: String = "dev"
    @OptionGroup var data: DataOptions
    @Option(help: "Maximum sequence length.") var seqLen: Int = 128
    @Option(help: "Batch size.") var batchSize: Int = 64
    @Option(help: "Seed for a task head the model lacks.") var seed: UInt64 = 0
    @OptionGroup var output: ReportOptions

    func validate() throws {
        guard ["dev", "test", "train"].contains(split) else { throw ValidationError("--split must be dev or test") }
        guard seqLen >= 3, batchSize > 0 else { throw ValidationError("--seq-len must be >= 3 and --batch-size positive") }
    }

    func run() throws {
        let spec = try TaskCatalog.spec(task)
        let modelDir = try ModelDirectory.open(model)
        try modelDir.config.checkWorkload(batch: batchSize, sequenceLength: seqLen, training: false, source: modelDir.url.path)
        let head = modelDir.head(fallback: spec.head)
        guard head == spec.head else {
            throw ValidationError("the model's head (\(head)) does not fit task \(spec.name) (\(spec.head))")
        }
        let loaded = try modelDir.load(head: head, seed: seed)
        let parameters = loaded.parameters
        if !loaded.report.initialized.isEmpty { note(loaded.report.description) }
        let tokenizer = try BertTokenizer(vocabularyFile: modelDir.vocabURL.path, lowercase: modelDir.lowercase)
        let encoder = try ExampleEncoder(tokenizer: tokenizer, maxLength: seqLen)
        let examples = try spec.encode(DatasetSplit(rawValue: split)!, data: data.locator(), encoder: encoder)
        let buckets = TrainingOptions().buckets.filter { $0 < seqLen } + [seqLen]
        let evaluator = try Evaluator(config: modelDir.config, head: head, batchSize: batchSize, buckets: buckets)
        let result = try evaluator.evaluate(examples, parameters: parameters)
        if output.json { try printJSON(result) } else { print("\(spec.name) \(split): \(result.summary)") }
    }
}
