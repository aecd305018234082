import BertGraph

// FuseOps: replaces chains of ops by one fused op whose kernel does the chain's work in one
// pass over memory. It runs after Differentiate (gradient rules see only unfused ops) and
// before EliminateDeadCode, which drops the values the chains no longer produce.
//
// A chain fuses only when every intermediate value has exactly one reader (the next op of the
// chain) and is not a graph output, so nothing else ever needs the values it skips. That rule
// decides per graph what fuses: e.g. a GELU's pre-activation is read again by the GELU
// gradient in a training graph, so there `linear` keeps the GELU separate.
//
// Stages, each one walk over the nodes in order (a fused node takes the place of the chain's
// last node, or of its first when later nodes read the first node's output):
//   1. readers: how many nodes read each value (graph outputs count as a reader);
//   2. linear: matmul(x, W^T) with W a parameter, then add(bias [out]) -> linear(identity);
//      linear(identity) then gelu -> linear(gelu);
//   3. add + layerNorm: add(a, b) of equal shapes, then layerNorm -> addLayerNorm;
//   4. attention softmax: scale(f) then maskedSoftmax -> scaledMaskedSoftmax(f), and in the
//      backward softmaxGrad then scale(f) -> scaledSoftmaxGrad(f);
//   5. bias gradient of a GELU layer: geluGrad whose output a sumLeading(keepRank: 1) reads
//      (among other readers) -> geluGradSum with outputs (dx, dbias), at the geluGrad's place;
//   6. attention (graphs whose softmax nothing else reads: inference and evaluation): the
//      heads of q, k and v (reshape [b, s, heads, d], transpose [0, 2, 1, 3]; for a query of
//      one row, reshape [b, heads, 1, d] alone), the scores' batchMatmul, scaledMaskedSoftmax,
//      the context's batchMatmul and the way back to [b, s, h] -> attention(heads, factor);
//   7. the graph: surviving nodes in order; values are left for EliminateDeadCode.
// Softmax cross-entropy and LayerNorm's backward are single ops already.

/// Fuses op chains of a (differentiated) graph into the fused ops of `Op`.
public struct FuseOps: GraphPass {
    public init() {}

    /// The graph being rewritten: nodes by index (nil once fused away) and who reads what.
    private struct Rewrite {
        let graph: Graph
        var nodes: [Node?]
        var readers: [Int]
        var producer: [Int?]

        init(_ graph: Graph) {
            self.graph = graph
            nodes = graph.nodes
            readers = [Int](repeating: 0, count: graph.values.count)
            producer = graph.producers()
            for node in graph.nodes { for v in node.inputs { readers[v] += 1 } }
            for output in graph.outputs { readers[output.value] += 1 }
        }

        /// The node producing `v` when `v` has exactly one reader, with its index.
        func soleProducer(of v: ValueID) -> (index: Int, node: Node)? {
            guard readers[v] == 1, let p = producer[v], let node = nodes[p] else { return nil }
            return (p, node)
        }

        func shape(_ v: ValueID) -> Shape { graph.values[v].type.shape }

        /// Replaces node `i` by `op` over `inputs`, keeping its outputs, and drops the nodes
        /// `dropped` (whose outputs only the chain read).
        mutating func fuse(_ i: Int, dropping dropped: [Int], op: Op, inputs: [ValueID]) {
            for p in dropped + [i] { for v in nodes[p]!.inputs { readers[v] -= 1 } }
            for v in inputs { readers[v] += 1 }
            nodes[i] = Node(op: op, inputs: inputs, outputs: nodes[i]!.outputs)
            for p in dropped { nodes[p] = nil }
        }

        /// When `v` is the heads of a [b, s, h] value `x` as [b, heads, s, d] (reshape to
        /// [b, s, heads, d], then transpose [0, 2, 1, 3]; or, from x [b, h], a reshape to
        /// [b, heads, 1, d]) read only on the way: x and the nodes of the way.
        func headsSource(of v: ValueID) -> (source: ValueID, nodes: [Int])? {
            let heads = shape(v)
            guard heads.rank == 4, case .fixed(let count) = heads[1], case .fixed(let d) = heads[3],
                  let (p, node) = soleProducer(of: v) else { return nil }
            if node.op == .transpose([0, 2, 1, 3]), let (q, split) = soleProducer(of: node.inputs[0]),
               split.op == .reshape(Shape([heads[0], heads[2], heads[1], heads[3]])),
               shape(split.inputs[0]) == Shape([heads[0], heads[2], .fixed(count * d)]) {
                return (split.inputs[0], [p, q])
            }
            if case .reshape = node.op, heads[2] == .fixed(1),
               shape(node.inputs[0]) == Shape([heads[0], .fixed(count * d)]) {
                return (node.inputs[0], [p])
            }
            return nil
        }
    }

    // MARK: - Stages

    /// Stage 2: matmul + bias, then the GELU that follows.
    private func fuseLinear(_ r: inout Rewrite) {
        for i in r.nodes.indices {
            guard let node = r.nodes[i] else { continue }
            if node.op == .add, let (p, mm) = r.soleProducer(of: node.inputs[0]),
               mm.op == .matmul(transposeA: false, transposeB: true),
               r.graph.values[mm.inputs[1]].role == .parameter, r.shape(node.inputs[1]).rank == 1 {
                r.fuse(i, dropping: [p], op: .linear(activation: .identity), inputs: [mm.inputs[0], mm.inputs[1], node.inputs[1]])
            } else if case .gelu(let form) = node.op, let (p, lin) = r.soleProducer(of: node.inputs[0]),
                      lin.op == .linear(activation: .identity) {
                r.fuse(i, dropping: [p], op: .linear(activation: .gelu(form)), inputs: lin.inputs)
            }
        }
    }

    /// Stage 3: residual add then LayerNorm.
    private func fuseAddLayerNorm(_ r: inout Rewrite) {
        for i in r.nodes.indices {
            guard let node = r.nodes[i], case .layerNorm(let eps) = node.op,
                  let (p, add) = r.soleProducer(of: node.inputs[0]), add.op == .add,
                  r.shape(add.inputs[0]) == r.shape(add.inputs[1]) else { continue }
            r.fuse(i, dropping: [p], op: .addLayerNorm(epsilon: eps),
                   inputs: [add.inputs[0], add.inputs[1], node.inputs[1], node.inputs[2]])
        }
    }

    /// Stage 4: the attention scale folded into the softmax and into its gradient.
    private func fuseScaledSoftmax(_ r: inout Rewrite) {
        for i in r.nodes.indices {
            guard let node = r.nodes[i] else { continue }
            if node.op == .maskedSoftmax, let (p, scale) = r.soleProducer(of: node.inputs[0]),
               case .scale(let f) = scale.op {
                r.fuse(i, dropping: [p], op: .scaledMaskedSoftmax(factor: f), inputs: [scale.inputs[0], node.inputs[1]])
            } else if case .scale(let f) = node.op, let (p, grad) = r.soleProducer(of: node.inputs[0]),
                      grad.op == .softmaxGrad {
                r.fuse(i, dropping: [p], op: .scaledSoftmaxGrad(factor: f), inputs: grad.inputs)
            }
        }
    }

    /// Stage 5: a GELU gradient and the bias gradient summed from it.
    private func fuseGeluGradSum(_ r: inout Rewrite) {
        for i in r.nodes.indices {
            guard let node = r.nodes[i], node.op == .sumLeading(keepRank: 1),
                  let p = r.producer[node.inputs[0]], let grad = r.nodes[p],
                  case .geluGrad(let form) = grad.op, grad.outputs.count == 1 else { continue }
            r.nodes[p] = Node(op: .geluGradSum(form), inputs: grad.inputs, outputs: [grad.outputs[0], node.outputs[0]])
            r.readers[node.inputs[0]] -= 1
            r.nodes[i] = nil
        }
    }

    /// Stage 6: attention, from the heads of q, k and v to the context in [b, s, h] rows.
    private func fuseAttention(_ r: inout Rewrite) {
        for i in r.nodes.indices {
            guard let node = r.nodes[i], case .reshape = node.op else { continue }
            // The context [b, heads, sq, d] back to [b, sq, h] (transpose, reshape), or to
            // [b, h] (reshape) for a query of one row.
            var context = node.inputs[0], way: [Int] = []
            if r.shape(node.outputs[0]).rank == 3 {
                guard let (p, back) = r.soleProducer(of: context), back.op == .transpose([0, 2, 1, 3]) else { continue }
                context = back.inputs[0]
                way = [p]
            }
            guard let (pc, product) = r.soleProducer(of: context),
                  product.op == .batchMatmul(transposeA: false, transposeB: false),
                  let (ps, softmax) = r.soleProducer(of: product.inputs[0]),
                  case .scaledMaskedSoftmax(let factor) = softmax.op,
                  let (pq, scores) = r.soleProducer(of: softmax.inputs[0]),
                  scores.op == .batchMatmul(transposeA: false, transposeB: true),
                  let q = r.headsSource(of: scores.inputs[0]), let k = r.headsSource(of: scores.inputs[1]),
                  let v = r.headsSource(of: product.inputs[1]),
                  r.shape(q.source) == r.shape(node.outputs[0]), r.shape(k.source) == r.shape(v.source),
                  r.shape(k.source).rank == 3, case .fixed(let heads) = r.shape(context)[1] else { continue }
            r.fuse(i, dropping: way + [pc, ps, pq] + q.nodes + k.nodes + v.nodes,
                   op: .attention(heads: heads, factor: factor), inputs: [q.source, k.source, v.source, softmax.inputs[1]])
        }
    }

    // MARK: - Entry point

    public func run(_ graph: Graph) throws -> Graph {
        var r = Rewrite(graph)
        fuseLinear(&r)
        fuseAddLayerNorm(&r)
        fuseScaledSoftmax(&r)
        fuseGeluGradSum(&r)
        fuseAttention(&r)
        var g = graph
        g.nodes = r.nodes.compactMap { $0 }
        return g
    }
}
