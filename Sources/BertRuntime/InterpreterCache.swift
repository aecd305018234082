import BertGraph
import BertPasses

/// One interpreter per shape (binding of the symbolic dims: `batch`, `seq`, `tokens`) of a graph,
/// made on first use with the given planner and kept while the cache has room (least recently
/// used first out). The interpreters take turns, never running at once, so they share one
/// arena as large as the largest plan among them: keeping another shape costs only its
/// kernels' small scratch buffers. One caller at a time uses a cache.
public final class InterpreterCache {
    public typealias Planner = (Graph, [String: Int]) throws -> MemoryPlan

    public let graph: Graph
    private let planner: Planner
    private let limit: Int
    private var entries: [Key: Interpreter] = [:]
    private var recent: [Key] = []
    private let arena = Arena()

    private typealias Key = [String: Int]

    /// - Parameters:
    ///   - planner: makes the memory plan for one set of bindings (`MemoryPlan.naive` or `PlanMemory`).
    ///   - limit: how many interpreters to keep at once.
    public init(graph: Graph, limit: Int = 16, planner: @escaping Planner) {
        self.graph = graph
        self.planner = planner
        self.limit = max(1, limit)
    }

    /// The interpreter for `batch` x `seq`, made now if needed.
    public func interpreter(batch: Int, seq: Int) throws -> Interpreter {
        try interpreter(bindings: ["batch": batch, "seq": seq])
    }

    /// The interpreter for one binding of the graph's symbolic dims, made now if needed.
    public func interpreter(bindings key: [String: Int]) throws -> Interpreter {
        if let hit = entries[key] {
            recent.removeAll { $0 == key }
            recent.append(key)
            return hit
        }
        if entries.count >= limit, let oldest = recent.first {
            entries[oldest] = nil
            recent.removeFirst()
        }
        let plan = try planner(graph, key)
        let made = try Interpreter(graph: graph, plan: plan, arena: arena)
        entries[key] = made
        recent.append(key)
        return made
    }
}
