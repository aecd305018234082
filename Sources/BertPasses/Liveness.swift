import BertGraph

/// When each arena value is live, in node steps: node `i` runs at step `i`. Shared by
/// `PlanMemory` and `MemoryPlan.verify`.
///
/// A value is live from the node that produces it (step 0 for graph inputs, which are in the
/// arena before the first node runs) to its last reader; a graph output stays live to
/// `nodes.count` (after the last node). A value nobody reads is still live at its own step,
/// since its producer writes it. Parameters live outside the arena and have no interval.
public struct Liveness: Hashable, Sendable {
    /// Closed step interval `[first, last]` of each value (nil for parameters and for values
    /// no node produces).
    public var intervals: [ClosedRange<Int>?]

    public init(_ g: Graph) {
        var first = [Int?](repeating: nil, count: g.values.count)
        for v in g.inputs { first[v] = 0 }
        for (i, n) in g.nodes.enumerated() { for o in n.outputs { first[o] = i } }
        var last = first
        for (i, n) in g.nodes.enumerated() {
            for v in n.inputs where first[v] != nil { last[v] = max(last[v]!, i) }
        }
        for out in g.outputs where first[out.value] != nil { last[out.value] = g.nodes.count }
        intervals = zip(first, last).map { f, l in
            guard let f, let l else { return nil }
            return f...l
        }
        for v in g.parameters { intervals[v] = nil }
    }

    /// True when values `a` and `b` are live at a common step.
    public func overlap(_ a: ValueID, _ b: ValueID) -> Bool {
        guard let x = intervals[a], let y = intervals[b] else { return false }
        return x.overlaps(y)
    }
}
