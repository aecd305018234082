import ArgumentParser
import BertBundle
import BertModel
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
    @OptionGroup var output: ReportOptions

    func validate() throws {
        guard (model == nil) != (bundle == nil) else { throw ValidationError("give exactly one of --model and --bundle") }
        guard (sentence1 == nil) != (input == nil) else { throw ValidationError("give --sentence1 [--sentence2] or --input FILE") }
        if sentence2 != nil && sentence1 == nil { throw ValidationError("--sentence2 needs --sentence1") }
    }

    func run() throws {
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
}
