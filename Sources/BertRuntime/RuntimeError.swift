import BertGraph

/// Errors the runtime reports for bad inputs, parameters or plans. Each names the tensor (and
/// the node, for errors found while running) and, for shape problems, both shapes.
public enum RuntimeError: Error, CustomStringConvertible, Equatable {
    /// `run` was not given a graph input.
    case missingInput(name: String)
    /// An input's shape differs from the graph's under the plan's bindings.
    case inputShapeMismatch(name: String, expected: [Int], got: [Int])
    /// An input's element type cannot feed the graph input (float for an id tensor, or back).
    case inputTypeMismatch(name: String, expected: DType, got: DType)
    /// A parameter store lacks a parameter the graph reads (or a gradient store lacks a slot).
    case missingParameter(name: String)
    /// A parameter's shape in a store or a tensor set into it differs from the expected one.
    case parameterShapeMismatch(name: String, expected: [Int], got: [Int])
    /// A parameter must be float32.
    case parameterTypeMismatch(name: String, got: DType)
    /// A value's shape has a symbolic dim the plan does not bind.
    case unboundDim(value: String, shape: String)
    /// The memory plan does not fit the graph (wrong value count, a missing, misaligned or
    /// out-of-arena offset, a size that disagrees with the graph).
    case invalidPlan(String)
    /// An integer input (token id, label) indexes outside its table.
    case indexOutOfRange(node: String, op: String, index: Int, bound: Int)
    /// A loss's target position (a SQuAD start or end) is where its row's mask is 0.
    case maskedPosition(node: String, op: String, row: Int, position: Int)
    /// A 64-bit integer input holds a value the graph's 32-bit ids cannot.
    case inputValueOutOfRange(name: String, value: Int64)

    public var description: String {
        switch self {
        case .missingInput(let name):
            return "missing input '\(name)'"
        case .inputShapeMismatch(let name, let expected, let got):
            return "input '\(name)' has shape \(got), the graph expects \(expected)"
        case .inputTypeMismatch(let name, let expected, let got):
            return "input '\(name)' is \(got.rawValue), the graph expects \(expected.rawValue)"
        case .missingParameter(let name):
            return "parameter '\(name)' is not in the parameter store"
        case .parameterShapeMismatch(let name, let expected, let got):
            return "parameter '\(name)' has shape \(got), expected \(expected)"
        case .parameterTypeMismatch(let name, let got):
            return "parameter '\(name)' must be f32, got \(got.rawValue)"
        case .unboundDim(let value, let shape):
            return "value '\(value)' has shape \(shape) with a dim the memory plan does not bind"
        case .invalidPlan(let detail):
            return "memory plan does not fit the graph: \(detail)"
        case .indexOutOfRange(let node, let op, let index, let bound):
            return "node \(node) (\(op)): index \(index) is outside [0, \(bound))"
        case .maskedPosition(let node, let op, let row, let position):
            return "node \(node) (\(op)): row \(row) targets position \(position), which its mask leaves out"
        case .inputValueOutOfRange(let name, let value):
            return "input '\(name)' holds \(value), which does not fit the graph's 32-bit ids"
        }
    }
}
