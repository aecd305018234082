// The one walk that applies the shape rules to a whole graph: `InferShapes` stores what it
// gives, `GraphVerifier` compares it with the stored types.

extension Graph {
    /// Walks the nodes in order and applies each node's shape rule (`Op.outputTypes`, which
    /// also checks the op's attributes) to the types its inputs have at that point, handing
    /// the rule's output types to `body`, which may store them in the graph or compare them.
    /// On the way it checks that every node reads only values defined before it (inputs,
    /// parameters, outputs of earlier nodes), defines each of its outputs once, and has as
    /// many outputs as its rule gives.
    /// - Parameters:
    ///   - context: how errors begin, e.g. `InferShapes` or `after FuseOps`.
    ///   - body: receives the graph, the node's index and its rule's output types.
    /// - Returns: for every value, whether it is defined (an input, a parameter or a node's output).
    @discardableResult
    public mutating func applyShapeRules(context: String,
                                         _ body: (inout Graph, Int, [TensorType]) throws -> Void) throws -> [Bool] {
        func fail(_ message: String) -> GraphError { .malformed("\(context): \(message)") }
        var defined = [Bool](repeating: false, count: values.count)
        for v in inputs + parameters where v >= 0 && v < values.count { defined[v] = true }
        for i in nodes.indices {
            let node = nodes[i]
            let name = node.outputs.first.flatMap { $0 >= 0 && $0 < values.count ? values[$0].name : nil } ?? "#\(i)"
            for v in node.inputs where !(v >= 0 && v < values.count && defined[v]) {
                throw fail("node \(name) (\(node.op.name)) reads value \(v) before it is defined")
            }
            let types = try node.op.outputTypes(node.inputs.map { values[$0].type }, node: name)
            guard types.count == node.outputs.count else {
                throw fail("node \(name) (\(node.op.name)) has \(node.outputs.count) outputs, its rule gives \(types.count)")
            }
            for o in node.outputs {
                guard o >= 0, o < values.count, !defined[o] else { throw fail("node \(name) redefines value \(o)") }
                defined[o] = true
            }
            try body(&self, i, types)
        }
        return defined
    }
}
