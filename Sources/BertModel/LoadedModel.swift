import BertGraph
import BertRuntime

/// A model ready to run: its compiled graph, the weights loaded for it, and what loading did.
public struct LoadedModel {
    /// The graph of the model's head, through the pipeline of the mode asked for.
    public let graph: Graph
    /// The weights, one slot per graph parameter in the graph's order.
    public let parameters: ParameterStore
    /// Which tensors came from the checkpoint and which were initialised.
    public let report: LoadReport
}

extension ModelDirectory {
    /// Loads the model as every command does: the graph of `head` for `mode` through the mode's
    /// pipeline, a parameter store matching its parameters, and the weights loaded into it
    /// strictly (a task head the checkpoint lacks is initialised from `seed`; the report says so).
    public func load(head: TaskHead, mode: CompileMode = .infer, seed: UInt64) throws -> LoadedModel {
        let graph = try ModelCompiler.graph(config, head: head, mode: mode)
        let parameters = try ParameterStore.matching(graph)
        let report = try loadParameters(into: parameters, seed: seed)
        return LoadedModel(graph: graph, parameters: parameters, report: report)
    }
}
