/// Errors found while building, checking or parsing a graph. Each names the node and op.
public enum GraphError: Error, CustomStringConvertible, Equatable {
    /// An op got inputs whose types do not fit its rule.
    case shapeMismatch(node: String, op: String, detail: String)
    /// An op got the wrong number of inputs.
    case arity(node: String, op: String, expected: Int, got: Int)
    /// The graph's structure is broken (a value used before it is defined, defined twice, ...).
    case malformed(String)
    /// The text format could not be parsed.
    case parse(line: Int, message: String)

    public var description: String {
        switch self {
        case .shapeMismatch(let node, let op, let detail):
            return "shape error at node \(node) (\(op)): \(detail)"
        case .arity(let node, let op, let expected, let got):
            return "node \(node) (\(op)) takes \(expected) inputs, got \(got)"
        case .malformed(let message):
            return "malformed graph: \(message)"
        case .parse(let line, let message):
            return "graph text line \(line): \(message)"
        }
    }
}
