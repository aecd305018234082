// Strict loading of a checkpoint into a graph's parameters, like Model Garden's
// `assert_consumed`:
//
//   1. Map every checkpoint tensor through its family's table: a graph parameter, ignored
//      (optimizer slots, pretraining heads, buffers), or unexpected.
//   2. Fail on unexpected tensors, on two tensors for one parameter, and on missing
//      parameters outside the task head (`classifier.*`).
//   3. Check dtype (f32) and shape of every mapped tensor before reading any values.
//   4. Read, refusing NaN and infinite values, transposing TensorFlow kernels [in, out] into
//      the graph's [out, in].
//   5. Initialise missing task-head parameters: weights from a seeded truncated normal
//      (stddev 0.02), biases zero; report them as new.

import BertGraph
import BertRuntime
import Foundation

/// What a strict load did, for logs and `--json` output.
public struct LoadReport: Equatable, Sendable, CustomStringConvertible {
    /// The checkpoint file (index for TensorFlow).
    public var source: String
    public var family: CheckpointFamily
    /// Graph parameters whose values came from the checkpoint.
    public var loaded: [String]
    /// Task-head parameters the checkpoint lacks, initialised fresh.
    public var initialized: [String]
    /// Checkpoint tensors deliberately not loaded.
    public var ignored: [String]

    public var description: String {
        var lines = ["loaded \(loaded.count) parameters from \(source) (\(family))"]
        if !initialized.isEmpty {
            lines.append("initialised \(initialized.count) new task-head parameters: " + initialized.joined(separator: ", "))
        }
        if !ignored.isEmpty {
            let shown = ignored.prefix(8).joined(separator: ", ")
            lines.append("ignored \(ignored.count) checkpoint tensors: " + shown + (ignored.count > 8 ? ", …" : ""))
        }
        return lines.joined(separator: "\n")
    }
}

/// Loads graph parameters from checkpoints.
public enum CheckpointLoader {
    /// Standard deviation of initial task-head weights (BERT's initializer_range).
    public static let initializerRange = 0.02

    /// Loads every parameter in `parameters` from the checkpoint at `url` (a safetensors file,
    /// a TensorFlow index or prefix, or a model directory).
    /// - Parameters:
    ///   - parameters: the graph's parameters with their shapes, e.g.
    ///     `("bert.encoder.layer.0.attention.self.query.weight", [hidden, hidden])`.
    ///   - seed: seeds the initial values of task-head parameters the checkpoint lacks.
    /// - Returns: one f32 tensor per parameter, in graph layout, and what was done.
    /// - Throws: `CheckpointError` naming the file and tensor for any unreadable, unexpected,
    ///   missing, mistyped or mis-shaped tensor.
    public static func load(from url: URL, parameters: [(name: String, shape: [Int])],
                            seed: UInt64) throws -> (tensors: [String: HostTensor], report: LoadReport) {
        let reader = try CheckpointFormat.open(url)
        return try load(from: reader, family: reader.format.family, parameters: parameters, seed: seed)
    }

    /// Loads from an open reader whose tensors follow `family`'s names.
    public static func load(from reader: CheckpointReader, family: CheckpointFamily,
                            parameters: [(name: String, shape: [Int])],
                            seed: UInt64) throws -> (tensors: [String: HostTensor], report: LoadReport) {
        let file = reader.path
        let expectedShapes = Dictionary(parameters.map { ($0.name, $0.shape) }, uniquingKeysWith: { first, _ in first })

        // 1-2. Map names; collect unexpected, ignored and duplicate sources.
        var sources: [String: (info: CheckpointTensorInfo, transposed: Bool)] = [:]
        var ignored: [String] = [], unexpected: [String] = []
        for info in reader.tensors {
            switch family.role(of: info.name) {
            case .ignored:
                ignored.append(info.name)
            case .unknown:
                unexpected.append(info.name)
            case .parameter(let parameter, let transposed):
                guard expectedShapes[parameter] != nil else {
                    // A pooler or another task's head that this graph's head does not use.
                    if isHeadSpecific(parameter) { ignored.append(info.name) } else { unexpected.append(info.name) }
                    continue
                }
                if let other = sources[parameter] {
                    throw CheckpointError.duplicateParameter(
                        file: file, parameter: parameter, tensors: [other.info.name, info.name])
                }
                sources[parameter] = (info, transposed)
            }
        }
        if !unexpected.isEmpty { throw CheckpointError.unexpectedTensors(file: file, tensors: unexpected) }
        let absent = parameters.map(\.name).filter { sources[$0] == nil }
        let missing = absent.filter { !isTaskHead($0) }
        if !missing.isEmpty { throw CheckpointError.missingParameters(file: file, parameters: missing) }

        // 3. Types and shapes, before reading any values.
        for (name, shape) in parameters {
            guard let (info, transposed) = sources[name] else { continue }
            guard info.dtype == .float32 else {
                throw CheckpointError.wrongDType(file: file, tensor: info.name, parameter: name,
                                                 expected: CheckpointDType.float32.description, found: info.dtype.description)
            }
            let stored = transposed ? shape.reversed() : shape
            guard info.shape == stored, !transposed || shape.count == 2 else {
                throw CheckpointError.wrongShape(
                    file: file, tensor: info.name, parameter: name, expected: stored, found: info.shape)
            }
        }

        // 4-5. Values.
        var tensors: [String: HostTensor] = [:]
        var loaded: [String] = []
        for (name, shape) in parameters {
            if let (info, transposed) = sources[name] {
                let tensor = try reader.read(info.name)
                try checkFinite(tensor, name: info.name, file: file)
                tensors[name] = transposed ? transposeMatrix(tensor) : tensor
                loaded.append(name)
            } else {
                tensors[name] = initialValue(name: name, shape: shape, seed: seed)
            }
        }
        let report = LoadReport(source: file, family: family, loaded: loaded, initialized: absent, ignored: ignored)
        return (tensors, report)
    }

    /// Refuses NaN and infinite values, naming the tensor and the first bad element.
    static func checkFinite(_ tensor: HostTensor, name: String, file: String) throws {
        guard let values = tensor.floats, let index = values.firstIndex(where: { !$0.isFinite }) else { return }
        throw CheckpointError.nonFinite(file: file, tensor: name, index: index, value: values[index])
    }

    // MARK: - Task head

    /// Parameters a pretrained checkpoint need not have: the classification or span head.
    static func isTaskHead(_ name: String) -> Bool { name.hasPrefix("classifier.") || name.hasPrefix("qa_outputs.") }

    /// Parameters that only some heads' graphs have: the task heads, and the pooler, which the
    /// span head does not read. A checkpoint's tensor for one the graph lacks is ignored.
    static func isHeadSpecific(_ name: String) -> Bool { isTaskHead(name) || name.hasPrefix("bert.pooler.") }

    /// Truncated normal for weights (rank >= 2), zeros for biases.
    static func initialValue(name: String, shape: [Int], seed: UInt64) -> HostTensor {
        let count = shape.reduce(1, *)
        guard shape.count >= 2 else { return HostTensor(shape: shape, floats: [Float](repeating: 0, count: count)) }
        var sampler = TruncatedNormal(stddev: initializerRange, seed: TruncatedNormal.seed(seed, for: name))
        return HostTensor(shape: shape, floats: sampler.samples(count))
    }

    /// [rows, cols] -> [cols, rows]; the caller has checked the rank and dtype.
    static func transposeMatrix(_ tensor: HostTensor) -> HostTensor {
        let rows = tensor.shape[0], cols = tensor.shape[1]
        let source = tensor.floats ?? []
        var out = [Float](repeating: 0, count: source.count)
        source.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for r in 0..<rows {
                    for c in 0..<cols { dst[c * rows + r] = src[r * cols + c] }
                }
            }
        }
        return HostTensor(shape: [cols, rows], floats: out)
    }
}
