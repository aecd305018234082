import BertGraph

// Checking a memory plan against its graph: what any planner's output must satisfy before the
// runtime follows it. Tests run it on every plan they make.

/// A memory plan that breaks an invariant; each case names the values involved.
public enum MemoryPlanError: Error, CustomStringConvertible, Equatable {
    /// The plan does not have one entry per value of the graph.
    case wrongValueCount(plan: Int, graph: Int)
    /// A value's planned size differs from its type's size under the plan's bindings.
    case wrongSize(value: String, planned: Int, expected: Int)
    /// A non-parameter value has no offset, or a parameter has one.
    case misplaced(value: String, detail: String)
    /// A value lies (partly) outside `[0, arenaBytes)` or at an unaligned offset.
    case outOfArena(value: String, offset: Int, bytes: Int, arenaBytes: Int)
    /// Two values live at the same step share bytes without being a declared in-place pair.
    case overlap(first: String, second: String, detail: String)
    /// A declared in-place pair that the op or the liveness does not allow.
    case badInPlace(output: String, input: String, detail: String)

    public var description: String {
        switch self {
        case .wrongValueCount(let plan, let graph):
            return "memory plan has \(plan) entries for a graph of \(graph) values"
        case .wrongSize(let value, let planned, let expected):
            return "memory plan gives value \(value) \(planned) bytes, its type needs \(expected)"
        case .misplaced(let value, let detail):
            return "memory plan: value \(value) \(detail)"
        case .outOfArena(let value, let offset, let bytes, let arenaBytes):
            return "memory plan puts value \(value) (\(bytes) bytes) at offset \(offset), outside the \(arenaBytes)-byte arena or unaligned"
        case .overlap(let first, let second, let detail):
            return "memory plan: values \(first) and \(second) are live together and overlap: \(detail)"
        case .badInPlace(let output, let input, let detail):
            return "memory plan: \(output) may not reuse the slot of \(input): \(detail)"
        }
    }
}

extension MemoryPlan {
    /// Checks this plan against `graph`: one entry per value, sizes match the types, every
    /// non-parameter value has an aligned offset inside the arena, in-place pairs are allowed
    /// (op in `Op.Kind.inPlace`, its input 0 dying at that node, same offset and size), views
    /// are views (op in `Op.Kind.views`, same offset and size), and no two values live at a common
    /// step (`Liveness`) share a byte unless they are such a pair or views of one value.
    public func verify(graph: Graph) throws {
        guard offsets.count == graph.values.count, sizes.count == graph.values.count else {
            throw MemoryPlanError.wrongValueCount(plan: offsets.count, graph: graph.values.count)
        }
        let expected = try MemoryPlan.valueSizes(graph, bindings: bindings)
        for (v, value) in graph.values.enumerated() {
            guard sizes[v] == expected[v] else {
                throw MemoryPlanError.wrongSize(value: value.name, planned: sizes[v], expected: expected[v])
            }
            if value.role == .parameter {
                guard offsets[v] == nil else { throw MemoryPlanError.misplaced(value: value.name, detail: "is a parameter but has an arena offset") }
                continue
            }
            guard let offset = offsets[v] else { throw MemoryPlanError.misplaced(value: value.name, detail: "has no arena offset") }
            guard offset >= 0, offset % MemoryPlan.alignment == 0, offset + sizes[v] <= arenaBytes else {
                throw MemoryPlanError.outOfArena(value: value.name, offset: offset, bytes: sizes[v], arenaBytes: arenaBytes)
            }
        }

        let liveness = Liveness(graph)
        let producers = graph.producers()
        for (out, input) in inPlace {
            let (o, x) = (graph.values[out].name, graph.values[input].name)
            guard let p = producers[out] else { throw MemoryPlanError.badInPlace(output: o, input: x, detail: "no node produces \(o)") }
            let node = graph.nodes[p]
            guard Op.Kind.inPlace.contains(node.op.kind), node.inputs.first == input, node.outputs == [out] else {
                throw MemoryPlanError.badInPlace(output: o, input: x, detail: "\(node.op.name) may not write \(o) over its input 0")
            }
            guard liveness.intervals[input]?.upperBound == p else {
                throw MemoryPlanError.badInPlace(output: o, input: x, detail: "\(x) is still read after node \(graph.nodeName(p))")
            }
            guard offsets[out] == offsets[input], sizes[out] == sizes[input] else {
                throw MemoryPlanError.badInPlace(output: o, input: x, detail: "offsets or sizes differ")
            }
        }

        let live = graph.values.indices.filter { liveness.intervals[$0] != nil && sizes[$0] > 0 }
            .sorted { offsets[$0]! < offsets[$1]! }
        // Sorted by offset, a value can only collide with later values starting below its end.
        for (k, a) in live.enumerated() {
            let end = offsets[a]! + sizes[a]
            for b in live[(k + 1)...] {
                guard offsets[b]! < end else { break }
                guard liveness.overlap(a, b), inPlace[a] != b, inPlace[b] != a, viewRoot(a) != viewRoot(b) else { continue }
                throw MemoryPlanError.overlap(
                    first: graph.values[a].name, second: graph.values[b].name,
                    detail: "bytes [\(offsets[a]!), \(end)) and [\(offsets[b]!), \(offsets[b]! + sizes[b])), steps \(liveness.intervals[a]!) and \(liveness.intervals[b]!)")
            }
        }

        for (out, input) in views {
            let (o, x) = (graph.values[out].name, graph.values[input].name)
            guard let p = producers[out], Op.Kind.views.contains(graph.nodes[p].op.kind), graph.nodes[p].inputs.first == input else {
                throw MemoryPlanError.badInPlace(output: o, input: x, detail: "\(o) is not a view of \(x)")
            }
            guard offsets[out] == offsets[input], sizes[out] == sizes[input] else {
                throw MemoryPlanError.badInPlace(output: o, input: x, detail: "a view and its input differ in offset or size")
            }
        }
    }
}
