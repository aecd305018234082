import ArgumentParser
import BertModel
import BertRuntime
import BertText
import BertTraining
import Foundation

/// `bertc train`: fine-tunes a model on a task with the task's recipe (graphs/tasks/<task>.json).
struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Fine-tune a model on a task (default recipe from graphs/tasks/<task>.json).")

    @Option(help: "Model directory (config, weights, vocab.txt).") var model: String
    @Option(help: "Task: \(TaskCatalog.names.joined(separator: ", ")) (default mrpc; --resume keeps the run's).")
    var task: String?
    @Option(help: "Run directory to write.") var out: String
    @OptionGroup var data: DataOptions
    @Option(help: "Epochs.") var epochs: Int?
    @Option(help: "Batch size.") var batchSize: Int?
    @Option(help: "Peak learning rate.") var lr: Double?
    @Option(help: "Maximum sequence length.") var seqLen: Int?
    @Option(help: "Sequence-length buckets, e.g. 32,64,96,128.") var buckets: String?
    @Option(help: "Training batches per length-sorted group; 0 cuts each bucket into batches of its own.")
    var groupBatches: Int?
    @Option(help: "Run the encoder's dense layers on the real tokens only, in multiples of N rows; 0 runs every padded position.")
    var packTokens: Int?
    @Option(help: "Random seed (head init, shuffles, dropout).") var seed: UInt64?
    @Option(help: "Optimizer config JSON (like graphs/optimizer-adamw.json).") var optimizerConfig: String?
    @Option(help: "Use only the first N training examples (smoke runs).") var limit: Int?
    @Flag(help: "Continue the run in --out from its checkpoint.") var resume = false
    @OptionGroup var squadFlags: SQuADFlags
    @OptionGroup var output: ReportOptions

    func validate() throws {
        for (name, value) in [("--epochs", epochs), ("--batch-size", batchSize), ("--seq-len", seqLen), ("--limit", limit)] {
            if let value, value <= 0 { throw ValidationError("\(name) must be positive") }
        }
        if let lr, !(lr > 0 && lr.isFinite) { throw ValidationError("--lr must be a positive number") }
        if let groupBatches, groupBatches < 0 { throw ValidationError("--group-batches must be 0 or more") }
        if let packTokens, packTokens < 0 { throw ValidationError("--pack-tokens must be 0 or more") }
        if let seqLen, seqLen < 3 { throw ValidationError("--seq-len must be at least 3") }
    }

    func run() throws {
        let run = RunDirectory(URL(fileURLWithPath: out))
        let (name, recipe) = try taskRecipe(resuming: run)
        let options = recipe.training

        let modelDir = try ModelDirectory.open(model)
        try modelDir.config.checkWorkload(batch: options.batchSize, sequenceLength: options.maxSequenceLength,
                                          training: true, source: modelDir.url.path)
        try modelDir.config.checkWorkload(batch: options.evalBatchSize, sequenceLength: options.maxSequenceLength,
                                          training: false, source: modelDir.url.path)
        if TaskCatalog.isSQuAD(name) { return try trainSQuAD(modelDir, recipe: recipe, run: run) }
        let spec = try TaskCatalog.spec(name)
        let head = spec.head
        let loaded = try modelDir.load(head: head, seed: options.seed)
        let parameters = loaded.parameters
        note(loaded.report.description)

        let (train, dev) = try examples(of: spec, for: modelDir, options: options)
        let trainer = try Trainer(config: modelDir.config, head: head, parameters: parameters,
                                  options: options, optimization: recipe.optimization)
        let summary = try trainer.train(train: train, dev: dev, run: run, resume: resume, task: spec.name)
        try save(parameters, of: modelDir, task: spec, in: run)
        try printSummary(summary)
    }

    // MARK: - Steps

    /// The task's name and its recipe: the task's default recipe (graphs/tasks/<task>.json), or
    /// a resumed run's own settings, with the options given here applied on top.
    private func taskRecipe(resuming run: RunDirectory) throws -> (String, TaskRecipe) {
        // A resumed run starts from its own settings; options given here must agree with them.
        let saved = resume ? try run.savedRecipe() : nil
        let asked = task ?? saved?.task ?? "mrpc"
        let name = TaskCatalog.isSQuAD(asked) ? TaskCatalog.squad : try TaskCatalog.spec(asked).name
        if let savedTask = saved?.task, savedTask != name {
            throw ValidationError("the run in \(out) is a \(savedTask) run; --resume cannot continue it as \(name)")
        }
        var recipe = try TaskRecipe.load(task: name, graphs: Repository.graphs())
        if let saved {
            recipe.training = saved.options
            recipe.optimization = saved.optimization
        }
        try applyOptions(to: &recipe)
        if name == TaskCatalog.squad {
            recipe.training.squad = squadFlags.apply(to: recipe.training.squad ?? SQuADOptions())
        }
        return (name, recipe)
    }

    /// `train --task squad`: windows of the SQuAD questions as examples, the span head, and
    /// dev evaluations scored by exact match and F1 (predictions.json in the run directory).
    private func trainSQuAD(_ modelDir: ModelDirectory, recipe: TaskRecipe, run: RunDirectory) throws {
        let options = recipe.training
        let squad = options.squad ?? SQuADOptions()
        let loaded = try modelDir.load(head: .span, seed: options.seed)
        note(loaded.report.description)
        let (train, dev) = try SQuADData.load(squad, model: modelDir, maxSequenceLength: options.maxSequenceLength,
                                              data: data.locator(), devPositions: true)
        let scorer = SQuADScorer(dataset: dev, options: squad, lowercase: modelDir.lowercase, directory: run.url)
        if scorer == nil { note("this build has no SQuAD post-processing: dev evaluations report the loss only") }
        let trainer = try Trainer(config: modelDir.config, head: .span, parameters: loaded.parameters,
                                  options: options, optimization: recipe.optimization, spanScorer: scorer)
        let examples = limit.map { Array(train.encoded.prefix($0)) } ?? train.encoded
        let summary = try trainer.train(train: examples, dev: dev.encoded, run: run, resume: resume, task: TaskCatalog.squad)
        try ModelDirectory.save(to: run.modelURL, config: modelDir.config, labels: nil, regression: false, span: true,
                                task: TaskCatalog.squad, parameters: loaded.parameters, vocab: modelDir.vocabURL,
                                lowercase: modelDir.lowercase)
        CrashPoints.reached("model.saved")
        note("fine-tuned model written to \(run.modelURL.path)")
        try printSummary(summary)
    }

    /// The training and optimizer options given on the command line, over `recipe`.
    private func applyOptions(to recipe: inout TaskRecipe) throws {
        if let optimizerConfig { recipe.optimization = try OptimizationConfig.load(URL(fileURLWithPath: optimizerConfig)) }
        if let epochs { recipe.training.epochs = epochs }
        if let batchSize { recipe.training.batchSize = batchSize }
        if let seqLen { recipe.training.maxSequenceLength = seqLen }
        if let buckets { recipe.training.buckets = try parseBuckets(buckets) }
        if let groupBatches { recipe.training.groupBatches = groupBatches }
        if let packTokens { recipe.training.packTokens = packTokens }
        if let seed { recipe.training.seed = seed }
        if let lr {
            recipe.optimization.learningRate.polynomial.initialLearningRate = lr
            recipe.optimization.learningRate.constant.learningRate = lr
        }
    }

    /// The task's training examples (the first --limit of them) and dev examples, encoded with
    /// the model's vocabulary.
    private func examples(of spec: TaskSpec, for modelDir: ModelDirectory, options: TrainingOptions) throws
        -> (train: [EncodedExample], dev: [EncodedExample]) {
        let tokenizer = try BertTokenizer(vocabularyFile: modelDir.vocabURL.path, lowercase: modelDir.lowercase)
        let encoder = try ExampleEncoder(tokenizer: tokenizer, maxLength: options.maxSequenceLength)
        let locator = try data.locator()
        var train = try spec.encode(.train, data: locator, encoder: encoder)
        if let limit { train = Array(train.prefix(limit)) }
        let dev = try spec.encode(.dev, data: locator, encoder: encoder)
        note("\(spec.name): \(train.count) training and \(dev.count) dev examples from \(locator.root)")
        return (train, dev)
    }

    /// Writes the fine-tuned model into the run directory (`model/`), with the task's labels.
    private func save(_ parameters: ParameterStore, of modelDir: ModelDirectory, task spec: TaskSpec,
                      in run: RunDirectory) throws {
        try ModelDirectory.save(to: run.modelURL, config: modelDir.config,
                                labels: spec.labelNames.isEmpty ? nil : spec.labelNames,
                                regression: spec.head == .regression, task: spec.name, parameters: parameters,
                                vocab: modelDir.vocabURL, lowercase: modelDir.lowercase)
        CrashPoints.reached("model.saved")
        note("fine-tuned model written to \(run.modelURL.path)")
    }

    private func printSummary(_ summary: TrainingSummary) throws {
        if output.json {
            try printJSON(summary)
        } else if summary.accuracy == nil {
            // A span run: exact match and F1 when the build scores them, else the loss alone.
            let scores = summary.exactMatch.map { String(format: "exact_match %.2f, f1 %.2f, ", $0, summary.f1 ?? .nan) } ?? ""
            print("dev " + scores + String(format: "loss %.4f after %d steps (%.0f s of training, %.1f examples/s)",
                                           summary.loss, summary.steps, summary.trainSeconds, summary.examplesPerSecond))
        } else {
            print(String(format: "dev accuracy %.4f, F1 %.4f, loss %.4f after %d steps (%.0f s of training, %.1f examples/s)",
                         summary.accuracy ?? .nan, summary.f1 ?? .nan, summary.loss, summary.steps,
                         summary.trainSeconds, summary.examplesPerSecond))
        }
    }
}
