// What `bertc export` does, as a library function: open a model (or run) directory, build its
// classifier inference graph and weights, write a native bundle or an ONNX file atomically,
// then read back what was written and run it on sample pairs against the in-memory model.
//
//   bundle: reload with `BundleModel` (checksums verified) and compare logits bitwise; any
//           difference fails the export check (tolerance 0).
//   onnx:   the exporter validates with libonnx before writing; the written file is read
//           back and validated again, then run under ONNX Runtime (`tools/ort_run.py`) when
//           the project venv is present, tolerance `ONNXRuntimeRunner.tolerance`.

import BertGraph
import BertModel
import Foundation

/// What an export writes.
public enum ExportFormat: String, CaseIterable, Codable, Sendable {
    case onnx
    case bundle
}

/// The result of an export and its read-back check (`bertc export --json` prints it).
public struct ExportReport: Codable, Equatable, Sendable {
    public var format: ExportFormat
    /// The bundle directory or `.onnx` file.
    public var path: String
    /// Every file written.
    public var files: [String]
    /// Total bytes of `files`.
    public var bytes: Int
    /// Largest |exported - in-memory| logit; nil when the export could not be run (ONNX
    /// without ONNX Runtime).
    public var maxAbsDiff: Float?
    /// Every logit bitwise equal; nil when not compared.
    public var identical: Bool?
    /// The allowed `maxAbsDiff`.
    public var tolerance: Float
    /// Number of sample pairs run.
    public var pairs: Int
    /// Where the sample pairs came from.
    public var pairsSource: String
    /// The comparison (when made) is within tolerance.
    public var passed: Bool
    /// Anything the reader should know (e.g. why a comparison was skipped).
    public var note: String?

    enum CodingKeys: String, CodingKey {
        case format, path, files, bytes, maxAbsDiff = "max_abs_diff", identical, tolerance, pairs
        case pairsSource = "pairs_source", passed, note
    }
}

/// Exports models and checks the export against the model.
public enum ModelExport {
    /// Exports the model at `model` to `destination` and checks what was written.
    /// - Parameters:
    ///   - model: a model directory or training run directory.
    ///   - format: `.bundle` (a directory) or `.onnx` (a file).
    ///   - maxSeqLength: the longest packed pair (clipped to the model's position embeddings).
    ///   - pairs: sample pairs for the read-back comparison, and a description of them.
    ///   - progress: receives one-line progress messages (the CLI sends them to stderr).
    /// - Throws: `ModelError`, `BundleError`, `ONNXExportError` naming the file.
    public static func run(model: String, format: ExportFormat, destination: URL, maxSeqLength: Int = 128,
                           pairs: (pairs: [(String, String?)], source: String),
                           progress: (String) -> Void = { _ in }) throws -> ExportReport {
        let directory = try ModelDirectory.open(model)
        let (predictor, load) = try Predictor.load(directory, maxLength: maxSeqLength)
        progress("loaded \(directory.url.path): \(load)")
        let reference = try predictor.predict(pairs.pairs)
        switch format {
        case .bundle:
            let summary = try BundleWriter.write(predictor, vocabulary: directory.vocabURL, to: destination)
            progress("wrote \(summary.path) (\(summary.totalBytes) bytes); reloading and comparing")
            let reloaded = try BundleModel(directory: destination).predictor.predict(pairs.pairs)
            let comparison = PredictionComparison(reloaded.logits, reference.logits)
            let files = [BundleWriter.manifestFile] + summary.manifest.files.map(\.path)
            return ExportReport(
                format: format, path: destination.path,
                files: files.map { destination.appendingPathComponent($0).path }, bytes: summary.totalBytes,
                maxAbsDiff: comparison.maxAbsDiff, identical: comparison.identical, tolerance: 0,
                pairs: pairs.pairs.count, pairsSource: pairs.source, passed: comparison.identical,
                note: comparison.identical ? nil : "reloaded bundle differs from the in-memory model")
        case .onnx:
            var weights: [String: HostTensor] = [:]
            for name in predictor.parameters.names { weights[name] = predictor.parameters.tensor(name)! }
            let summary = try ONNXExporter().write(graph: predictor.graph, weights: weights, to: destination)
            progress("wrote \(summary.modelPath) (\(summary.modelBytes) bytes, validated by libonnx)")
            try ONNXValidator.validate(try Data(contentsOf: destination), directory: destination.deletingLastPathComponent())
            var files = [summary.modelPath]
            var bytes = summary.modelBytes
            if let side = summary.externalDataPath {
                files.append(side)
                bytes += ((try? FileManager.default.attributesOfItem(atPath: side))?[.size] as? Int) ?? 0
            }
            var report = ExportReport(format: format, path: destination.path, files: files, bytes: bytes,
                                      maxAbsDiff: nil, identical: nil, tolerance: ONNXRuntimeRunner.tolerance,
                                      pairs: pairs.pairs.count, pairsSource: pairs.source, passed: true, note: nil)
            let runner: ONNXRuntimeRunner
            do { runner = try ONNXRuntimeRunner() } catch {
                report.note = "read back and validated by libonnx; not run: \(error)"
                return report
            }
            let examples = pairs.pairs.map { predictor.encoder.encode($0.0, $0.1) }
            let comparison = PredictionComparison(try runner.logits(model: destination, examples: examples), reference.logits)
            report.maxAbsDiff = comparison.maxAbsDiff
            report.identical = comparison.identical
            report.passed = comparison.maxAbsDiff <= ONNXRuntimeRunner.tolerance
            report.note = "ONNX Runtime (\(runner.python.path)) against the bertc interpreter"
            return report
        }
    }
}
