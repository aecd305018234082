// What `bertc verify` does, as a library function: load a bundle (every file a regular file
// with its listed size and checksum, the manifest and model config validated, the graph
// verified, every weight finite), run it on sample pairs (every logit must be finite), and
// compare it with the model it was exported from (bitwise) and with an ONNX export of it
// under ONNX Runtime (tolerance `ONNXRuntimeRunner.tolerance`). With neither, the load and
// the forward run are the whole check, and a bad bundle still fails.

import BertModel
import BertONNX
import BertText
import Foundation

/// One comparison of the bundle's logits with another implementation's.
public struct ParityCheck: Codable, Equatable, Sendable {
    /// `model` or `onnx`.
    public var against: String
    /// The model directory or ONNX file compared with.
    public var path: String
    public var comparison: PredictionComparison
    /// The allowed max abs difference (0: bitwise identical required).
    public var tolerance: Float
    public var passed: Bool
}

/// The result of `bertc verify`.
public struct VerificationReport: Codable, Equatable, Sendable {
    public var bundle: String
    /// Every file's size and checksum status (all `ok`: a bundle that loads).
    public var files: [BundleFileStatus]
    public var pairs: Int
    public var pairsSource: String
    public var checks: [ParityCheck]
    /// Every check passed.
    public var passed: Bool

    enum CodingKeys: String, CodingKey { case bundle, files, pairs, pairsSource = "pairs_source", checks, passed }
}

/// Verifies bundles.
public enum BundleVerification {
    /// Loads the bundle and compares it with `model` and `onnx` when given.
    /// - Parameters:
    ///   - bundle: the bundle directory.
    ///   - model: the model or run directory the bundle was exported from; run with the
    ///     bundle's tokenizer settings and buckets so that only weights and graph are compared.
    ///   - onnx: an ONNX export of the same model.
    ///   - pairs: the sample pairs and a description of them.
    ///   - onnxRuntime: runs `onnx` under ONNX Runtime, or says why none can (needed only
    ///     with `onnx`).
    /// - Throws: `BundleError` when the bundle is tampered or inconsistent or computes a
    ///   non-finite logit (no report then), `ModelError` for a bad model directory,
    ///   `ONNXRuntimeRunError` when the ONNX file is invalid or ONNX Runtime cannot run it.
    public static func run(bundle: URL, model: String? = nil, onnx: URL? = nil,
                           pairs: (pairs: [(String, String?)], source: String),
                           onnxRuntime: Result<ONNXRuntimeRunner, ONNXRuntimeRunError> = ModelExport.noONNXRuntime)
        throws -> VerificationReport {
        guard !pairs.pairs.isEmpty else { throw BundleError.badInput(reason: "no sample pairs in \(pairs.source)") }
        if let onnx { try ONNXRuntimeRunner.checkModel(onnx) }
        let loaded = try BundleModel(directory: bundle)
        let prediction: Prediction
        do { prediction = try loaded.predictor.predict(pairs.pairs) } catch {
            throw BundleError.runFailed(path: bundle.path, reason: "\(error)")
        }
        if let pair = prediction.logits.firstIndex(where: { $0.contains { !$0.isFinite } }) {
            throw BundleError.nonFiniteLogits(path: bundle.path, pair: pair)
        }
        var checks: [ParityCheck] = []
        if let model {
            let reference = try modelPredictor(model, like: loaded).predict(pairs.pairs)
            let comparison = PredictionComparison(prediction.logits, reference.logits)
            checks.append(ParityCheck(against: "model", path: model, comparison: comparison, tolerance: 0,
                                      passed: comparison.passes(tolerance: 0) && prediction.classes == reference.classes))
        }
        if let onnx {
            let runner = try onnxRuntime.get()
            let examples = pairs.pairs.map { loaded.predictor.encoder.encode($0.0, $0.1) }
            let comparison = PredictionComparison(prediction.logits, try runner.logits(model: onnx, examples: examples))
            checks.append(ParityCheck(against: "onnx", path: onnx.path, comparison: comparison,
                                      tolerance: ONNXRuntimeRunner.tolerance,
                                      passed: comparison.passes(tolerance: ONNXRuntimeRunner.tolerance)))
        }
        return VerificationReport(bundle: bundle.path, files: BundleIntegrity.check(loaded.manifest, in: bundle),
                                  pairs: pairs.pairs.count, pairsSource: pairs.source, checks: checks,
                                  passed: checks.allSatisfy(\.passed))
    }

    /// The model at `path` as a predictor that encodes and batches text exactly as `bundle`
    /// does (tokenizer settings, truncation, buckets).
    static func modelPredictor(_ path: String, like bundle: BundleModel) throws -> Predictor {
        let settings = bundle.manifest.tokenizer
        let (loaded, _) = try Predictor.load(ModelDirectory.open(path), fallbackLabels: bundle.labels,
                                             maxLength: settings.maxSeqLength)
        guard settings.maxSeqLength <= loaded.config.maxPositionEmbeddings else {
            throw BundleError.badInput(reason: "the model \(path) has \(loaded.config.maxPositionEmbeddings) positions, "
                + "fewer than the bundle's max_seq_length \(settings.maxSeqLength)")
        }
        let tokenizer = BertTokenizer(vocabulary: loaded.encoder.tokenizer.vocabulary, lowercase: settings.lowercase)
        let encoder = try ExampleEncoder(tokenizer: tokenizer, maxLength: settings.maxSeqLength,
                                         truncation: TruncationStrategy(rawValue: settings.truncation) ?? .longestFirst)
        return Predictor(config: loaded.config, graph: loaded.graph, parameters: loaded.parameters, labels: loaded.labels,
                         encoder: encoder, buckets: settings.bucketLengths)
    }
}
