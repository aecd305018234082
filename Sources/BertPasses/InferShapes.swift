import BertGraph

// InferShapes: recomputes every node's output types from its inputs with the shape rules
// (`Op.outputTypes`), e.g. after parsing a hand-edited graph or after a pass edited nodes.
//
// Stages:
//   1. walk the nodes in order, checking each reads only values defined before it;
//   2. apply the node's shape rule to the (already updated) input types;
//   3. overwrite the output values' types with the rule's result.
// A rule error is rethrown as is: it names the node, the op and the shapes.

/// Recomputes every node's output types from its inputs' types.
public struct InferShapes: GraphPass {
    public init() {}

    public func run(_ graph: Graph) throws -> Graph {
        var g = graph
        var defined = [Bool](repeating: false, count: g.values.count)
        for v in g.inputs + g.parameters where v >= 0 && v < defined.count { defined[v] = true }
        for (i, node) in g.nodes.enumerated() {
            let name = g.nodeName(i)
            for v in node.inputs where !(v >= 0 && v < defined.count && defined[v]) {
                throw GraphError.malformed("InferShapes: node \(name) (\(node.op.name)) reads value \(v) before it is defined")
            }
            let types = try node.op.outputTypes(node.inputs.map { g.values[$0].type }, node: name)
            guard types.count == node.outputs.count else {
                throw GraphError.malformed("InferShapes: node \(name) (\(node.op.name)) has \(node.outputs.count) outputs, its rule gives \(types.count)")
            }
            for (o, t) in zip(node.outputs, types) {
                g.values[o].type = t
                defined[o] = true
            }
        }
        return g
    }
}
