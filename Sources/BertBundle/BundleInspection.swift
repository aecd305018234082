// What `bertc inspect DIR` shows for a bundle: the manifest in brief, the signature, and the
// status of every file (size and checksum), without loading the model. A bundle with a bad
// file is still listed, with that file's status saying what is wrong.

import BertText
import Foundation

/// A bundle's manifest summary and file statuses.
public struct BundleInspection: Codable, Equatable, Sendable {
    public var path: String
    public var format: String
    public var formatVersion: Int
    public var createdBy: String
    public var labels: [String]
    public var signatures: [String: BundleManifest.Signature]
    public var tokenizer: BundleManifest.TokenizerSettings
    /// `L layers, H hidden, A heads, I intermediate, V vocab, GELU`.
    public var architecture: String
    public var files: [BundleFileStatus]
    /// Every file is present with its listed size and checksum.
    public var intact: Bool

    enum CodingKeys: String, CodingKey {
        case path, format, formatVersion = "format_version", createdBy = "created_by", labels, signatures, tokenizer
        case architecture, files, intact
    }

    /// Whether `url` is a directory holding a `manifest.json` (a bundle to inspect).
    public static func isBundle(_ url: URL) -> Bool {
        var info = stat()  // lstat: a manifest that is a link or FIFO is a (broken) bundle too
        return lstat(url.appendingPathComponent(BundleWriter.manifestFile).path, &info) == 0
    }

    /// Reads the manifest and checks every file.
    /// - Throws: `BundleError` when the manifest cannot be read, decoded or validated.
    public init(directory: URL) throws {
        let manifest = try BundleManifest.read(in: directory)
        let c = manifest.model.config
        path = directory.path
        format = manifest.format
        formatVersion = manifest.formatVersion
        createdBy = manifest.createdBy
        labels = manifest.labels
        signatures = manifest.signatures
        tokenizer = manifest.tokenizer
        architecture = "\(c.numHiddenLayers) layers, hidden \(c.hiddenSize), \(c.numAttentionHeads) heads, "
            + "intermediate \(c.intermediateSize), vocabulary \(c.vocabSize), GELU \(c.geluApproximation)"
        files = BundleIntegrity.check(manifest, in: directory)
        intact = files.allSatisfy { $0.state == .ok }
    }

    /// The first damaged file's error, or nil when the bundle is intact.
    public var damage: BundleError? { files.lazy.compactMap(\.error).first }

    /// Lines for people.
    public var text: String {
        var lines = ["\(path): \(format) version \(formatVersion) by \(createdBy), "
            + (intact ? "all files verified" : "DAMAGED (see below)")]
        lines.append("model: \(architecture)")
        lines.append("labels: " + labels.joined(separator: ", "))
        lines.append("tokenizer: \(tokenizer.vocabulary), lowercase \(tokenizer.lowercase), max length "
            + "\(tokenizer.maxSeqLength), truncation \(tokenizer.truncation), buckets "
            + tokenizer.bucketLengths.map(String.init).joined(separator: ", "))
        for (name, signature) in signatures.sorted(by: { $0.key < $1.key }) {
            lines.append("signature \(name):")
            for (kind, specs) in [("input ", signature.inputs), ("output", signature.outputs)] {
                for spec in specs {
                    let shape = "[" + spec.shape.map(\.description).joined(separator: ", ") + "]"
                    lines.append("  \(kind) \(spec.name): \(spec.dtype)\(shape)" + (spec.optional == true ? " (optional)" : ""))
                }
            }
        }
        lines.append("files:")
        let width = files.map { URL(fileURLWithPath: $0.path).lastPathComponent.count }.max() ?? 0
        for file in files {
            let name = URL(fileURLWithPath: file.path).lastPathComponent
            let size = String(file.bytes).leftPadded(to: 11)
            lines.append("  \(name.padding(toLength: width, withPad: " ", startingAt: 0))  \(size) bytes  "
                + "sha256 \(file.sha256.prefix(16))…  \(statusText(file))")
        }
        return lines.joined(separator: "\n")
    }

    private func statusText(_ file: BundleFileStatus) -> String {
        switch file.state {
        case .ok: return "ok"
        case .missing: return "MISSING"
        case .sizeMismatch: return "SIZE MISMATCH (\(file.foundBytes ?? 0) bytes on disk)"
        case .checksumMismatch: return "CHECKSUM MISMATCH (sha256 \(file.foundSHA256?.prefix(16) ?? "")… on disk)"
        case .notRegular: return "NOT A REGULAR FILE (\(file.foundKind ?? "unknown kind"))"
        case .unreadable: return "UNREADABLE"
        }
    }
}

private extension String {
    func leftPadded(to width: Int) -> String { String(repeating: " ", count: max(0, width - count)) + self }
}
