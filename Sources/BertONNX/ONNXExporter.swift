// Export of an inference graph and its weights to an ONNX model (opset 17, IR version 8),
// validated in-process by libonnx before anything is written.
//
// Stages: verify the graph; select the outputs and drop the nodes they do not need; emit each node through the
// op mapping (Op+ONNX.swift); declare inputs (token ids and masks as int64 `[batch, sequence]`)
// and outputs; validate with libonnx; write atomically, with the weights in a side file
// (ONNX external data) when they would push the model past protobuf's 2 GiB limit.
//
// The node patterns follow Hugging Face's export (see Op+ONNX.swift), so ONNX Runtime's BERT
// optimizer fuses the whole encoder: for MiniLM-L6, 1 EmbedLayerNormalization, 6 Attention,
// 12 SkipLayerNormalization and 6 BiasGelu (tools/onnx_fusion_report.py; tested in
// tools/tests/test_onnx_fusion.py).

import BertGraph
import BertModel
import BertRuntime
import Foundation

/// Options of an ONNX export.
public struct ONNXExportOptions: Sendable {
    /// Graph outputs to export, by name and in this order; nil exports all of them.
    public var outputs: [String]?
    /// Total initializer bytes above which the weights go to a side file next to the model.
    /// The default keeps the model under protobuf's 2 GiB message limit.
    public var externalDataThreshold: Int
    /// Initializers smaller than this stay inline when the others go to the side file.
    public var externalDataMinimumBytes: Int
    /// Written to `ModelProto.producer_version`.
    public var producerVersion: String

    public init(outputs: [String]? = nil, externalDataThreshold: Int = (1 << 31) - (128 << 20),
                externalDataMinimumBytes: Int = 1024, producerVersion: String = BertcVersion.string) {
        self.outputs = outputs
        self.externalDataThreshold = externalDataThreshold
        self.externalDataMinimumBytes = externalDataMinimumBytes
        self.producerVersion = producerVersion
    }
}

/// What an export wrote.
public struct ONNXExportSummary: Sendable, Equatable {
    /// The `.onnx` file.
    public var modelPath: String
    /// The side file holding the weights, when external data was used.
    public var externalDataPath: String?
    /// Bytes of the `.onnx` file.
    public var modelBytes: Int
    /// ONNX node count per op type, e.g. `["MatMul": 38, ...]`.
    public var opCounts: [String: Int]
    /// Number of initializers (weights and constants).
    public var initializerCount: Int
}

/// Exports inference graphs to ONNX. Inputs `input_ids`, `attention_mask`, `token_type_ids`
/// become int64 `[batch, sequence]`; weights become initializers (linear weights stored
/// transposed `[in, out]`, named `<parameter>.transposed`); only standard ops are used.
public struct ONNXExporter: Sendable {
    /// The default-domain opset the export targets.
    public static let opsetVersion: Int64 = 17
    /// `ModelProto.ir_version` of the export (ONNX 1.10-1.12).
    public static let irVersion: Int64 = 8
    /// Graph input names in the order Hugging Face's export declares them.
    static let canonicalInputOrder = ["input_ids", "attention_mask", "token_type_ids"]

    public var options: ONNXExportOptions

    public init(options: ONNXExportOptions = ONNXExportOptions()) {
        self.options = options
    }

    // MARK: - Entry points

    /// The validated model with every weight inline, serialised.
    /// - Parameters:
    ///   - graph: an inference graph (no gradient, loss or dropout nodes).
    ///   - weights: parameter data by parameter name, shapes as in `graph` (HF layout).
    /// - Throws: `ONNXExportError` (libonnx's message for an invalid model).
    public func modelData(graph: Graph, weights: [String: HostTensor]) throws -> Data {
        let model = try makeModel(graph: graph, weights: weights)
        let data = try serialize(model)
        try ONNXValidator.validate(data)
        return data
    }

    /// Exports, validates and writes the model to `url`; with external data, the weights go to
    /// `<file name>.data` next to it. Files are written under temporary names and renamed into
    /// place, so an export that fails leaves any earlier files untouched.
    @discardableResult
    public func write(graph: Graph, weights: [String: HostTensor], to url: URL) throws -> ONNXExportSummary {
        var model = try makeModel(graph: graph, weights: weights)
        let opCounts = Dictionary(model.graph.node.map { ($0.opType, 1) }, uniquingKeysWith: +)
        let weightBytes = model.graph.initializer.reduce(0) { $0 + $1.rawData.count }
        let directory = url.deletingLastPathComponent()
        let fileManager = FileManager.default
        let staging = directory.appendingPathComponent(".\(url.lastPathComponent).export-\(UUID().uuidString)")
        do {
            try fileManager.createDirectory(at: staging, withIntermediateDirectories: true)
        } catch {
            throw ONNXExportError.writeFailed(path: staging.path, reason: "\(error)")
        }
        defer { try? fileManager.removeItem(at: staging) }

        var externalName: String?
        if weightBytes > options.externalDataThreshold {
            let name = url.lastPathComponent + ".data"
            let side = ONNXExternalData.externalize(&model, location: name,
                                                    minimumBytes: options.externalDataMinimumBytes)
            try writeFile(side, to: staging.appendingPathComponent(name))
            externalName = name
        }
        let data = try serialize(model)
        try ONNXValidator.validate(data, directory: externalName == nil ? nil : staging)
        let stagedModel = staging.appendingPathComponent(url.lastPathComponent)
        try writeFile(data, to: stagedModel)
        var externalPath: String?
        if let externalName {
            let target = directory.appendingPathComponent(externalName)
            try move(staging.appendingPathComponent(externalName), to: target)
            externalPath = target.path
        }
        try move(stagedModel, to: url)
        return ONNXExportSummary(modelPath: url.path, externalDataPath: externalPath, modelBytes: data.count,
                                 opCounts: opCounts, initializerCount: model.graph.initializer.count)
    }

    // MARK: - Building the ModelProto

    /// The ModelProto of `graph` with `weights` inline; not yet validated.
    func makeModel(graph: Graph, weights: [String: HostTensor]) throws -> Onnx_ModelProto {
        do {
            try GraphVerifier.verify(graph, after: "export")
        } catch {
            throw ONNXExportError.invalidGraph("\(error)")
        }
        let pruned = try selectOutputs(graph)
        var context = ONNXEmitContext(graph: pruned, weights: weights)
        for (i, node) in pruned.nodes.enumerated() {
            try node.op.emitONNX(node, index: i, into: &context)
        }
        let outputs = try context.finishOutputs()

        var g = Onnx_GraphProto()
        g.name = graph.name
        g.node = context.builder.nodes
        g.initializer = context.builder.initializers
        let used = Set(pruned.nodes.flatMap(\.inputs) + pruned.outputs.map(\.value))
        let inputs = pruned.inputs.filter(used.contains).sorted { a, b in
            let order = { (v: ValueID) in Self.canonicalInputOrder.firstIndex(of: pruned.values[v].name) ?? Int.max }
            return (order(a), a) < (order(b), b)
        }
        g.input = inputs.map { valueInfo(name: pruned.values[$0].name, type: pruned.type(of: $0)) }
        g.output = outputs.map { valueInfo(name: $0.name, type: pruned.type(of: $0.value)) }

        var model = Onnx_ModelProto()
        model.irVersion = Self.irVersion
        var opset = Onnx_OperatorSetIdProto()
        opset.domain = ""
        opset.version = Self.opsetVersion
        model.opsetImport = [opset]
        model.producerName = BertcVersion.name
        model.producerVersion = options.producerVersion
        model.graph = g
        return model
    }

    /// `graph` with only the requested outputs and the nodes they depend on.
    private func selectOutputs(_ graph: Graph) throws -> Graph {
        var g = graph
        if let names = options.outputs {
            g.outputs = try names.map { name in
                guard let out = graph.outputs.first(where: { $0.name == name }) else {
                    throw ONNXExportError.unsupported(op: "output", node: name,
                        detail: "the graph has no output \(name); it has \(graph.outputs.map(\.name))")
                }
                return out
            }
        }
        var live = Set(g.outputs.map(\.value))
        var keep = [Bool](repeating: false, count: g.nodes.count)
        for (i, node) in g.nodes.enumerated().reversed() where node.outputs.contains(where: live.contains) {
            keep[i] = true
            live.formUnion(node.inputs)
        }
        g.nodes = g.nodes.enumerated().filter { keep[$0.offset] }.map(\.element)
        return g
    }

    /// A ValueInfoProto: integer IR types become int64 (what tokenizers feed), symbolic dims
    /// become `dim_param` (`seq` is spelled `sequence`, as in Hugging Face's export).
    private func valueInfo(name: String, type: TensorType) -> Onnx_ValueInfoProto {
        var tensor = Onnx_TypeProto.Tensor()
        switch type.dtype {
        case .float32: tensor.elemType = Int32(Onnx_TensorProto.DataType.float.rawValue)
        case .int32, .int64: tensor.elemType = Int32(Onnx_TensorProto.DataType.int64.rawValue)
        }
        var shape = Onnx_TensorShapeProto()
        shape.dim = type.shape.dims.map { d in
            var dim = Onnx_TensorShapeProto.Dimension()
            switch d {
            case .fixed(let n): dim.dimValue = Int64(n)
            case .symbol(let s): dim.dimParam = s == "seq" ? "sequence" : s
            }
            return dim
        }
        tensor.shape = shape
        var info = Onnx_ValueInfoProto()
        info.name = name
        info.type.tensorType = tensor
        return info
    }

    // MARK: - Files

    /// The model's bytes; protobuf (and ORT) cannot read a message of 2 GiB or more.
    private func serialize(_ model: Onnx_ModelProto) throws -> Data {
        let data: Data
        do {
            data = try model.serializedBytes()
        } catch {
            throw ONNXExportError.invalidModel(message: "protobuf serialisation failed: \(error)")
        }
        guard data.count < Int(Int32.max) else { throw ONNXExportError.modelTooLarge(bytes: data.count) }
        return data
    }

    /// Writes into the staging directory; the final names are only reached by `move`.
    private func writeFile(_ data: Data, to url: URL) throws {
        do {
            try data.write(to: url)
        } catch {
            throw ONNXExportError.writeFailed(path: url.path, reason: "\(error)")
        }
    }

    /// rename(2): atomic within one file system, replaces an existing file.
    private func move(_ source: URL, to target: URL) throws {
        guard rename(source.path, target.path) == 0 else {
            throw ONNXExportError.writeFailed(path: target.path, reason: String(cString: strerror(errno)))
        }
    }
}
