import BertText
import Foundation

/// Errors of writing, reading, verifying and serving a bundle. Each names the file (and the
/// tensor or line when there is one) and says what is wrong.
public enum BundleError: Error, CustomStringConvertible, Equatable {
    /// The bundle directory itself does not exist or is not a directory.
    case notABundle(path: String, reason: String)
    /// A file the manifest lists (or the manifest itself) is absent.
    case missingFile(file: String)
    /// A listed path (or the manifest) is a symbolic link, FIFO, device, socket or directory.
    case notRegularFile(file: String, kind: String)
    /// A file's size differs from the manifest's: truncated or extended.
    case sizeMismatch(file: String, expected: Int, found: Int)
    /// A file's SHA-256 differs from the manifest's: the contents were changed.
    case checksumMismatch(file: String, expected: String, found: String)
    /// `manifest.json` is not valid JSON or lacks or contradicts a required field.
    case badManifest(file: String, reason: String)
    /// The manifest's `format_version` is one this build cannot read.
    case unsupportedVersion(file: String, found: Int, supported: [Int])
    /// The graph file does not parse, or is not a classifier inference graph.
    case badGraph(file: String, reason: String)
    /// The weights file does not match the graph's parameters.
    case weightMismatch(file: String, reason: String)
    /// The vocabulary file cannot be used.
    case badVocabulary(file: String, reason: String)
    /// A freshly written export, read back, does not reproduce the model; nothing was
    /// published.
    case exportMismatch(path: String, maxAbsDiff: Float, tolerance: Float)
    /// A weight holds NaN or infinity: the model computes nothing meaningful.
    case nonFiniteWeight(file: String, tensor: String, value: Float)
    /// Running the bundle or model gave a NaN or infinite logit.
    case nonFiniteLogits(path: String, pair: Int)
    /// Running the bundle on sample pairs failed.
    case runFailed(path: String, reason: String)
    /// The destination of an export exists and `--overwrite` was not given.
    case destinationExists(path: String, reason: String)
    /// A file could not be read or written.
    case io(file: String, reason: String)
    /// The inputs given to the signature are inconsistent.
    case badInput(reason: String)

    public var description: String {
        switch self {
        case .notABundle(let path, let reason):
            return "\(path) is not a bertc bundle: \(reason)"
        case .missingFile(let file):
            return "\(file) is missing; the bundle is incomplete (export it again)"
        case .notRegularFile(let file, let kind):
            return "\(file) is \(kind), not a regular file: a bundle holds only regular files inside its directory; "
                + "refusing to read it"
        case .sizeMismatch(let file, let expected, let found):
            return "\(file) has \(found) bytes but the manifest says \(expected): the file is truncated or was modified"
        case .checksumMismatch(let file, let expected, let found):
            return "\(file) does not match its checksum (sha256 \(found), manifest says \(expected)): "
                + "the file was modified or corrupted; refusing to load it"
        case .badManifest(let file, let reason):
            return "bad bundle manifest \(file): \(reason)"
        case .unsupportedVersion(let file, let found, let supported):
            return "\(file): bundle format version \(found) is not supported by this bertc (reads "
                + supported.map(String.init).joined(separator: ", ") + ")"
        case .badGraph(let file, let reason):
            return "bad bundle graph \(file): \(reason)"
        case .weightMismatch(let file, let reason):
            return "weights \(file) do not match the graph: \(reason)"
        case .badVocabulary(let file, let reason):
            return "bad bundle vocabulary \(file): \(reason)"
        case .exportMismatch(let path, let diff, let tolerance):
            return "the export to \(path) does not reproduce the model when read back (max abs diff \(diff), "
                + "tolerance \(tolerance)\(diff.isFinite ? "" : "; a logit is NaN or infinite")); "
                + "it was not written and anything already at \(path) is unchanged"
        case .nonFiniteWeight(let file, let tensor, let value):
            return "\(file): tensor \(tensor) holds \(value); weights must be finite numbers"
        case .nonFiniteLogits(let path, let pair):
            return "\(path) computes a non-finite logit (NaN or infinity) for sample pair \(pair + 1); refusing it"
        case .runFailed(let path, let reason):
            return "running the bundle \(path) on the sample pairs failed: \(reason)"
        case .destinationExists(let path, let reason):
            return "\(path) \(reason)"
        case .io(let file, let reason):
            return "cannot access \(file): \(reason)"
        case .badInput(let reason):
            return "bad signature input: \(reason)"
        }
    }
}

extension BundleError {
    /// The error for a bundle file `RegularFile.contents(of:limit:)` did not read; `tooLarge`
    /// words the one for a file over the limit.
    static func unreadable(_ url: URL, _ problem: RegularFile.Problem, tooLarge: (Int) -> BundleError) -> BundleError {
        switch problem {
        case .missing: return .missingFile(file: url.path)
        case .notRegular(let kind): return .notRegularFile(file: url.path, kind: kind)
        case .unreadable: return .io(file: url.path, reason: "the file exists but cannot be read")
        case .tooLarge(let size): return tooLarge(size)
        case .readFailed(let reason): return .io(file: url.path, reason: "cannot read it (\(reason))")
        }
    }
}
