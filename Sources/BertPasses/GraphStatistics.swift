import BertGraph

// Counts that describe a graph's size and cost: nodes per op, parameter elements, FLOPs.

/// Op counts and parameter count of a graph, and its FLOPs under given dim bindings.
///
/// FLOPs rule (`flops(of:)`):
/// - `matmul`, `batch_matmul`: 2·m·n·k per product, i.e. 2 × (output elements) × (contracted
///   length); for `matmul` with `transpose_a` the contracted length is the product of the
///   leading dims of `a`;
/// - `Op.Kind.movement` (`gather`, `positions`, `select`, `reshape`, `transpose`, `fill`, ...): 0;
/// - `Op.Kind.reductions` (`sum_leading`, `gather_grad`, the loss ops and their gradients):
///   1 per element of their largest input;
/// - `Op.Kind.elementwise` and `Op.Kind.normalizations` (`layer_norm`, `masked_softmax` and
///   their gradients): 1 per output element, whatever the per-element cost of its arithmetic;
/// - fused ops count what the ops they replace count, so fusing keeps a graph's FLOPs.
public struct GraphStatistics: Hashable, Sendable {
    /// Number of nodes of each op, keyed by `Op.name`.
    public var opCounts: [String: Int]
    /// Total elements of all parameters (parameter shapes must be fixed; symbolic dims count 0).
    public var parameterCount: Int
    /// Number of nodes.
    public var nodeCount: Int

    private let graph: Graph

    public init(_ graph: Graph) {
        self.graph = graph
        nodeCount = graph.nodes.count
        opCounts = graph.nodes.reduce(into: [:]) { $0[$1.op.name, default: 0] += 1 }
        parameterCount = graph.parameters.reduce(0) { $0 + (graph.values[$1].type.elementCount([:]) ?? 0) }
    }

    /// Total FLOPs of one run under `bindings` (e.g. `["batch": 8, "seq": 128]`).
    /// - Throws: `GraphError.malformed` naming a value with a dim `bindings` does not bind.
    public func flops(bindings: [String: Int]) throws -> Int {
        try flopsByOp(bindings: bindings).values.reduce(0, +)
    }

    /// FLOPs per op name under `bindings`.
    public func flopsByOp(bindings: [String: Int]) throws -> [String: Int] {
        var result: [String: Int] = [:]
        for i in graph.nodes.indices {
            result[graph.nodes[i].op.name, default: 0] += try flops(of: i, bindings)
        }
        return result
    }

    /// FLOPs of node `i`: by the op's group (`Op.Kind`), else one row per op.
    private func flops(of i: Int, _ bindings: [String: Int]) throws -> Int {
        let node = graph.nodes[i]
        func sizes(_ v: ValueID) throws -> [Int] {
            guard let s = graph.values[v].type.shape.resolve(bindings) else {
                throw GraphError.malformed("GraphStatistics: value \(graph.values[v].name) has shape \(graph.values[v].type.shape) with a dim not bound by \(bindings)")
            }
            return s
        }
        func count(_ v: ValueID) throws -> Int { try sizes(v).reduce(1, *) }
        let outputElements = try node.outputs.reduce(0) { try $0 + count($1) }
        let kind = node.op.kind
        if Op.Kind.movement.contains(kind) { return 0 }
        if Op.Kind.reductions.contains(kind) { return try node.inputs.map(count).max() ?? 0 }
        if Op.Kind.elementwise.contains(kind) || Op.Kind.normalizations.contains(kind) { return outputElements }
        switch node.op {
        case .matmul(let ta, let tb):
            let a = try sizes(node.inputs[0])
            if ta { return 2 * outputElements * a.dropLast().reduce(1, *) }
            let b = try sizes(node.inputs[1])
            return 2 * outputElements * (tb ? b[1] : b[0])
        case .batchMatmul(let ta, _):
            let a = try sizes(node.inputs[0])
            return 2 * outputElements * (ta ? a[a.count - 2] : a[a.count - 1])
        case .linear(let activation):
            // The GEMM, plus the bias add and the activation it replaces (one each per element).
            let k = try sizes(node.inputs[1])[1]
            return 2 * outputElements * k + outputElements * (activation == .identity ? 1 : 2)
        case .addLayerNorm, .scaledMaskedSoftmax, .scaledSoftmaxGrad:
            return 2 * outputElements  // the two unfused ops, one per element each
        case .geluGradSum:
            return 2 * (try count(node.outputs[0]))  // the GELU gradient and the reduction
        case .attention(let heads, _):
            // What the unfused ops count: both batched products (2 sq sk h each per example)
            // and the scaled softmax (2 per score).
            let k = try sizes(node.inputs[1])
            let keys = k[1], width = k[2], queries = outputElements / max(k[0] * width, 1)
            return k[0] * (4 * queries * keys * width + 2 * heads * queries * keys)
        default:
            throw GraphError.malformed("GraphStatistics: op \(node.op.name) is in no FLOP group of Op.Kind and has no row here")
        }
    }
}
