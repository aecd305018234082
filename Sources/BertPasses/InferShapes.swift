import BertGraph

// InferShapes: recomputes every node's output types from its inputs with the shape rules
// (`Op.outputTypes`), e.g. after parsing a hand-edited graph or after a pass edited nodes.
//
// Stages (`Graph.applyShapeRules`, the walk the verifier shares):
//   1. walk the nodes in order, checking each reads only values defined before it;
//   2. apply the node's shape rule to the (already updated) input types;
//   3. overwrite the output values' types with the rule's result.
// A rule error is rethrown as is: it names the node, the op and the shapes.

/// Recomputes every node's output types from its inputs' types.
public struct InferShapes: GraphPass {
    public init() {}

    public func run(_ graph: Graph) throws -> Graph {
        var g = graph
        try g.applyShapeRules(context: name) { g, i, types in
            for (o, t) in zip(g.nodes[i].outputs, types) { g.values[o].type = t }
        }
        return g
    }
}
