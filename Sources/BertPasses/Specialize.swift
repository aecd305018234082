import BertGraph

// Specialize: binds symbolic dims (`batch`, `seq`) to numbers, giving the graph of one
// sequence-length bucket (the per-bucket memory plans rely on it).
//
// Stages:
//   1. check the bindings (no negative sizes);
//   2. substitute the bound symbols in every input's and parameter's type;
//   3. substitute them in op attributes that hold dims (reshape shapes, select_grad sizes,
//      scatter_rows leading dims, fill shapes) — `specialised(_:)`, one row per op;
//   4. recompute every node's output types from the shape rules, in node order, so they are
//      exactly what `InferShapes` would give.
// Symbols without a binding stay symbolic.

/// Binds symbolic dims to numbers in every type and op attribute.
public struct Specialize: GraphPass {
    /// Symbol name -> size, e.g. `["batch": 8, "seq": 128]`.
    public var bindings: [String: Int]

    public init(bindings: [String: Int]) { self.bindings = bindings }

    /// `op` with the bound symbols in its dim-valued attributes replaced by numbers.
    private func specialised(_ op: Op) -> Op {
        switch op {
        case .selectGrad(let axis, let index, let size):
            return .selectGrad(axis: axis, index: index, size: size.resolve(bindings).map(Dim.fixed) ?? size)
        case .reshape(let shape):
            return .reshape(shape.specialised(bindings))
        case .scatterRows(let leading):
            return .scatterRows(leading: leading.specialised(bindings))
        case .fill(let value, let shape):
            return .fill(value: value, shape: shape.specialised(bindings))
        case .gather, .gatherGrad, .positions, .select, .gatherRows, .add, .mul, .scale, .gelu, .geluGrad, .tanh,
             .tanhGrad, .dropout, .dropoutGrad, .matmul, .batchMatmul, .sumLeading, .layerNorm,
             .layerNormGrad, .maskedSoftmax, .softmaxGrad, .transpose, .softmaxCrossEntropy,
             .softmaxCrossEntropyGrad, .meanSquaredError, .meanSquaredErrorGrad, .linear, .addLayerNorm,
             .scaledMaskedSoftmax, .scaledSoftmaxGrad, .geluGradSum, .attention:
            return op
        }
    }

    public func run(_ graph: Graph) throws -> Graph {
        for (symbol, size) in bindings where size < 0 {
            throw GraphError.malformed("Specialize: dim \(symbol) is bound to \(size), a negative size")
        }
        var g = graph
        for v in g.inputs + g.parameters {
            g.values[v].type.shape = g.values[v].type.shape.specialised(bindings)
        }
        for i in g.nodes.indices {
            g.nodes[i].op = specialised(g.nodes[i].op)
            let types = try g.nodes[i].op.outputTypes(g.nodes[i].inputs.map { g.values[$0].type }, node: g.nodeName(i))
            guard types.count == g.nodes[i].outputs.count else {
                throw GraphError.malformed("Specialize: node \(g.nodeName(i)) has \(g.nodes[i].outputs.count) outputs, its rule gives \(types.count)")
            }
            for (o, t) in zip(g.nodes[i].outputs, types) { g.values[o].type = t }
        }
        // Values no node produces (not inputs or parameters either) keep a consistent type too.
        let producers = g.producers()
        for v in g.values.indices where g.values[v].role == .intermediate && producers[v] == nil {
            g.values[v].type.shape = g.values[v].type.shape.specialised(bindings)
        }
        return g
    }
}
