// `bertc export`: writes a model as an ONNX file or a native bundle, then reads back what it
// wrote and compares it with the in-memory model on sample pairs (library: `ModelExport`).

import ArgumentParser
import BertBundle
import Foundation

struct Export: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Export a model as ONNX or as a native bundle, and check the export against the model.",
        discussion: """
            The model's classifier inference graph and weights are written under a temporary name, \
            read back and run on sample pairs (--input FILE.tsv, or a few built-in pairs), and only \
            then renamed into place. A bundle must reproduce the model's logits bit for bit; an ONNX \
            file is validated by libonnx and, when the project venv has ONNX Runtime, run and \
            compared within 1e-5; a NaN or infinite weight or logit fails. When the check fails, \
            nothing is written and the exit status is non-zero. An existing --out is refused \
            unless --overwrite is given; it is then replaced in one atomic step, after the new \
            export is complete and checked (a bundle replaces only a bundle or an empty directory).
            """)

    @Option(help: "Export format: onnx or bundle.") var format: ExportFormat
    @Option(help: "The model directory or training run directory to export.") var model: String
    @Option(help: "The bundle directory or .onnx file to write.") var out: String
    @Flag(help: "Replace an existing --out (atomically, once the new export is checked).") var overwrite = false
    @Option(help: "The longest packed sentence pair, in tokens (default: 128, or the model's max_position_embeddings when smaller).")
    var maxSeqLength: Int?
    @Option(help: "Sample pairs for the check: a TSV with sentence1/sentence2 columns (default: built-in pairs).")
    var input: String?
    @OptionGroup var output: ReportOptions

    func validate() throws {
        if let maxSeqLength, maxSeqLength < 3 {
            throw ValidationError("--max-seq-length must be at least 3, got \(maxSeqLength)")
        }
    }

    func run() throws {
        let samples = try input.map { (try SamplePairs.read(tsv: $0), $0) }
            ?? (SamplePairs.builtIn, "\(SamplePairs.builtIn.count) built-in pairs")
        let report = try ModelExport.run(model: model, format: format, destination: URL(fileURLWithPath: out),
                                         maxSeqLength: maxSeqLength, overwrite: overwrite, pairs: samples,
                                         onnxRuntime: ONNXRuntimeLocation.runner(), progress: note)
        if output.json {
            try printJSON(report)
        } else {
            print("exported \(report.format.rawValue) to \(report.path): \(report.files.count) files, \(report.bytes) bytes")
            if let diff = report.maxAbsDiff {
                print("read back and ran \(report.pairs) pairs (\(report.pairsSource)): max abs diff \(diff) "
                    + "(tolerance \(report.tolerance)), " + (report.identical == true ? "bitwise identical" : "not bitwise identical"))
            }
            if let remark = report.note { print(remark) }
        }
    }
}

extension ExportFormat: ExpressibleByArgument {}
