// A Graphviz (DOT) picture of a graph, like Keras' `plot_model`: one box per node with its
// op and output types, graph inputs and parameters as ellipses, graph outputs as
// double octagons. Render with `dot -Tsvg graph.dot -o graph.svg`.

/// Writes a graph as Graphviz DOT text.
public struct GraphvizWriter {
    /// Leave parameters out as separate shapes; each node box lists the parameters it reads
    /// instead (a BERT graph has hundreds, which swamp the picture).
    public var collapseParameters: Bool
    /// Print op attributes (epsilon, perm, ...) in the node boxes.
    public var showAttributes: Bool

    public init(collapseParameters: Bool = false, showAttributes: Bool = true) {
        self.collapseParameters = collapseParameters
        self.showAttributes = showAttributes
    }

    /// The DOT text of `graph`.
    public func write(_ graph: Graph) -> String {
        var lines = ["digraph \(quote(graph.name)) {",
                     "  rankdir=TB;",
                     "  node [fontname=\"Helvetica\", fontsize=10];"]
        var producer = [String?](repeating: nil, count: graph.values.count)
        for v in graph.inputs {
            producer[v] = "v\(v)"
            lines.append("  v\(v) [shape=ellipse, label=\(quote("\(graph.values[v].name)\n\(graph.values[v].type)"))];")
        }
        if !collapseParameters {
            for v in graph.parameters {
                producer[v] = "v\(v)"
                lines.append("  v\(v) [shape=ellipse, style=filled, fillcolor=\"#eeeeee\", label=\(quote("\(graph.values[v].name)\n\(graph.values[v].type)"))];")
            }
        }
        for (i, node) in graph.nodes.enumerated() {
            for o in node.outputs { producer[o] = "n\(i)" }
            lines.append("  n\(i) [shape=box, label=\(quote(label(i, in: graph)))];")
        }
        for (i, node) in graph.nodes.enumerated() {
            var seen = Set<String>()
            for v in node.inputs {
                guard let from = producer[v], seen.insert(from).inserted else { continue }
                lines.append("  \(from) -> n\(i);")
            }
        }
        for (k, out) in graph.outputs.enumerated() {
            lines.append("  out\(k) [shape=doubleoctagon, label=\(quote(out.name))];")
            if let from = producer[out.value] { lines.append("  \(from) -> out\(k);") }
        }
        lines.append("}")
        return lines.joined(separator: "\n") + "\n"
    }

    /// `name`, `op[attrs]`, the output types and, when collapsed, the parameters read.
    private func label(_ i: Int, in graph: Graph) -> String {
        let node = graph.nodes[i]
        let attrs = node.op.attributes
        var op = node.op.name
        if showAttributes, !attrs.isEmpty { op += "[" + attrs.map { "\($0.0)=\($0.1)" }.joined(separator: ", ") + "]" }
        var rows = [graph.nodeName(i), op, "→ " + node.outputs.map { graph.values[$0].type.description }.joined(separator: ", ")]
        if collapseParameters {
            for v in node.inputs where graph.values[v].role == .parameter {
                rows.append("\(graph.values[v].name): \(graph.values[v].type)")
            }
        }
        return rows.joined(separator: "\n")
    }

    /// A DOT string literal; newlines become centred line breaks.
    private func quote(_ s: String) -> String {
        var out = "\""
        for c in s {
            switch c {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            default: out.append(c)
            }
        }
        return out + "\""
    }
}
