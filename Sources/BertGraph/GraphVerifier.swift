/// Checks a graph's invariants: values defined once before use, outputs defined, node output
/// types equal to what the op's shape rule gives, unique value names.
public enum GraphVerifier {
    public static func verify(_ g: Graph, after pass: String = "build") throws {
        func fail(_ m: String) -> GraphError { .malformed("after \(pass): \(m)") }
        var defined = [Bool](repeating: false, count: g.values.count)
        for v in g.inputs + g.parameters {
            guard v >= 0, v < g.values.count else { throw fail("input or parameter id \(v) out of range") }
            guard !defined[v] else { throw fail("value \(g.values[v].name) is declared twice") }
            defined[v] = true
        }
        var names = Set<String>()
        for v in g.values {
            guard names.insert(v.name).inserted else { throw fail("value name \(v.name) is used twice") }
        }
        for (i, n) in g.nodes.enumerated() {
            let node = g.nodeName(i)
            for v in n.inputs {
                guard v >= 0, v < g.values.count, defined[v] else {
                    throw fail("node \(node) (\(n.op.name)) reads value \(v) before it is defined")
                }
            }
            let expected = try n.op.outputTypes(n.inputs.map { g.values[$0].type }, node: node)
            guard expected.count == n.outputs.count else {
                throw fail("node \(node) (\(n.op.name)) has \(n.outputs.count) outputs, its rule gives \(expected.count)")
            }
            for (o, t) in zip(n.outputs, expected) {
                guard o >= 0, o < g.values.count, !defined[o] else { throw fail("node \(node) redefines value \(o)") }
                guard g.values[o].type == t else {
                    throw GraphError.shapeMismatch(node: node, op: n.op.name,
                                                   detail: "output has type \(g.values[o].type), rule gives \(t)")
                }
                defined[o] = true
            }
        }
        for out in g.outputs {
            guard out.value >= 0, out.value < g.values.count, defined[out.value] else {
                throw fail("output \(out.name) is never defined")
            }
        }
    }
}
