// What `bertc export` does, as a library function: open a model (or run) directory, build its
// classifier inference graph and weights (every weight finite, every logit of the sample
// pairs finite), write a native bundle or an ONNX file, read back what was written and run it
// on sample pairs against the in-memory model, and only then move it into place, so an export
// that does not reproduce the model (a difference over the tolerance, or NaN or infinity on
// either side) never replaces anything. An existing destination is refused unless the caller
// asks to overwrite it; it is then replaced atomically (`AtomicReplace`).
//
//   bundle: reload the staged bundle with `BundleModel` (checksums verified) and compare
//           logits bitwise (tolerance 0).
//   onnx:   the exporter validates with libonnx before writing; the staged file is read back
//           and validated again, then run under ONNX Runtime when the caller has a runner
//           (`ONNXRuntimeRunner`), tolerance `ONNXRuntimeRunner.tolerance`.

import BertGraph
import BertModel
import BertONNX
import BertText
import BertRuntime
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
    /// The `onnxRuntime` argument of a caller that has no ONNX Runtime to offer.
    public static let noONNXRuntime = Result<ONNXRuntimeRunner, ONNXRuntimeRunError>.failure(
        .unavailable(reason: "no ONNX Runtime runner was given"))

    /// Exports the model at `model` to `destination` and checks what was written.
    /// - Parameters:
    ///   - model: a model directory or training run directory.
    ///   - format: `.bundle` (a directory) or `.onnx` (a file).
    ///   - maxSeqLength: the longest packed pair; nil for 128 or the model's position
    ///     embeddings when it has fewer. A length beyond them is an error.
    ///   - overwrite: replace an existing destination (a bundle, or an ONNX file); without it
    ///     an existing path is refused before anything is done.
    ///   - pairs: sample pairs for the read-back comparison, and a description of them.
    ///   - onnxRuntime: runs an ONNX export under ONNX Runtime, or says why none can; without
    ///     one an ONNX export is validated by libonnx but not run (the report's note says why).
    ///   - progress: receives one-line progress messages (the CLI sends them to stderr).
    /// - Throws: `ModelError`, `BundleError`, `ONNXExportError` naming the file;
    ///   `BundleError.destinationExists` for an existing destination without `overwrite`;
    ///   `BundleError.nonFiniteWeight` naming a NaN or infinite weight;
    ///   `BundleError.exportMismatch` when the export read back does not reproduce the model
    ///   (nothing is published then).
    public static func run(model: String, format: ExportFormat, destination: URL, maxSeqLength: Int? = nil,
                           overwrite: Bool = false, pairs: (pairs: [(String, String?)], source: String),
                           onnxRuntime: Result<ONNXRuntimeRunner, ONNXRuntimeRunError> = ModelExport.noONNXRuntime,
                           progress: (String) -> Void = { _ in }) throws -> ExportReport {
        guard !pairs.pairs.isEmpty else { throw BundleError.badInput(reason: "no sample pairs in \(pairs.source)") }
        // Refused before any work: an existing destination without --overwrite.
        switch format {
        case .bundle: try BundleWriter.checkReplaceable(destination, overwrite: overwrite)
        case .onnx: try checkReplaceableFile(destination, overwrite: overwrite)
        }
        let directory = try ModelDirectory.open(model)
        if let maxSeqLength {
            try directory.config.checkWorkload(batch: 1, sequenceLength: maxSeqLength, training: false,
                                               source: directory.url.path)
        }
        let (predictor, load) = try Predictor.load(directory, maxLength: maxSeqLength ?? 128)
        progress("loaded \(directory.url.path): \(load)")
        try checkFinite(predictor.parameters, model: directory.url.path)
        let headNote = load.initialized.isEmpty ? nil
            : "the model has no fine-tuned task head; the export carries one initialised from seed 0 "
                + "(\(load.initialized.joined(separator: ", ")))"
        let reference = try predictor.predict(pairs.pairs)
        if let pair = reference.logits.firstIndex(where: { $0.contains { !$0.isFinite } }) {
            throw BundleError.nonFiniteLogits(path: directory.url.path, pair: pair)
        }
        switch format {
        case .bundle:
            var comparison: PredictionComparison?
            let summary = try BundleWriter.write(predictor, vocabulary: directory.vocabURL, to: destination,
                                                 overwrite: overwrite) { staged in
                progress("wrote the bundle; reloading it and comparing on \(pairs.pairs.count) pairs")
                let reloaded = try BundleModel(directory: staged).predictor.predict(pairs.pairs)
                let result = PredictionComparison(reloaded.logits, reference.logits)
                guard result.passes(tolerance: 0) else {
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
            var report = try exportONNX(predictor, reference: reference, to: destination, overwrite: overwrite,
                                        pairs: pairs, onnxRuntime: onnxRuntime, progress: progress)
            if let headNote { report.note = [report.note, headNote].compactMap { $0 }.joined(separator: "; ") }
            return report
        }
    }

    // MARK: - ONNX

    /// Exports into a staging directory beside `destination` (`.NAME.partial-PID`), checks the
    /// staged file, then publishes the model (and its external-data side file, if any) with
    /// rename(2): an existing file is replaced only with `overwrite`, and only by a complete,
    /// checked one.
    private static func exportONNX(_ predictor: Predictor, reference: Prediction, to destination: URL, overwrite: Bool,
                                   pairs: (pairs: [(String, String?)], source: String),
                                   onnxRuntime: Result<ONNXRuntimeRunner, ONNXRuntimeRunError>,
                                   progress: (String) -> Void) throws -> ExportReport {
        let fm = FileManager.default
        let staging: URL
        do { staging = try AtomicReplace.makeStagingFolder(for: destination) } catch {
            throw BundleError.io(file: AtomicReplace.stagingURL(for: destination).path, reason: FileAccess.reason(for: error))
        }
        defer { try? fm.removeItem(at: staging) }
        let staged = staging.appendingPathComponent(destination.lastPathComponent)

        var weights: [String: HostTensor] = [:]
        for name in predictor.parameters.names { weights[name] = predictor.parameters.tensor(name)! }
        // ONNX gets the unfused graph: standard ops in the patterns ONNX Runtime's optimizer fuses.
        let graph = try ModelCompiler.exportGraph(predictor.config, head: .classification(labels: predictor.labels.count))
        let summary = try ONNXExporter().write(graph: graph, weights: weights, to: staged)
        progress("wrote \(summary.modelBytes) bytes of ONNX, validated by libonnx; reading it back")
        let side = summary.externalDataPath.map { URL(fileURLWithPath: $0) }
        let sideTarget = side.map { destination.deletingLastPathComponent().appendingPathComponent($0.lastPathComponent) }
        if let sideTarget { try checkReplaceableFile(sideTarget, overwrite: overwrite) }
        do { try ONNXRuntimeRunner.checkModel(staged) } catch let error as ONNXRuntimeRunError {
            throw BundleError.io(file: staged.path, reason: "the written model does not read back: \(error)")
        }

        var report = ExportReport(format: .onnx, path: destination.path, files: [destination.path], bytes: summary.modelBytes,
                                  maxAbsDiff: nil, identical: nil, tolerance: ONNXRuntimeRunner.tolerance,
                                  pairs: pairs.pairs.count, pairsSource: pairs.source, passed: true, note: nil)
        do {
            let runner = try onnxRuntime.get()
            progress("running it under ONNX Runtime on \(pairs.pairs.count) pairs")
            let examples = pairs.pairs.map { predictor.encoder.encode($0.0, $0.1) }
            let comparison = PredictionComparison(try runner.logits(model: staged, examples: examples), reference.logits)
            guard comparison.passes(tolerance: ONNXRuntimeRunner.tolerance) else {
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

        if let side, let sideTarget {
            try publish(side, to: sideTarget, overwrite: overwrite)
            report.files.append(sideTarget.path)
            report.bytes += ((try? fm.attributesOfItem(atPath: sideTarget.path))?[.size] as? Int) ?? 0
        }
        try publish(staged, to: destination, overwrite: overwrite)
        return report
    }

    /// Moves a staged file to `target` (rename(2): atomic; replaces only with `overwrite`).
    private static func publish(_ source: URL, to target: URL, overwrite: Bool) throws {
        do { try AtomicReplace.publish(source, to: target, replacing: overwrite) } catch AtomicReplaceError.exists {
            throw BundleError.destinationExists(path: target.path, reason: "already exists; pass --overwrite to replace it")
        } catch {
            throw BundleError.io(file: target.path, reason: "\(error)")
        }
    }

    /// An ONNX destination: a new path, or with `overwrite` an existing file (never a directory).
    private static func checkReplaceableFile(_ destination: URL, overwrite: Bool) throws {
        var info = stat()
        guard lstat(destination.path, &info) == 0 else { return }
        guard overwrite else {
            throw BundleError.destinationExists(path: destination.path, reason: "already exists; pass --overwrite to replace it")
        }
        guard info.st_mode & S_IFMT != S_IFDIR else {
            throw BundleError.destinationExists(path: destination.path, reason: "is a directory; an ONNX export is one file")
        }
    }

    /// Refuses a model whose weights hold NaN or infinity, naming the tensor.
    static func checkFinite(_ parameters: ParameterStore, model: String) throws {
        for name in parameters.names {
            if let value = parameters.tensor(name)?.floats?.first(where: { !$0.isFinite }) {
                throw BundleError.nonFiniteWeight(file: model, tensor: name, value: value)
            }
        }
    }
}
