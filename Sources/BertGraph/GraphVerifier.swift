/// Checks a graph's invariants: values defined once before use (so no cycles), each with the
/// role its definition gives it, outputs defined, node output types equal to what the op's
/// shape rule gives (the rule also checks the op's attributes against its input shapes: axes,
/// indices, permutations, reshape sizes, heads), unique value names, positive dims whose
/// products stay within `GraphLimits`, and float32 parameters of fixed shape. Runs in every
/// build on every graph read from a file (`GraphParser`), so kernels may assume its invariants.
public enum GraphVerifier {
    public static func verify(_ g: Graph, after pass: String = "build") throws {
        func fail(_ m: String) -> GraphError { .malformed("after \(pass): \(m)") }
        var declared = [Bool](repeating: false, count: g.values.count)
        for (ids, role) in [(g.inputs, ValueRole.input), (g.parameters, .parameter)] {
            for v in ids {
                guard v >= 0, v < g.values.count else { throw fail("input or parameter id \(v) out of range") }
                guard !declared[v] else { throw fail("value \(g.values[v].name) is declared twice") }
                guard g.values[v].role == role else {
                    throw fail("value \(g.values[v].name) is listed as a \(role.rawValue) but has role \(g.values[v].role.rawValue)")
                }
                declared[v] = true
            }
        }
        for v in g.parameters {
            let value = g.values[v]
            guard value.type.dtype == .float32, value.type.shape.resolve([:]) != nil else {
                throw fail("parameter \(value.name) is \(value.type); parameters are f32 with fixed dims")
            }
        }
        var names = Set<String>()
        for v in g.values {
            guard names.insert(v.name).inserted else { throw fail("value name \(v.name) is used twice") }
            if let problem = v.type.shape.sizeProblem { throw fail("value \(v.name): \(problem)") }
        }
        var walked = g
        let defined = try walked.applyShapeRules(context: "after \(pass)") { g, i, types in
            let n = g.nodes[i], node = g.nodeName(i)
            for (o, t) in zip(n.outputs, types) {
                guard g.values[o].role == .intermediate else {
                    throw fail("node \(node) (\(n.op.name)) writes \(g.values[o].name), which has role \(g.values[o].role.rawValue)")
                }
                guard g.values[o].type == t else {
                    throw GraphError.shapeMismatch(node: node, op: n.op.name,
                                                   detail: "output has type \(g.values[o].type), rule gives \(t)")
                }
            }
        }
        for out in g.outputs {
            guard out.value >= 0, out.value < g.values.count, defined[out.value] else {
                throw fail("output \(out.name) is never defined")
            }
        }
    }
}
