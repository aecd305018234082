import BertGraph

// EliminateDeadCode: drops nodes none of whose outputs reach a graph output, and the values
// nobody needs any more.
//
// Stages (`Graph.pruned`, the walk Differentiate shares):
//   1. mark live values backwards from the graph outputs: a node with a live output is live
//      and makes all its inputs live;
//   2. keep the live nodes in their order, with all their outputs (a multi-output node such
//      as layer_norm_grad keeps its unused outputs);
//   3. keep inputs and parameters even when unused (callers feed them by name);
//   4. renumber the kept values in their old order and rewrite every id.

/// Removes nodes that do not contribute to any graph output, and unused values.
public struct EliminateDeadCode: GraphPass {
    public init() {}

    public func run(_ graph: Graph) throws -> Graph {
        graph.pruned()
    }
}
