import BertGraph

// EliminateDeadCode: drops nodes none of whose outputs reach a graph output, and the values
// nobody needs any more.
//
// Stages:
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
        var live = [Bool](repeating: false, count: graph.values.count)
        for out in graph.outputs { live[out.value] = true }
        var liveNode = [Bool](repeating: false, count: graph.nodes.count)
        for i in graph.nodes.indices.reversed() where graph.nodes[i].outputs.contains(where: { live[$0] }) {
            liveNode[i] = true
            for v in graph.nodes[i].inputs { live[v] = true }
        }

        var keep = live
        for v in graph.inputs + graph.parameters { keep[v] = true }
        for i in graph.nodes.indices where liveNode[i] { for o in graph.nodes[i].outputs { keep[o] = true } }

        var newID = [ValueID?](repeating: nil, count: graph.values.count)
        var g = Graph(name: graph.name)
        for v in graph.values.indices where keep[v] {
            newID[v] = g.values.count
            g.values.append(graph.values[v])
        }
        func map(_ v: ValueID) -> ValueID { newID[v]! }  // every referenced value is kept
        g.inputs = graph.inputs.map(map)
        g.parameters = graph.parameters.map(map)
        g.nodes = graph.nodes.indices.filter { liveNode[$0] }.map { i in
            let n = graph.nodes[i]
            return Node(op: n.op, inputs: n.inputs.map(map), outputs: n.outputs.map(map))
        }
        g.outputs = graph.outputs.map { GraphOutput(name: $0.name, value: map($0.value)) }
        return g
    }
}
