// Errors of the checkpoint readers, writer and loader. Every case names the file and, where
// there is one, the tensor, so that a user can tell which download or export is broken.

/// Why a checkpoint could not be read, written or matched to a graph's parameters.
public enum CheckpointError: Error, Equatable, CustomStringConvertible {
    /// The file could not be opened or mapped.
    case unreadable(file: String, reason: String)
    /// The file ends before a structure it promises (header, block, footer, tensor bytes).
    case truncated(file: String, detail: String)
    /// A header or index that is syntactically or semantically invalid.
    case malformedHeader(file: String, detail: String)
    /// A tensor entry whose byte range or shape is inconsistent with the file.
    case malformedTensor(file: String, tensor: String, detail: String)
    /// A dtype the reader cannot convert to a `HostTensor`.
    case unsupportedDType(file: String, tensor: String, dtype: String)
    /// A feature of the format the reader does not implement (compression, sliced tensors).
    case unsupportedFeature(file: String, detail: String)
    /// Stored and computed CRC32C disagree.
    case checksumMismatch(file: String, what: String, stored: UInt32, computed: UInt32)
    /// A data shard named by a TensorFlow index does not exist.
    case missingShard(file: String, shard: String)
    /// The requested tensor is not in the checkpoint.
    case tensorNotFound(file: String, tensor: String)
    /// A directory or path that holds no checkpoint this loader recognises.
    case unknownFormat(path: String)
    /// A graph parameter whose checkpoint tensor has another dtype.
    case wrongDType(file: String, tensor: String, parameter: String, expected: String, found: String)
    /// A graph parameter whose checkpoint tensor has another shape (after any transpose).
    case wrongShape(file: String, tensor: String, parameter: String, expected: [Int], found: [Int])
    /// Graph parameters (outside the task head) that no checkpoint tensor provides.
    case missingParameters(file: String, parameters: [String])
    /// Checkpoint tensors that map to no graph parameter and are not known to be ignorable.
    case unexpectedTensors(file: String, tensors: [String])
    /// Two checkpoint tensors that map to the same graph parameter.
    case duplicateParameter(file: String, parameter: String, tensors: [String])
    /// A tensor holding NaN or an infinity, which would make every prediction NaN.
    case nonFinite(file: String, tensor: String, index: Int, value: Float)
    /// Writing a checkpoint failed; the previous file, if any, is untouched.
    case writeFailed(file: String, reason: String)

    public var description: String {
        switch self {
        case .unreadable(let file, let reason):
            return "\(file): cannot read the file: \(reason)"
        case .truncated(let file, let detail):
            return "\(file): file is truncated: \(detail); re-download or re-export it"
        case .malformedHeader(let file, let detail):
            return "\(file): malformed header: \(detail)"
        case .malformedTensor(let file, let tensor, let detail):
            return "\(file): tensor '\(tensor)': \(detail)"
        case .unsupportedDType(let file, let tensor, let dtype):
            return "\(file): tensor '\(tensor)' has dtype \(dtype), which bertc cannot read"
        case .unsupportedFeature(let file, let detail):
            return "\(file): unsupported: \(detail)"
        case .checksumMismatch(let file, let what, let stored, let computed):
            return "\(file): CRC32C mismatch in \(what) (stored \(hex(stored)), computed \(hex(computed))); "
                + "the file is corrupt"
        case .missingShard(let file, let shard):
            return "\(file): data shard \(shard) is missing; a TensorFlow checkpoint needs the .index "
                + "file and every .data-NNNNN-of-NNNNN file next to it"
        case .tensorNotFound(let file, let tensor):
            return "\(file): no tensor named '\(tensor)'"
        case .unknownFormat(let path):
            return "\(path): no checkpoint found (expected model.safetensors, a *.safetensors file, "
                + "or a TensorFlow checkpoint *.ckpt.index / prefix)"
        case .wrongDType(let file, let tensor, let parameter, let expected, let found):
            return "\(file): tensor '\(tensor)' for parameter \(parameter) has dtype \(found), expected \(expected)"
        case .wrongShape(let file, let tensor, let parameter, let expected, let found):
            return "\(file): tensor '\(tensor)' for parameter \(parameter) has shape \(found), "
                + "the graph expects \(expected); does the model config match the checkpoint?"
        case .missingParameters(let file, let parameters):
            return "\(file): \(parameters.count) graph parameter(s) missing from the checkpoint: "
                + listed(parameters)
        case .unexpectedTensors(let file, let tensors):
            return "\(file): \(tensors.count) checkpoint tensor(s) map to no graph parameter: "
                + listed(tensors)
        case .duplicateParameter(let file, let parameter, let tensors):
            return "\(file): parameter \(parameter) is provided by several tensors: " + listed(tensors)
        case .nonFinite(let file, let tensor, let index, let value):
            return "\(file): tensor '\(tensor)' holds \(value) at element \(index); a model's weights must be "
                + "finite numbers (was it saved from a training run that diverged?)"
        case .writeFailed(let file, let reason):
            return "\(file): cannot write the checkpoint: \(reason)"
        }
    }
}

private func hex(_ value: UInt32) -> String {
    let digits = String(value, radix: 16)
    return "0x" + String(repeating: "0", count: max(0, 8 - digits.count)) + digits
}

/// At most ten names, then a count, so that a wrong config does not print 200 lines.
private func listed(_ names: [String]) -> String {
    let shown = names.prefix(10).joined(separator: ", ")
    return names.count > 10 ? shown + ", … (\(names.count - 10) more)" : shown
}
