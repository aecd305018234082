// `manifest.json` of a native bundle: what the bundle computes (the `serving_default`
// signature), how text becomes model input (tokenizer settings), the architecture, the label
// names, and the byte size and SHA-256 of every other file. The manifest is the only file
// that is not checksummed (it holds the checksums); everything else is verified against it
// before use.
//
// An example (abridged):
//
//     {
//       "format": "bertc-bundle", "format_version": 1, "created_by": "bertc",
//       "signatures": {"serving_default": {
//         "inputs":  [{"name": "sentence1", "dtype": "string", "shape": ["batch"]}, ...],
//         "outputs": [{"name": "logits", "dtype": "float32", "shape": ["batch", 2]}, ...]}},
//       "labels": ["0", "1"],
//       "tokenizer": {"vocabulary": "vocab.txt", "lowercase": true, "max_seq_length": 128,
//                     "truncation": "longest_first", "bucket_lengths": [32, 64, 96, 128]},
//       "model": {"graph": "graph.bertc", "weights": "weights.safetensors", "config": {...}},
//       "files": [{"path": "graph.bertc", "bytes": 123, "sha256": "..."}, ...]
//     }

import BertModel
import BertText
import Foundation

/// The parsed `manifest.json` of a bundle.
public struct BundleManifest: Codable, Equatable, Sendable {
    /// The value of `format` every bundle carries.
    public static let formatName = "bertc-bundle"
    /// The format version this code writes and the only one it reads.
    public static let currentVersion = 1
    /// The signature name (TensorFlow SavedModel's default).
    public static let servingSignature = "serving_default"

    public var format: String
    public var formatVersion: Int
    public var createdBy: String
    /// Signatures by name; a bundle has `serving_default`.
    public var signatures: [String: Signature]
    /// Label names by class id.
    public var labels: [String]
    public var tokenizer: TokenizerSettings
    public var model: ModelFiles
    /// Every file of the bundle except the manifest, sorted by path.
    public var files: [FileEntry]

    enum CodingKeys: String, CodingKey {
        case format, formatVersion = "format_version", createdBy = "created_by", signatures, labels, tokenizer, model, files
    }

    // MARK: - Parts

    /// Named inputs and outputs of a signature.
    public struct Signature: Codable, Equatable, Sendable {
        public var inputs: [TensorSpec]
        public var outputs: [TensorSpec]
    }

    /// One input or output: name, dtype (`string`, `float32`, `int64`) and shape, whose dims
    /// are numbers or symbols (`"batch"`).
    public struct TensorSpec: Codable, Equatable, Sendable {
        public var name: String
        public var dtype: String
        public var shape: [SpecDim]
        /// True for an input that may be left out (`sentence2` for single-sentence tasks).
        public var optional: Bool?
        /// What the tensor holds, for people reading the manifest.
        public var description: String?
    }

    /// A signature dimension: a fixed size or a symbol.
    public enum SpecDim: Codable, Equatable, Sendable, CustomStringConvertible {
        case fixed(Int)
        case symbol(String)

        public init(from decoder: Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let n = try? container.decode(Int.self) { self = .fixed(n) } else { self = .symbol(try container.decode(String.self)) }
        }

        public func encode(to encoder: Encoder) throws {
            var container = encoder.singleValueContainer()
            switch self {
            case .fixed(let n): try container.encode(n)
            case .symbol(let s): try container.encode(s)
            }
        }

        public var description: String {
            switch self {
            case .fixed(let n): return String(n)
            case .symbol(let s): return s
            }
        }
    }

    /// How raw text becomes `input_ids`, `token_type_ids` and `attention_mask`.
    public struct TokenizerSettings: Codable, Equatable, Sendable {
        /// The WordPiece vocabulary file in the bundle.
        public var vocabulary: String
        /// Lower-case and strip accents (uncased models).
        public var lowercase: Bool
        /// The most tokens of a packed pair, `[CLS]` and `[SEP]`s included.
        public var maxSeqLength: Int
        /// `TruncationStrategy` raw value (`longest_first`, `round_robin`, `pop_longer`).
        public var truncation: String
        /// Sequence lengths batches are padded to (the smallest that fits the longest pair).
        public var bucketLengths: [Int]

        enum CodingKeys: String, CodingKey {
            case vocabulary, lowercase, maxSeqLength = "max_seq_length", truncation, bucketLengths = "bucket_lengths"
        }
    }

    /// The model's files and architecture.
    public struct ModelFiles: Codable, Equatable, Sendable {
        /// The inference graph in bertc's IR text format.
        public var graph: String
        /// The weights (safetensors, float32, Hugging Face names and layout).
        public var weights: String
        /// The architecture the graph was built from.
        public var config: BertConfig
    }

    /// Size and checksum of one file.
    public struct FileEntry: Codable, Equatable, Sendable {
        /// Relative to the bundle directory; a plain file name.
        public var path: String
        public var bytes: Int
        /// Lowercase hex SHA-256 of the file's bytes.
        public var sha256: String
    }

    // MARK: - The serving signature

    /// `serving_default` for a classifier with `labelCount` labels: inputs `sentence1`,
    /// `sentence2` (strings `[batch]`, the second optional); outputs `logits` float32
    /// `[batch, labels]`, `class_id` int64 `[batch]` (argmax over the last axis), `class`
    /// string `[batch]` (label names).
    public static func servingSignature(labelCount: Int) -> Signature {
        Signature(
            inputs: [
                TensorSpec(name: "sentence1", dtype: "string", shape: [.symbol("batch")],
                           description: "first sentence of each pair"),
                TensorSpec(name: "sentence2", dtype: "string", shape: [.symbol("batch")], optional: true,
                           description: "second sentence of each pair; omit for single sentences"),
            ],
            outputs: [
                TensorSpec(name: "logits", dtype: "float32", shape: [.symbol("batch"), .fixed(labelCount)],
                           description: "unnormalised class scores"),
                TensorSpec(name: "class_id", dtype: "int64", shape: [.symbol("batch")],
                           description: "argmax of logits over the last axis"),
                TensorSpec(name: "class", dtype: "string", shape: [.symbol("batch")],
                           description: "labels[class_id]"),
            ])
    }

    // MARK: - Reading and writing

    /// The manifest as pretty-printed JSON with sorted keys (stable across runs).
    public func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        var data = try encoder.encode(self)
        data.append(0x0A)
        return data
    }

    /// Decodes `data` read from `file` (for messages) and checks the format and version
    /// before anything else is looked at, then every field (`validate`).
    /// - Throws: `BundleError.badManifest` or `.unsupportedVersion`.
    public static func decode(_ data: Data, file: String) throws -> BundleManifest {
        let header: Header
        do { header = try JSONDecoder().decode(Header.self, from: data) } catch {
            throw BundleError.badManifest(file: file, reason: describe(error))
        }
        guard header.format == formatName else {
            throw BundleError.badManifest(file: file, reason: "format is \"\(header.format)\", expected \"\(formatName)\"")
        }
        guard header.formatVersion == currentVersion else {
            throw BundleError.unsupportedVersion(file: file, found: header.formatVersion, supported: [currentVersion])
        }
        let manifest: BundleManifest
        do { manifest = try JSONDecoder().decode(BundleManifest.self, from: data) } catch {
            throw BundleError.badManifest(file: file, reason: describe(error))
        }
        try manifest.validate(file: file)
        return manifest
    }

    /// The most bytes a `manifest.json` may have (its own size is not checksummed).
    public static let maxManifestBytes = 16 << 20
    /// The most labels a classifier bundle may have.
    public static let maxLabels = 100_000

    /// Reads and decodes `manifest.json` in `directory`, which must be a regular file of at
    /// most `maxManifestBytes` (a FIFO or a link to a device is refused without being read).
    /// - Throws: `BundleError` naming the manifest.
    public static func read(in directory: URL) throws -> BundleManifest {
        let url = directory.appendingPathComponent(BundleWriter.manifestFile)
        let data: Data
        do { data = try RegularFile.contents(of: url, limit: maxManifestBytes) } catch {
            throw BundleError.unreadable(url, error) { size in
                .badManifest(file: url.path, reason: "it has \(size) bytes, more than the \(maxManifestBytes) a manifest may have")
            }
        }
        return try decode(data, file: url.path)
    }

    /// Only the fields that say which decoder applies.
    private struct Header: Decodable {
        var format: String
        var formatVersion: Int
        enum CodingKeys: String, CodingKey { case format, formatVersion = "format_version" }
    }

    /// Checks the manifest field by field and for consistency: a valid model config (sizes,
    /// heads, limits), a `serving_default` signature that is the classifier signature for its
    /// labels, plain file names each listed once, well-formed checksums, usable tokenizer
    /// settings.
    func validate(file: String) throws {
        func bad(_ reason: String) -> BundleError { .badManifest(file: file, reason: reason) }
        do { try model.config.validate(source: "model.config") } catch ModelError.badConfig(_, let reason) {
            throw bad("model.config: \(reason)")
        }
        guard !labels.isEmpty else { throw bad("labels is empty") }
        guard labels.count <= Self.maxLabels else {
            throw bad("\(labels.count) labels, more than the \(Self.maxLabels) a bundle may have")
        }
        guard let serving = signatures[Self.servingSignature] else {
            throw bad("no \"\(Self.servingSignature)\" signature (has \(signatures.keys.sorted()))")
        }
        let expected = Self.servingSignature(labelCount: labels.count)
        func form(_ specs: [TensorSpec]) -> [String] {
            specs.map { "\($0.name): \($0.dtype)[\($0.shape.map(\.description).joined(separator: ", "))]" }
        }
        for (kind, have, want) in [("inputs", serving.inputs, expected.inputs), ("outputs", serving.outputs, expected.outputs)]
        where form(have) != form(want) || have.map({ $0.optional ?? false }) != want.map({ $0.optional ?? false }) {
            throw bad("signature \(Self.servingSignature) \(kind) are \(form(have)); a classifier with "
                + "\(labels.count) labels has \(form(want))")
        }
        var seen = Set<String>()
        for entry in files {
            guard Self.isPlainFileName(entry.path) else {
                throw bad("file path \"\(entry.path)\" must be a plain file name inside the bundle")
            }
            guard seen.insert(entry.path).inserted else { throw bad("file \"\(entry.path)\" is listed twice") }
            guard entry.bytes >= 0 else { throw bad("file \"\(entry.path)\" has a negative size") }
            guard entry.sha256.count == 64, entry.sha256.allSatisfy({ $0.isHexDigit && !$0.isUppercase }) else {
                throw bad("file \"\(entry.path)\": sha256 must be 64 lowercase hex digits, got \"\(entry.sha256)\"")
            }
        }
        for needed in [model.graph, model.weights, tokenizer.vocabulary] where !seen.contains(needed) {
            throw bad("\"\(needed)\" is used but not listed in files")
        }
        guard Set([model.graph, model.weights, tokenizer.vocabulary]).count == 3 else {
            throw bad("model.graph, model.weights and tokenizer.vocabulary must be three different files")
        }
        guard TruncationStrategy(rawValue: tokenizer.truncation) != nil else {
            throw bad("tokenizer truncation \"\(tokenizer.truncation)\" is not one of "
                + TruncationStrategy.allCases.map(\.rawValue).joined(separator: ", "))
        }
        let maxLength = tokenizer.maxSeqLength
        guard maxLength >= 3, maxLength <= model.config.maxPositionEmbeddings else {
            throw bad("tokenizer max_seq_length \(maxLength) must be in 3...\(model.config.maxPositionEmbeddings) "
                + "(max_position_embeddings)")
        }
        guard !tokenizer.bucketLengths.isEmpty, tokenizer.bucketLengths.allSatisfy({ $0 > 0 && $0 <= maxLength }) else {
            throw bad("tokenizer bucket_lengths \(tokenizer.bucketLengths) must be in 1...\(maxLength)")
        }
    }
}

extension BundleManifest {
    /// A name of a file directly inside the bundle directory: not empty, not hidden (so not
    /// `.` or `..`), no `/`, no control characters, not the manifest, at most 255 bytes.
    static func isPlainFileName(_ path: String) -> Bool {
        !path.isEmpty && path.utf8.count <= 255 && !path.hasPrefix(".") && !path.contains("/")
            && !path.unicodeScalars.contains { $0.properties.generalCategory == .control }
            && path != BundleWriter.manifestFile
    }
}

/// A one-line reason from a decoding error, naming the key path.
private func describe(_ error: Error) -> String {
    func path(_ context: DecodingError.Context) -> String {
        context.codingPath.isEmpty ? "top level" : context.codingPath.map(\.stringValue).joined(separator: ".")
    }
    switch error {
    case DecodingError.keyNotFound(let key, let context):
        return "missing \"\(key.stringValue)\" at \(path(context))"
    case DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context):
        return "bad value at \(path(context)): \(context.debugDescription)"
    case DecodingError.dataCorrupted(let context):
        return "not valid JSON (\(context.underlyingError.map { _ in "malformed JSON" } ?? context.debugDescription))"
    default:
        return "\(error)"
    }
}
