// The text format of a graph, read back by `GraphParser`:
//
//     graph bert_classifier {
//       input input_ids: i32[batch, seq]
//       param bert.embeddings.word_embeddings.weight: f32[30522, 384]
//       %emb.word: f32[batch, seq, 384] = gather(bert.embeddings.word_embeddings.weight, input_ids)
//       %ln.dx: f32[batch, seq, 384], %ln.dx:1: f32[384], %ln.dx:2: f32[384] = layer_norm_grad[epsilon=1e-12](%dy, %x, gamma)
//       output logits = %classifier.out
//     }
//
// Intermediate values are written `%name`; inputs and parameters bare. A name is quoted
// ("...", with \" and \\ escapes) unless it is made of letters, digits and `_ . : / - +`,
// does not start with `:` and does not end with `:`. Attributes print as `Op.attributes`
// gives them; floats use Swift's shortest round-trip form, so they parse back bit for bit.
//
// Declarations are printed in value-id order (inputs, parameters and nodes merged, each
// list keeping its own order), and the parser numbers values in the order it reads them, so
// `GraphParser.parse(GraphPrinter.render(g)) == g` exactly whenever g's value ids follow
// that order — true for every graph built with `addInput`, `addParameter` and `apply` in any
// interleaving, and for the output of `EliminateDeadCode`. Values that no node produces and
// that are neither inputs nor parameters are not printed.

/// Renders graphs in the bertc text format.
public enum GraphPrinter {
    /// The text of `graph`, one declaration per line, ending in a newline.
    public static func render(_ graph: Graph) -> String {
        var lines = ["graph \(quoted(graph.name)) {"]
        for item in declarationOrder(graph) {
            switch item {
            case .input(let v): lines.append("  input \(quoted(graph.values[v].name)): \(graph.values[v].type)")
            case .parameter(let v): lines.append("  param \(quoted(graph.values[v].name)): \(graph.values[v].type)")
            case .node(let i): lines.append("  " + nodeLine(graph.nodes[i], in: graph))
            }
        }
        for out in graph.outputs {
            lines.append("  output \(quoted(out.name)) = \(reference(out.value, in: graph))")
        }
        lines.append("}")
        return lines.joined(separator: "\n") + "\n"
    }

    /// One node as `%out: type, ... = op[key=value, ...](operand, ...)`.
    public static func nodeLine(_ node: Node, in graph: Graph) -> String {
        let outs = node.outputs.map { "\(reference($0, in: graph)): \(graph.values[$0].type)" }
        let attrs = node.op.attributes
        let attrText = attrs.isEmpty ? "" : "[" + attrs.map { "\($0.0)=\($0.1)" }.joined(separator: ", ") + "]"
        let args = node.inputs.map { reference($0, in: graph) }.joined(separator: ", ")
        return outs.joined(separator: ", ") + " = \(node.op.name)\(attrText)(\(args))"
    }

    /// How value `v` is written where it is used: `%name` for intermediates, `name` otherwise.
    public static func reference(_ v: ValueID, in graph: Graph) -> String {
        let value = graph.values[v]
        return (value.role == .intermediate ? "%" : "") + quoted(value.name)
    }

    /// `name` as it appears in the text: bare when the lexer reads it back as one word.
    public static func quoted(_ name: String) -> String {
        isBareName(name) ? name : QuotedString.quote(name, json: false)
    }

    /// True when `name` can be written without quotes.
    static func isBareName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, let last = name.unicodeScalars.last,
              first != ":", last != ":" else { return false }
        return name.unicodeScalars.allSatisfy(isWordScalar)
    }

    /// Scalars of a bare word: ASCII letters, digits and `_ . : / - +`.
    static func isWordScalar(_ c: Unicode.Scalar) -> Bool {
        switch c {
        case "a"..."z", "A"..."Z", "0"..."9", "_", ".", ":", "/", "-", "+": return true
        default: return false
        }
    }

    // MARK: - Declaration order

    enum Declaration {
        case input(ValueID), parameter(ValueID), node(Int)
    }

    /// Inputs, parameters and nodes merged by (first) value id, each keeping its own order.
    static func declarationOrder(_ g: Graph) -> [Declaration] {
        var result: [Declaration] = []
        result.reserveCapacity(g.inputs.count + g.parameters.count + g.nodes.count)
        var i = 0, p = 0, n = 0
        func nodeKey(_ k: Int) -> Int { g.nodes[k].outputs.min() ?? Int.max }
        while i < g.inputs.count || p < g.parameters.count || n < g.nodes.count {
            let ki = i < g.inputs.count ? g.inputs[i] : Int.max
            let kp = p < g.parameters.count ? g.parameters[p] : Int.max
            let kn = n < g.nodes.count ? nodeKey(n) : Int.max
            if n < g.nodes.count, kn <= ki, kn <= kp {
                result.append(.node(n)); n += 1
            } else if i < g.inputs.count, ki <= kp {
                result.append(.input(g.inputs[i])); i += 1
            } else {
                result.append(.parameter(g.parameters[p])); p += 1
            }
        }
        return result
    }
}
