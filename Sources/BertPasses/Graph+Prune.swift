import BertGraph

// The one pruning walk: `EliminateDeadCode` runs it on a whole graph, `Differentiate` on the
// backward nodes it appended.

extension Graph {
    /// The graph without its dead nodes (none of whose outputs reaches a graph output; a live
    /// node keeps all its outputs and makes all its inputs live) and without the values nothing
    /// keeps, the kept values renumbered in their old order. Inputs and parameters are always
    /// kept: callers feed them by name.
    /// - Parameters:
    ///   - keepNode: nodes kept even when dead (their inputs become live).
    ///   - keepValue: values kept even when nothing reads them.
    func pruned(keepingNodes keepNode: (Int) -> Bool = { _ in false },
                keepingValues keepValue: (ValueID) -> Bool = { _ in false }) -> Graph {
        var live = [Bool](repeating: false, count: values.count)
        for out in outputs { live[out.value] = true }
        var liveNode = [Bool](repeating: false, count: nodes.count)
        for i in nodes.indices.reversed() where keepNode(i) || nodes[i].outputs.contains(where: { live[$0] }) {
            liveNode[i] = true
            for v in nodes[i].inputs { live[v] = true }
        }

        var keep = live
        for v in inputs + parameters { keep[v] = true }
        for v in values.indices where keepValue(v) { keep[v] = true }
        for i in nodes.indices where liveNode[i] { for o in nodes[i].outputs { keep[o] = true } }

        var newID = [ValueID?](repeating: nil, count: values.count)
        var g = Graph(name: name)
        for v in values.indices where keep[v] {
            newID[v] = g.values.count
            g.values.append(values[v])
        }
        func map(_ v: ValueID) -> ValueID { newID[v]! }  // every referenced value is kept
        g.inputs = inputs.map(map)
        g.parameters = parameters.map(map)
        g.nodes = nodes.indices.filter { liveNode[$0] }.map { i in
            Node(op: nodes[i].op, inputs: nodes[i].inputs.map(map), outputs: nodes[i].outputs.map(map))
        }
        g.outputs = outputs.map { GraphOutput(name: $0.name, value: map($0.value)) }
        return g
    }
}
