// Errors of the ONNX export. Each names the node, op or tensor involved and says what to do.

/// Why an ONNX export failed. Nothing is written when any of these is thrown.
public enum ONNXExportError: Error, CustomStringConvertible, Equatable {
    /// The graph itself is malformed (GraphVerifier's message).
    case invalidGraph(String)
    /// The graph holds an op that only a training graph uses (gradients, losses, dropout).
    case trainingOnlyOp(op: String, node: String)
    /// The op is exportable in general, but not in the form this node uses it.
    case unsupported(op: String, node: String, detail: String)
    /// A parameter of the graph has no entry in the weights.
    case missingWeight(name: String)
    /// A weight's shape or element type differs from the parameter's type in the graph.
    case weightMismatch(name: String, expected: String, got: String)
    /// libonnx rejected the exported model (`check_model` + strict shape inference).
    case invalidModel(message: String)
    /// The model does not fit into one protobuf message even with external data.
    case modelTooLarge(bytes: Int)
    /// Writing the model or its external data file failed.
    case writeFailed(path: String, reason: String)

    public var description: String {
        switch self {
        case .invalidGraph(let message):
            return "cannot export a malformed graph: \(message)"
        case .trainingOnlyOp(let op, let node):
            return "op \(op) cannot be exported (training-only), at node \(node); export the inference graph"
        case .unsupported(let op, let node, let detail):
            return "node \(node) (\(op)) cannot be exported to ONNX: \(detail)"
        case .missingWeight(let name):
            return "no weight for parameter \(name); load a checkpoint that has it"
        case .weightMismatch(let name, let expected, let got):
            return "weight \(name) is \(got), the graph expects \(expected)"
        case .invalidModel(let message):
            return "the exported ONNX model is invalid (libonnx): \(message)"
        case .modelTooLarge(let bytes):
            return "the ONNX model needs \(bytes) bytes without its weights, over protobuf's 2 GiB limit"
        case .writeFailed(let path, let reason):
            return "could not write \(path): \(reason)"
        }
    }
}
