import BertGraph

// Rematerialize: trades a cheap elementwise pass for memory in training graphs. A value that
// a forward node reads and a backward node reads much later would stay in the arena the whole
// time in between; when it is a cheap unary function of a value that must stay alive until
// then anyway, the late reader gets a fresh copy computed right before it instead.
//
// In BERT this catches the two largest activations of every layer:
//   - the attention dropout's output [batch, heads, seq, seq] (read by dV = P^T dC), whose
//     input, the softmax output, the softmax gradient reads later;
//   - the GELU's output [batch, seq, intermediate] (read by the output dense's weight
//     gradient), whose input the GELU gradient reads later.
// Dropout masks come from (seed, step, stream, i) only, so a recomputed dropout is bit for bit
// the forward one; a recomputed GELU is the same function of the same input.
//
// Stages:
//   1. last reader of every value (graph outputs count as read at the end);
//   2. candidates: nodes of a recomputable op (`dropout`, `gelu`) whose output is not a graph
//      output; for each reader after the first whose index is at most the input's last
//      reader (so the input's lifetime does not grow), a new node recomputing the value just
//      before that reader, which then reads the copy;
//   3. the graph: nodes with the recomputations inserted in place.

/// Recomputes cheap unary activations for their late (backward) readers instead of keeping
/// them alive across the graph.
public struct Rematerialize: GraphPass {
    public init() {}

    /// Whether `op` is cheap and deterministic enough to run twice.
    private func recomputable(_ op: Op) -> Bool {
        switch op {
        case .dropout, .gelu: return true
        case .gather, .gatherGrad, .positions, .select, .selectGrad, .gatherRows, .scatterRows, .add, .mul,
             .scale, .geluGrad, .tanh,
             .tanhGrad, .dropoutGrad, .matmul, .batchMatmul, .sumLeading, .layerNorm, .layerNormGrad,
             .maskedSoftmax, .softmaxGrad, .reshape, .transpose, .softmaxCrossEntropy, .softmaxCrossEntropyGrad,
             .meanSquaredError, .meanSquaredErrorGrad, .fill, .linear, .addLayerNorm, .scaledMaskedSoftmax,
             .scaledSoftmaxGrad, .geluGradSum, .attention:
            return false
        }
    }

    public func run(_ graph: Graph) throws -> Graph {
        var g = graph
        let end = graph.nodes.count
        var lastReader = [Int](repeating: -1, count: graph.values.count)
        var readers = [[Int]](repeating: [], count: graph.values.count)
        for (i, node) in graph.nodes.enumerated() {
            for v in node.inputs {
                lastReader[v] = i
                if readers[v].last != i { readers[v].append(i) }
            }
        }
        for output in graph.outputs { lastReader[output.value] = end }

        // Recomputations to insert before node index i: (node, original value, copy).
        var before: [Int: [Node]] = [:]
        var rewired: [Int: [ValueID: ValueID]] = [:]
        var names = UniqueNames(taken: graph.values.map(\.name))
        for node in graph.nodes where recomputable(node.op) && node.inputs.count == 1 && node.outputs.count == 1 {
            let (x, y) = (node.inputs[0], node.outputs[0])
            guard lastReader[y] < end, readers[y].count > 1 else { continue }
            for r in readers[y].dropFirst() where r <= lastReader[x] {
                let copy = g.addValue(graph.values[y].type, name: names.claim("\(graph.values[y].name).recomputed"),
                                      role: .intermediate)
                before[r, default: []].append(Node(op: node.op, inputs: [x], outputs: [copy]))
                rewired[r, default: [:]][y] = copy
            }
        }
        guard !before.isEmpty else { return graph }

        g.nodes = []
        for (i, node) in graph.nodes.enumerated() {
            g.nodes += before[i] ?? []
            var n = node
            if let map = rewired[i] { n.inputs = n.inputs.map { map[$0] ?? $0 } }
            g.nodes.append(n)
        }
        return g
    }
}
