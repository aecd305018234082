// The state of one export while the op mapping walks the graph: which ONNX tensor holds each
// IR value, the parameters' initializers (added on first use, transposed where a MatMul wants
// [in, out]), and the subgraphs that several nodes share (the additive attention mask).

import BertGraph
import BertRuntime

/// What the op mapping (Op+ONNX.swift) reads and writes while it emits one IR node.
struct ONNXEmitContext {
    let graph: Graph
    var builder = ONNXGraphBuilder()
    /// For each value, the indices of the nodes that read it.
    let consumers: [[Int]]
    /// The additive attention mask `[b, 1, 1, k]` built from each mask value, shared by layers.
    var additiveMasks: [ValueID: String] = [:]

    private let weights: [String: HostTensor]
    /// The ONNX tensor holding each IR value, once it is defined.
    private var names: [String?]
    /// Values whose ONNX tensor is the IR shape with an extra leading dim of 1 (`[1, seq]`
    /// position ids, as Hugging Face's export slices them); they broadcast like the IR value.
    private var leadingUnit: Set<ValueID> = []
    /// The squeezed form of values in `leadingUnit`, once some op needed the exact shape.
    private var squeezed: [ValueID: String] = [:]
    /// Initializer names of parameters already emitted, keyed by `ParameterForm`.
    private var parameterInitializers: [ParameterForm: String] = [:]
    /// The name a node output gets because it is a graph output (first output per value).
    private let outputNames: [ValueID: String]
    /// The ONNX name of each graph output, in order: the output's own name unless a graph
    /// input already has it.
    private let graphOutputNames: [String]
    /// The initializer name reserved for each parameter: its own name unless an input or
    /// output already has it.
    private var parameterNames: [ValueID: String] = [:]

    private struct ParameterForm: Hashable {
        var value: ValueID
        var transposed: Bool
    }

    /// Prepares an export of `graph` with parameter data from `weights`. Graph input, output
    /// and parameter names are reserved first, so they keep their names in the ONNX graph.
    init(graph: Graph, weights: [String: HostTensor]) {
        self.graph = graph
        self.weights = weights
        self.consumers = graph.consumers()
        self.names = [String?](repeating: nil, count: graph.values.count)
        var outputNames: [ValueID: String] = [:]
        var graphOutputNames: [String] = []
        let producers = graph.producers()
        for v in graph.inputs { names[v] = builder.uniqueName(graph.values[v].name) }
        for out in graph.outputs {
            let name = builder.uniqueName(out.name)
            graphOutputNames.append(name)
            if producers[out.value] != nil, outputNames[out.value] == nil { outputNames[out.value] = name }
        }
        self.outputNames = outputNames
        self.graphOutputNames = graphOutputNames
        for v in graph.parameters { parameterNames[v] = builder.uniqueName(graph.values[v].name) }
    }

    // MARK: - Values

    /// True when `v`'s ONNX tensor carries an extra leading dim of 1.
    func hasLeadingUnitDim(_ v: ValueID) -> Bool { leadingUnit.contains(v) }

    /// The ONNX tensor of `v` with exactly the IR's shape (a Squeeze is added once for a value
    /// stored with a leading unit dim; a parameter's initializer is added on first use).
    mutating func exact(_ v: ValueID) throws -> String {
        if graph.values[v].role == .parameter { return try parameter(v, transposed: false) }
        let name = try stored(v)
        guard leadingUnit.contains(v) else { return name }
        if let s = squeezed[v] { return s }
        let s = builder.node("Squeeze", [name, builder.vector([0], named: "axes_0")],
                             named: "\(name)/squeezed")
        squeezed[v] = s
        return s
    }

    /// The ONNX tensor of `v` as stored, possibly with a leading unit dim: for operands that
    /// broadcast against a tensor of higher rank.
    mutating func broadcastable(_ v: ValueID) throws -> String {
        if graph.values[v].role == .parameter { return try parameter(v, transposed: false) }
        return try stored(v)
    }

    private func stored(_ v: ValueID) throws -> String {
        // The exporter verifies the graph first, so every value is defined before it is read.
        guard let name = names[v] else {
            throw ONNXExportError.invalidGraph("value \(graph.values[v].name) is read before any node defines it")
        }
        return name
    }

    /// Reserves the ONNX name of node output `v` and records it. A graph output keeps its
    /// output name unless its tensor carries a leading unit dim (then a Squeeze gets the name).
    mutating func define(_ v: ValueID, leadingUnitDim: Bool = false) -> String {
        let name: String
        if !leadingUnitDim, let out = outputNames[v] {
            name = out
        } else {
            name = builder.uniqueName(graph.values[v].name)
        }
        names[v] = name
        if leadingUnitDim { leadingUnit.insert(v) }
        return name
    }

    // MARK: - Parameters

    /// The initializer of parameter `v`, checked against the graph's type; `transposed` stores
    /// a matrix `[out, in]` as `[in, out]` so MatMul needs no Transpose node.
    mutating func parameter(_ v: ValueID, transposed: Bool) throws -> String {
        let form = ParameterForm(value: v, transposed: transposed)
        if let name = parameterInitializers[form] { return name }
        let value = graph.values[v]
        guard let tensor = weights[value.name] else { throw ONNXExportError.missingWeight(name: value.name) }
        guard let expected = value.type.shape.resolve([:]), value.type.dtype == .float32 else {
            throw ONNXExportError.unsupported(op: "parameter", node: value.name,
                                              detail: "parameters must be f32 with fixed dims, got \(value.type)")
        }
        guard let floats = tensor.floats, tensor.shape == expected else {
            throw ONNXExportError.weightMismatch(name: value.name, expected: value.type.description,
                                                 got: "\(tensor.dtype.rawValue)\(tensor.shape)")
        }
        let name: String
        if transposed {
            guard expected.count == 2 else {
                throw ONNXExportError.unsupported(op: "matmul", node: value.name,
                                                  detail: "only a matrix can be stored transposed, got \(value.type)")
            }
            name = builder.uniqueName("\(value.name).transposed")
            builder.addInitializer(name: name, dims: [expected[1], expected[0]],
                                   floats: Self.transpose(floats, rows: expected[0], columns: expected[1]))
        } else {
            name = parameterNames[v] ?? builder.uniqueName(value.name)
            builder.addInitializer(name: name, dims: expected, floats: floats)
        }
        parameterInitializers[form] = name
        return name
    }

    /// `m [rows, columns]` row-major -> `[columns, rows]` row-major.
    private static func transpose(_ m: [Float], rows: Int, columns: Int) -> [Float] {
        var t = [Float](repeating: 0, count: m.count)
        for r in 0..<rows {
            for c in 0..<columns { t[c * rows + r] = m[r * columns + c] }
        }
        return t
    }

    // MARK: - Graph outputs

    /// Names each graph output's tensor after the output: free when the producing node already
    /// wrote under that name, an Identity (or Squeeze) node otherwise.
    mutating func finishOutputs() throws -> [(name: String, value: ValueID)] {
        var result: [(name: String, value: ValueID)] = []
        for (out, name) in zip(graph.outputs, graphOutputNames) {
            let source = try exact(out.value)
            if source != name {
                builder.node("Identity", [source], outputs: [name])
            }
            result.append((name, out.value))
        }
        return result
    }
}
