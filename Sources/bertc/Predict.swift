import ArgumentParser
import BertBundle
import BertModel
import BertTraining
import Foundation

/// `bertc predict`: logits, class id and label for sentence pairs.
struct Predict: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Predict sentence pairs with a model or a bundle.")

    @Option(help: "Model or run directory.") var model: String?
    @Option(help: "Exported bundle directory.") var bundle: String?
    @Option(help: "First sentence.") var sentence1: String?
    @Option(help: "Second sentence.") var sentence2: String?
    @Option(help: ArgumentHelp("TSV file of pairs.", discussion: """
        Either a header naming sentence1 and sentence2 (or GLUE's #1 String and #2 String) \
        columns, as GLUE's dev.tsv has, or no header and one or two text columns per line.
        """)) var input: String?
    @Option(help: "Seed for a task head the model lacks.") var seed: UInt64 = 0
    @Option(help: "squad: answer questions about a context with a span model (default: the model's own task).")
    var task: String?
    @Option(help: "SQuAD: the question.") var question: String?
    @Option(help: "SQuAD: the context the answer is taken from.") var context: String?
    @Option(help: "SQuAD with --input FILE.json: write predictions.json and nbest_predictions.json into this directory.")
    var out: String?
    @Option(help: "SQuAD: window length (default 384).") var seqLen: Int = 384
    @OptionGroup var squadFlags: SQuADFlags
    @OptionGroup var output: ReportOptions

    func validate() throws {
        guard (model == nil) != (bundle == nil) else { throw ValidationError("give exactly one of --model and --bundle") }
        if task.map(TaskCatalog.isSQuAD) == true {
            guard model != nil else { throw ValidationError("--task squad predicts with --model") }
            guard (question != nil && context != nil) != (input != nil) else {
                throw ValidationError("give --question and --context, or --input FILE (a SQuAD JSON file)")
            }
            guard seqLen >= 3 else { throw ValidationError("--seq-len must be at least 3") }
            return
        }
        guard (sentence1 == nil) != (input == nil) else { throw ValidationError("give --sentence1 [--sentence2] or --input FILE") }
        if sentence2 != nil && sentence1 == nil { throw ValidationError("--sentence2 needs --sentence1") }
    }

    func run() throws {
        if task.map(TaskCatalog.isSQuAD) == true { return try answerQuestions() }
        let pairs = try input.map(SamplePairs.read(tsv:)) ?? [(sentence1!, sentence2)]
        guard !pairs.isEmpty else { throw ValidationError("\(input ?? "--input") holds no sentences") }
        let prediction: Prediction
        if let model {
            let (predictor, report) = try Predictor.load(try ModelDirectory.open(model), seed: seed)
            if !report.initialized.isEmpty { note("note: \(report.description)") }
            prediction = try predictor.predict(pairs)
        } else {
            prediction = try BundlePrediction.run(bundle: URL(fileURLWithPath: bundle!), pairs: pairs)
        }
        if output.json {
            try printJSON(prediction)
        } else {
            for (i, row) in prediction.logits.enumerated() {
                let logits = row.map { String(format: "%.4f", $0) }.joined(separator: ", ")
                print("\(i)\t\(prediction.classes[i]) (class \(prediction.classIDs[i]))\tlogits [\(logits)]")
            }
        }
    }

    /// `predict --task squad`: the answer to each question, from the span model's logits on
    /// the question's windows through SQuAD post-processing.
    private func answerQuestions() throws {
        let modelDir = try ModelDirectory.open(model!)
        guard modelDir.head(fallback: .span) == .span else {
            throw ValidationError("\(model!) holds a \(modelDir.head(fallback: .span)) model, not a span model for SQuAD")
        }
        try modelDir.config.checkWorkload(batch: 32, sequenceLength: seqLen, training: false, source: modelDir.url.path)
        let saved = try RunDirectory(URL(fileURLWithPath: model!)).savedRecipe()?.options.squad
        let options = squadFlags.apply(to: saved ?? SQuADOptions())
        let task = try SQuADData.task(options, model: modelDir, maxSequenceLength: seqLen)
        let dataset = try input.map { try task.evaluationSet(SQuADSource(path: $0, articles: nil), positions: false) }
            ?? task.dataset(question: question!, context: context!)
        guard !dataset.encoded.isEmpty else { throw ValidationError("\(input ?? "the input") holds no questions") }
        let loaded = try modelDir.load(head: .span, seed: seed)
        if !loaded.report.initialized.isEmpty { note("note: \(loaded.report.description)") }
        let buckets = [128, 192, 256, 320].filter { $0 < seqLen } + [seqLen]
        let logits = try Evaluator(config: modelDir.config, head: .span, batchSize: 32, buckets: buckets)
            .spanLogits(dataset.encoded, parameters: loaded.parameters)
        let scorer = SQuADScorer(dataset: dataset, options: options, lowercase: modelDir.lowercase)
        let directory = try out.map { path -> URL in
            let url = URL(fileURLWithPath: path)
            try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
            return url
        }
        let answers = try scorer.answers(logits, writingTo: directory)
        if output.json, input == nil {
            try printJSON(answers[0])
        } else if output.json {
            try printJSON(answers)
        } else {
            for a in answers {
                let span = a.start.map { "characters \($0)..<\(a.end ?? $0)" } ?? "no answer"
                print("\(a.id)\t\(a.answer)\tscore \(String(format: "%.4f", a.score))\t\(span)")
            }
        }
    }
}

