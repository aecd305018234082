// Writes a native bundle: a directory a server can load without the model directory it came
// from.
//
//     manifest.json        format, version, `serving_default` signature, labels, tokenizer
//                          settings, model config, size + SHA-256 of every other file
//     graph.bertc          the inference graph in bertc's IR text format (GraphPrinter)
//     weights.safetensors  float32 parameters, Hugging Face names and layout
//     vocab.txt            the WordPiece vocabulary, byte for byte as the model had it
//
// Stages: write every file into a staging directory beside the destination; hash them; write
// the manifest last; run the caller's check on the complete staged bundle (export reloads it
// and compares it with the model); then publish the staging directory (`AtomicReplace`: a
// rename, or with `overwrite` an atomic exchange with the old bundle, which is deleted after).
// A failure or kill at any point, the check included, leaves an existing bundle at the
// destination untouched and never leaves a half-written one under the real name; the staging
// directory `.NAME.partial-PID` of a killed export is removed by the next export beside it.

import BertGraph
import BertModel
import BertRuntime
import BertText
import Foundation

/// What `BundleWriter.write` produced.
public struct BundleWriteSummary: Codable, Equatable, Sendable {
    /// The bundle directory.
    public var path: String
    /// The manifest that was written.
    public var manifest: BundleManifest
    /// Bytes of all files, the manifest included.
    public var totalBytes: Int

    enum CodingKeys: String, CodingKey { case path, manifest, totalBytes = "total_bytes" }
}

/// Writes classifier bundles.
public enum BundleWriter {
    /// The file names inside a bundle.
    public static let manifestFile = "manifest.json"
    public static let graphFile = "graph.bertc"
    public static let weightsFile = "weights.safetensors"
    public static let vocabularyFile = "vocab.txt"
    /// `created_by` of every manifest.
    public static let producer = BertcVersion.name

    /// Writes `predictor` as a bundle at `destination`.
    /// - Parameters:
    ///   - predictor: the model to export: its inference graph, weights, labels, encoder
    ///     (lowercasing, maximum length) and length buckets all go into the bundle, so the
    ///     reloaded bundle computes exactly what `predictor` computes.
    ///   - vocabulary: the `vocab.txt` the predictor's tokenizer was read from.
    ///   - truncation: the truncation strategy the predictor's encoder uses.
    ///   - destination: the bundle directory. An existing path is refused unless `overwrite`;
    ///     then an existing bundle (or empty directory) is replaced atomically once the new one
    ///     is complete and checked, and any other existing directory or file is still refused.
    ///   - overwrite: whether an existing bundle may be replaced.
    ///   - check: runs on the complete bundle in its staging directory before it is moved into
    ///     place; throwing aborts the write and leaves the destination as it was.
    /// - Throws: `BundleError` naming the file, or what `check` throws.
    @discardableResult
    public static func write(_ predictor: Predictor, vocabulary: URL, truncation: TruncationStrategy = .longestFirst,
                             to destination: URL, overwrite: Bool = false,
                             check: (URL) throws -> Void = { _ in }) throws -> BundleWriteSummary {
        try checkReplaceable(destination, overwrite: overwrite)
        let fm = FileManager.default
        let staging: URL
        do { staging = try AtomicReplace.makeStagingFolder(for: destination) } catch {
            throw BundleError.io(file: AtomicReplace.stagingURL(for: destination).path, reason: FileAccess.reason(for: error))
        }
        do {
            let manifest = try writeFiles(predictor, vocabulary: vocabulary, truncation: truncation, into: staging)
            let manifestData = try manifest.encoded()
            try write(manifestData, to: staging.appendingPathComponent(manifestFile))
            try check(staging)
            do { try AtomicReplace.publish(staging, to: destination, replacing: overwrite) } catch AtomicReplaceError.exists {
                throw BundleError.destinationExists(path: destination.path, reason: "already exists; pass --overwrite to replace it")
            } catch {
                throw BundleError.io(file: destination.path, reason: "cannot move the finished bundle into place: \(error)")
            }
            return BundleWriteSummary(path: destination.path, manifest: manifest,
                                      totalBytes: manifest.files.reduce(manifestData.count) { $0 + $1.bytes })
        } catch {
            try? fm.removeItem(at: staging)
            throw error
        }
    }

    // MARK: - Files

    /// Writes graph, weights and vocabulary into `directory` and returns the manifest that
    /// describes them.
    private static func writeFiles(_ predictor: Predictor, vocabulary: URL, truncation: TruncationStrategy,
                                   into directory: URL) throws -> BundleManifest {
        try write(Data(GraphPrinter.render(predictor.graph).utf8), to: directory.appendingPathComponent(graphFile))

        var tensors: [String: HostTensor] = [:]
        for name in predictor.parameters.names { tensors[name] = predictor.parameters.tensor(name)! }
        let weightsURL = directory.appendingPathComponent(weightsFile)
        do {
            try SafetensorsWriter.write(tensors, metadata: ["format": "pt", "producer": producer], to: weightsURL)
        } catch {
            throw BundleError.io(file: weightsURL.path, reason: "\(error)")
        }

        let vocabularyData: Data
        do {
            vocabularyData = try FileAccess.read(vocabulary.path, limit: Vocabulary.maximumFileSize, what: "a vocabulary")
        } catch {
            throw BundleError.io(file: vocabulary.path, reason: FileAccess.reason(for: error))
        }
        try write(vocabularyData, to: directory.appendingPathComponent(vocabularyFile))

        let files = try [graphFile, vocabularyFile, weightsFile].sorted().map { name -> BundleManifest.FileEntry in
            let url = directory.appendingPathComponent(name)
            do {
                let size = try FileManager.default.attributesOfItem(atPath: url.path)[.size] as? Int ?? 0
                return BundleManifest.FileEntry(path: name, bytes: size, sha256: try SHA256Digest.hex(ofFile: url))
            } catch {
                throw BundleError.io(file: url.path, reason: FileAccess.reason(for: error))
            }
        }
        let encoder = predictor.encoder
        return BundleManifest(
            format: BundleManifest.formatName, formatVersion: BundleManifest.currentVersion, createdBy: producer,
            signatures: [BundleManifest.servingSignature: BundleManifest.servingSignature(labelCount: predictor.labels.count)],
            labels: predictor.labels,
            tokenizer: BundleManifest.TokenizerSettings(
                vocabulary: vocabularyFile, lowercase: encoder.tokenizer.basic.lowercase, maxSeqLength: encoder.maxLength,
                truncation: truncation.rawValue, bucketLengths: predictor.buckets),
            model: BundleManifest.ModelFiles(graph: graphFile, weights: weightsFile, config: predictor.config),
            files: files)
    }

    /// Writes `data` and flushes it to disk, so the rename that publishes the bundle never
    /// publishes files whose bytes are still only in the page cache.
    private static func write(_ data: Data, to url: URL) throws {
        do { try FileAccess.writeFlushed(data, to: url) } catch {
            throw BundleError.io(file: url.path, reason: FileAccess.reason(for: error))
        }
    }

    /// Refuses an existing path unless `overwrite`, and even then anything but an empty
    /// directory or a bundle, so that `--out` pointed at the wrong directory cannot delete it.
    static func checkReplaceable(_ destination: URL, overwrite: Bool) throws {
        let fm = FileManager.default
        var info = stat()
        guard lstat(destination.path, &info) == 0 else { return }
        guard overwrite else {
            throw BundleError.destinationExists(path: destination.path, reason: "already exists; pass --overwrite to replace it")
        }
        guard info.st_mode & S_IFMT == S_IFDIR else {
            throw BundleError.notABundle(path: destination.path,
                                         reason: "it is an existing file, not a bundle directory; refusing to replace it")
        }
        let contents = (try? fm.contentsOfDirectory(atPath: destination.path)) ?? []
        guard contents.isEmpty || contents.contains(manifestFile) else {
            throw BundleError.notABundle(
                path: destination.path, reason: "it is a non-empty directory without \(manifestFile); refusing to replace it")
        }
    }
}
