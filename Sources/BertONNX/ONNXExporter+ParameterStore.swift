// The exporter fed from the runtime's ParameterStore (what training and the loaders fill).

import BertGraph
import BertRuntime
import Foundation

extension ONNXExporter {
    /// The weights of `graph`'s parameters read out of `store`, by parameter name.
    /// - Throws: `ONNXExportError.missingWeight` for a parameter the store has no slot for.
    public static func weights(of graph: Graph, in store: ParameterStore) throws -> [String: HostTensor] {
        var weights: [String: HostTensor] = [:]
        for p in graph.parameters {
            let name = graph.values[p].name
            guard let tensor = store.tensor(name) else { throw ONNXExportError.missingWeight(name: name) }
            weights[name] = tensor
        }
        return weights
    }

    /// `modelData(graph:weights:)` with the weights taken from `parameters`.
    public func modelData(graph: Graph, parameters: ParameterStore) throws -> Data {
        try modelData(graph: graph, weights: Self.weights(of: graph, in: parameters))
    }

    /// `write(graph:weights:to:)` with the weights taken from `parameters`.
    @discardableResult
    public func write(graph: Graph, parameters: ParameterStore, to url: URL) throws -> ONNXExportSummary {
        try write(graph: graph, weights: Self.weights(of: graph, in: parameters), to: url)
    }
}
