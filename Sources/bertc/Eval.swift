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
    @Option(help: "Maximum sequence length (default 128; SQuAD: the run's, else 384).") var seqLen: Int?
    @Option(help: "Batch size.") var batchSize: Int = 64
    @Option(help: "Seed for a task head the model lacks.") var seed: UInt64 = 0
    @Option(help: "SQuAD: write predictions.json and nbest_predictions.json (and null_odds.json) into this directory.")
    var out: String?
    @OptionGroup var squadFlags: SQuADFlags
    @OptionGroup var output: ReportOptions

    func validate() throws {
        guard ["dev", "test", "train"].contains(split) else { throw ValidationError("--split must be dev or test") }
        guard (seqLen ?? 3) >= 3, batchSize > 0 else { throw ValidationError("--seq-len must be >= 3 and --batch-size positive") }
    }

    func run() throws {
        if TaskCatalog.isSQuAD(task) { return try evaluateSQuAD() }
        let seqLen = self.seqLen ?? 128
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

    /// `eval --task squad`: the dev loss, exact match and F1 of a span model, with the
    /// settings of the run that made it (its training.json) when the model is a run directory.
    private func evaluateSQuAD() throws {
        let modelDir = try ModelDirectory.open(model)
        guard modelDir.head(fallback: .span) == .span else {
            throw ValidationError("\(model) holds a \(modelDir.head(fallback: .span)) model, not a span model for SQuAD")
        }
        let saved = try RunDirectory(URL(fileURLWithPath: model)).savedRecipe()?.options
        let recipe = try saved ?? TaskRecipe.load(task: TaskCatalog.squad, graphs: Repository.graphs()).training
        let squad = squadFlags.apply(to: recipe.squad ?? SQuADOptions())
        let seqLen = self.seqLen ?? (recipe.squad == nil ? 384 : recipe.maxSequenceLength)
        try modelDir.config.checkWorkload(batch: batchSize, sequenceLength: seqLen, training: false, source: modelDir.url.path)
        let loaded = try modelDir.load(head: .span, seed: seed)
        if !loaded.report.initialized.isEmpty { note(loaded.report.description) }
        let dev = try SQuADData.dev(squad, model: modelDir, maxSequenceLength: seqLen, data: data.locator())
        let directory = try out.map { path -> URL in
            let url = URL(fileURLWithPath: path)
            try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
            return url
        }
        let scorer = SQuADScorer(dataset: dev, options: squad, lowercase: modelDir.lowercase, directory: directory)
        if scorer == nil { note("this build has no SQuAD post-processing: only the loss is reported") }
        let buckets = (recipe.squad == nil ? [128, 192, 256, 320] : recipe.buckets).filter { $0 < seqLen } + [seqLen]
        let evaluator = try Evaluator(config: modelDir.config, head: .span, batchSize: batchSize, buckets: buckets,
                                      spanScorer: scorer)
        let result = try evaluator.evaluate(dev.encoded, parameters: loaded.parameters)
        if output.json { try printJSON(result) } else { print("squad \(split): \(result.summary)") }
    }
}
