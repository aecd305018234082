// Finds and opens the checkpoint at a path: a safetensors file, a TensorFlow checkpoint (its
// index, its prefix, or a directory holding it), or a model directory with model.safetensors.

import BertText
import Foundation

/// The on-disk formats bertc reads weights from.
public enum CheckpointFormat: String, Sendable, CaseIterable {
    case safetensors
    case tfCheckpoint = "tf_checkpoint"

    /// The naming convention of checkpoints stored in this format.
    public var family: CheckpointFamily {
        switch self {
        case .safetensors: return .huggingFace
        case .tfCheckpoint: return .tensorFlow
        }
    }

    /// Which format `url` holds, without opening it. A directory is searched for
    /// `model.safetensors`, then for a TensorFlow index (`bert_model.ckpt.index` or a single
    /// `*.index`).
    public static func detect(at url: URL) throws -> CheckpointFormat {
        let files = FileManager.default
        var isDirectory: ObjCBool = false
        let exists = files.fileExists(atPath: url.path, isDirectory: &isDirectory)
        if exists, isDirectory.boolValue {
            if files.fileExists(atPath: url.appendingPathComponent("model.safetensors").path) { return .safetensors }
            let names = (try? files.contentsOfDirectory(atPath: url.path)) ?? []
            if names.contains(where: { $0.hasSuffix(".index") }) { return .tfCheckpoint }
            throw CheckpointError.unknownFormat(path: url.path)
        }
        if url.pathExtension == "safetensors" { return .safetensors }
        if url.pathExtension == "index" || files.fileExists(atPath: url.path + ".index") { return .tfCheckpoint }
        if exists, isSafetensorsFile(url) { return .safetensors }
        throw CheckpointError.unknownFormat(path: url.path)
    }

    /// Opens the checkpoint at `url` (see `detect(at:)`).
    public static func open(_ url: URL) throws -> CheckpointReader {
        switch try detect(at: url) {
        case .safetensors:
            var isDirectory: ObjCBool = false
            let file = FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) && isDirectory.boolValue
                ? url.appendingPathComponent("model.safetensors") : url
            return try SafetensorsReader(url: file)
        case .tfCheckpoint:
            return try TFCheckpointReader(url: url)
        }
    }

    /// A file of another name that starts like a safetensors file: a plausible header length
    /// followed by `{`.
    private static func isSafetensorsFile(_ url: URL) -> Bool {
        // Opening a FIFO would block until someone writes to it.
        guard (try? FileAccess.regularFileSize(url.path)) != nil, let handle = try? FileHandle(forReadingFrom: url) else { return false }
        defer { try? handle.close() }
        guard let head = try? handle.read(upToCount: 9), head.count == 9 else { return false }
        return head[head.startIndex + 8] == UInt8(ascii: "{")
    }
}
