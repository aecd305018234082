// What `bertc export` does, as a library function: open a model (or run) directory, build its
// classifier inference graph and weights, write a native bundle or an ONNX file, read back
// what was written and run it on sample pairs against the in-memory model, and only then
// move it into place, so an export that does not reproduce the model never replaces
// anything.
//
//   bundle: reload the staged bundle with `BundleModel` (checksums verified) and compare
//           logits bitwise (tolerance 0).
//   onnx:   the exporter validates with libonnx before writing; the staged file is read back
//           and validated again, then run under ONNX Runtime (`tools/ort_run.py`) when the
//           project venv is present, tolerance `ONNXRuntimeRunner.tolerance`.

import BertGraph
import BertModel
import BertText
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
    /// The comparison (when made) is within tolerance. Always true in a returned report:
    /// a failed comparison throws `BundleError.exportMismatch` instead, before publishing.
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
    ///   - maxSeqLength: the longest packed pair; nil for 128 or the model's position
    ///     embeddings when it has fewer. A length beyond them is an error.
    ///   - pairs: sample pairs for the read-back comparison, and a description of them.
    ///   - progress: receives one-line progress messages (the CLI sends them to stderr).
    /// - Throws: `ModelError`, `BundleError`, `ONNXExportError` naming the file;
    ///   `BundleError.exportMismatch` when the export read back does not reproduce the model
    ///   (nothing is published then).
    public static func run(model: String, format: ExportFormat, destination: URL, maxSeqLength: Int? = nil,
                           pairs: (pairs: [(String, String?)], source: String),
                           progress: (String) -> Void = { _ in }) throws -> ExportReport {
        guard !pairs.pairs.isEmpty else { throw BundleError.badInput(reason: "no sample pairs in \(pairs.source)") }
        let directory = try ModelDirectory.open(model)
        if let maxSeqLength {
            try directory.config.checkWorkload(batch: 1, sequenceLength: maxSeqLength, training: false,
                                               source: directory.url.path)
        }
        let (predictor, load) = try Predictor.load(directory, maxLength: maxSeqLength ?? 128)
        progress("loaded \(directory.url.path): \(load)")
        let headNote = load.initialized.isEmpty ? nil
            : "the model has no fine-tuned task head; the export carries one initialised from seed 0 "
                + "(\(load.initialized.joined(separator: ", ")))"
        let reference = try predictor.predict(pairs.pairs)
        switch format {
        case .bundle:
            var comparison: PredictionComparison?
            let summary = try BundleWriter.write(predictor, vocabulary: directory.vocabURL, to: destination) { staged in
                progress("wrote the bundle; reloading it and comparing on \(pairs.pairs.count) pairs")
                let reloaded = try BundleModel(directory: staged).predictor.predict(pairs.pairs)
                let result = PredictionComparison(reloaded.logits, reference.logits)
                guard result.identical else {
                    throw BundleError.exportMismatch(path: destination.path, maxAbsDiff: result.maxAbsDiff, tolerance: 0)
                }
                comparison = result
            }
            let files = [BundleWriter.manifestFile] + summary.manifest.files.map(\.path)
            return ExportReport(
                format: format, path: destination.path,
                files: files.map { destination.appendingPathComponent($0).path }, bytes: summary.totalBytes,
                maxAbsDiff: comparison?.maxAbsDiff, identical: comparison?.identical, tolerance: 0,
                pairs: pairs.pairs.count, pairsSource: pairs.source, passed: true, note: headNote)
        case .onnx:
            var report = try exportONNX(predictor, reference: reference, to: destination, pairs: pairs, progress: progress)
            if let headNote { report.note = [report.note, headNote].compactMap { $0 }.joined(separator: "; ") }
            return report
        }
    }

    // MARK: - ONNX

    /// Exports into a staging directory beside `destination`, checks the staged file, then
    /// moves the model (and its external-data side file, if any) into place.
    private static func exportONNX(_ predictor: Predictor, reference: Prediction, to destination: URL,
                                   pairs: (pairs: [(String, String?)], source: String),
                                   progress: (String) -> Void) throws -> ExportReport {
        let fm = FileManager.default
        let staging = destination.deletingLastPathComponent()
            .appendingPathComponent(".\(destination.lastPathComponent).staged-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        do { try fm.createDirectory(at: staging, withIntermediateDirectories: true) } catch {
            throw BundleError.io(file: staging.path, reason: FileAccess.reason(for: error))
        }
        defer { try? fm.removeItem(at: staging) }
        let staged = staging.appendingPathComponent(destination.lastPathComponent)

        var weights: [String: HostTensor] = [:]
        for name in predictor.parameters.names { weights[name] = predictor.parameters.tensor(name)! }
        // ONNX gets the unfused graph: standard ops in the patterns ONNX Runtime's optimizer fuses.
        let graph = try ModelCompiler.graph(predictor.config, head: .classification(labels: predictor.labels.count),
                                            mode: .infer, fuse: false)
        let summary = try ONNXExporter().write(graph: graph, weights: weights, to: staged)
        progress("wrote \(summary.modelBytes) bytes of ONNX, validated by libonnx; reading it back")
        let data: Data
        do { data = try Data(contentsOf: staged) } catch {
            throw BundleError.io(file: staged.path, reason: FileAccess.reason(for: error))
        }
        try ONNXValidator.validate(data, directory: staging)

        var report = ExportReport(format: .onnx, path: destination.path, files: [destination.path], bytes: summary.modelBytes,
                                  maxAbsDiff: nil, identical: nil, tolerance: ONNXRuntimeRunner.tolerance,
                                  pairs: pairs.pairs.count, pairsSource: pairs.source, passed: true, note: nil)
        do {
            let runner = try ONNXRuntimeRunner()
            progress("running it under ONNX Runtime on \(pairs.pairs.count) pairs")
            let examples = pairs.pairs.map { predictor.encoder.encode($0.0, $0.1) }
            let comparison = PredictionComparison(try runner.logits(model: staged, examples: examples), reference.logits)
            guard comparison.maxAbsDiff <= ONNXRuntimeRunner.tolerance else {
                throw BundleError.exportMismatch(path: destination.path, maxAbsDiff: comparison.maxAbsDiff,
                                                 tolerance: ONNXRuntimeRunner.tolerance)
            }
            report.maxAbsDiff = comparison.maxAbsDiff
            report.identical = comparison.identical
            report.note = "ONNX Runtime (\(runner.python.path)) against the bertc interpreter"
        } catch let error as ONNXRuntimeRunError {
            guard case .unavailable = error else { throw error }
            report.note = "read back and validated by libonnx; not run: \(error)"
        }

        if let side = summary.externalDataPath {
            let name = URL(fileURLWithPath: side).lastPathComponent
            let target = destination.deletingLastPathComponent().appendingPathComponent(name)
            try publish(URL(fileURLWithPath: side), to: target)
            report.files.append(target.path)
            report.bytes += ((try? fm.attributesOfItem(atPath: target.path))?[.size] as? Int) ?? 0
        }
        try publish(staged, to: destination)
        return report
    }

    /// rename(2) over `target`: atomic, replaces an existing file only when it succeeds.
    private static func publish(_ source: URL, to target: URL) throws {
        guard rename(source.path, target.path) == 0 else {
            throw BundleError.io(file: target.path, reason: String(cString: strerror(errno)))
        }
    }
}
