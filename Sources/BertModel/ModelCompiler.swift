import BertGraph
import BertPasses
import Dispatch

/// Which graph to compile.
public enum CompileMode: String, Codable, Sendable, CaseIterable {
    /// Logits only, no dropout.
    case infer
    /// Logits and loss, no dropout.
    case eval
    /// Forward with dropout, loss, and the backward pass: `grad:<parameter>` outputs.
    case train

    /// The builder's options for this mode's forward graph.
    public var graphOptions: GraphOptions {
        switch self {
        case .infer: return .inference
        case .eval: return .evaluation
        case .train: return .training
        }
    }

    /// The passes this mode's graph goes through.
    public var pipeline: Pipeline {
        switch self {
        case .infer: return .inference
        case .eval: return .evaluation
        case .train: return .training
        }
    }
}

/// What compiling a graph for one shape gave: the numbers `bertc compile --json` reports.
public struct CompileReport: Codable, Sendable {
    public var mode: CompileMode
    public var batch: Int
    public var seq: Int
    public var nodes: Int
    public var parameters: Int
    public var opCounts: [String: Int]
    public var flopsPerExample: Int
    public var arenaBytes: Int
    public var naiveBytes: Int
    public var parameterBytes: Int
    public var optimizerStateBytes: Int
    public var compileMillis: Double
    /// Nodes of fused ops (made by `FuseOps`), by op name.
    public var fusedOps: [String: Int]
    /// The task head and the outputs it gives, e.g. `span: start_logits [batch, seq], end_logits [batch, seq]`.
    public var head: String
}

/// The compiler's front door: builds a model's graph and runs its named pipeline
/// (`Pipeline.inference`, `.evaluation`, `.training`, `.export`), plans memory. Training,
/// evaluation, prediction, benchmarks and exports all get their graphs here, so every one of
/// them runs the same passes.
public enum ModelCompiler {
    /// The memory plan of `graph` for one set of bindings: the planner every compiled graph uses.
    public static func plan(_ graph: Graph, _ bindings: [String: Int]) throws -> MemoryPlan {
        try PlanMemory().run(graph, bindings: bindings)
    }

    /// The model's graph built with `options`, run through `pipeline`.
    public static func graph(_ config: BertConfig, head: TaskHead, options: GraphOptions,
                             pipeline: Pipeline) throws -> Graph {
        try pipeline.run(BertBuilder.build(config, head: head, options: options))
    }

    /// The graph for `mode` with symbolic `batch` and `seq`, through the mode's pipeline.
    /// - Parameter packedTokens: the encoder's dense layers run on the real tokens only
    ///   (`GraphOptions.packedTokens`): the graph gains a `tokens` dim and two inputs.
    public static func graph(_ config: BertConfig, head: TaskHead, mode: CompileMode,
                             packedTokens: Bool = false) throws -> Graph {
        var options = mode.graphOptions
        options.packedTokens = packedTokens
        return try graph(config, head: head, options: options, pipeline: mode.pipeline)
    }

    /// The unfused inference graph (`Pipeline.export`): the graph ONNX export writes.
    public static func exportGraph(_ config: BertConfig, head: TaskHead) throws -> Graph {
        try graph(config, head: head, options: .inference, pipeline: .export)
    }

    /// The head's kind and the graph's outputs other than the loss and gradients, with shapes.
    static func describe(_ head: TaskHead, outputs g: Graph) -> String {
        let kind: String
        switch head {
        case .classification(let labels): kind = "classification (\(labels) labels)"
        case .regression: kind = "regression"
        case .span: kind = "span (qa_outputs)"
        }
        let shown = g.outputs.filter { $0.name != GraphNames.loss && GraphNames.parameter(ofGradient: $0.name) == nil }
            .map { "\($0.name) \(g.values[$0.value].type.shape)" }
        return kind + ": " + shown.joined(separator: ", ")
    }

    /// Compiles for one shape and reports.
    /// - Parameter packedRows: the `tokens` dim of a graph with packed tokens; nil: padded.
    public static func compile(_ config: BertConfig, head: TaskHead, mode: CompileMode,
                               batch: Int, seq: Int, packedRows: Int? = nil) throws -> (graph: Graph, plan: MemoryPlan, report: CompileReport) {
        let start = DispatchTime.now().uptimeNanoseconds
        let g = try graph(config, head: head, mode: mode, packedTokens: packedRows != nil)
        var bindings = ["batch": batch, "seq": seq]
        bindings["tokens"] = packedRows
        let memory = try plan(g, bindings)
        let millis = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
        let stats = GraphStatistics(g)
        let report = CompileReport(
            mode: mode, batch: batch, seq: seq, nodes: stats.nodeCount, parameters: stats.parameterCount,
            opCounts: stats.opCounts, flopsPerExample: try stats.flops(bindings: bindings) / max(batch, 1),
            arenaBytes: memory.arenaBytes, naiveBytes: memory.naiveBytes, parameterBytes: stats.parameterCount * 4,
            optimizerStateBytes: mode == .train ? 2 * stats.parameterCount * 4 : 0, compileMillis: millis,
            fusedOps: g.nodes.reduce(into: [:]) { counts, node in if Op.Kind.fused.contains(node.op.kind) { counts[node.op.name, default: 0] += 1 } },
            head: describe(head, outputs: g))
        return (g, memory, report)
    }
}
