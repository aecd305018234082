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
}

/// The compiler's front door: builds a model's graph, runs the pass pipeline, plans memory.
/// Training, evaluation, prediction, benchmarks and exports all get their graphs here, so
/// every one of them runs the same passes.
public enum ModelCompiler {
    /// The passes for `mode`, in order.
    public static func pipeline(_ mode: CompileMode) -> Pipeline {
        switch mode {
        case .infer, .eval: return Pipeline([InferShapes(), EliminateDeadCode()])
        case .train: return Pipeline([InferShapes(), Differentiate(), EliminateDeadCode()])
        }
    }

    /// The graph for `mode` with symbolic `batch` and `seq`.
    public static func graph(_ config: BertConfig, head: TaskHead, mode: CompileMode) throws -> Graph {
        let options: GraphOptions
        switch mode {
        case .infer: options = .inference
        case .eval: options = .evaluation
        case .train: options = .training
        }
        return try pipeline(mode).run(BertBuilder.build(config, head: head, options: options))
    }

    /// Compiles for one shape and reports.
    public static func compile(_ config: BertConfig, head: TaskHead, mode: CompileMode,
                               batch: Int, seq: Int) throws -> (graph: Graph, plan: MemoryPlan, report: CompileReport) {
        let start = DispatchTime.now().uptimeNanoseconds
        let g = try graph(config, head: head, mode: mode)
        let bindings = ["batch": batch, "seq": seq]
        let plan = try PlanMemory().run(g, bindings: bindings)
        let millis = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
        let stats = GraphStatistics(g)
        let report = CompileReport(
            mode: mode, batch: batch, seq: seq, nodes: stats.nodeCount, parameters: stats.parameterCount,
            opCounts: stats.opCounts, flopsPerExample: try stats.flops(bindings: bindings) / max(batch, 1),
            arenaBytes: plan.arenaBytes, naiveBytes: plan.naiveBytes, parameterBytes: stats.parameterCount * 4,
            optimizerStateBytes: mode == .train ? 2 * stats.parameterCount * 4 : 0, compileMillis: millis)
        return (g, plan, report)
    }
}
