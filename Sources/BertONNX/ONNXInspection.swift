// What `bertc inspect FILE.onnx` shows: the model's versions, inputs, outputs and initializers
// (name, element type, shape). The file is checked by libonnx first
// (`ONNXRuntimeRunner.checkModel`), so a file that is not an ONNX model is one plain error
// naming it.

import BertModel
import Foundation

/// The summary of an ONNX model file.
public struct ONNXInspection: Codable, Equatable, Sendable {
    public typealias Tensor = TensorListing

    public var path: String
    public var irVersion: Int
    /// The default-domain opset.
    public var opset: Int?
    public var producer: String
    public var nodes: Int
    public var inputs: [String]
    public var outputs: [String]
    public var initializers: [Tensor]
    /// Elements of floating-point initializers.
    public var parameters: Int

    enum CodingKeys: String, CodingKey {
        case path, irVersion = "ir_version", opset, producer, nodes, inputs, outputs, initializers, parameters
    }

    /// Whether `url` names an ONNX file (by its extension).
    public static func isONNX(_ url: URL) -> Bool { url.pathExtension.lowercased() == "onnx" }

    /// Checks the file with libonnx and reads its summary.
    /// - Throws: `ONNXRuntimeRunError.badModel` naming the file.
    public init(url: URL) throws {
        let data = try ONNXRuntimeRunner.checkModel(url)
        let model: Onnx_ModelProto
        do { model = try Onnx_ModelProto(serializedBytes: data) } catch {
            throw ONNXRuntimeRunError.badModel(file: url.path, reason: "it cannot be parsed (\(error))")
        }
        path = url.path
        irVersion = Int(model.irVersion)
        opset = model.opsetImport.first { $0.domain.isEmpty || $0.domain == "ai.onnx" }.map { Int($0.version) }
        producer = [model.producerName, model.producerVersion].filter { !$0.isEmpty }.joined(separator: " ")
        nodes = model.graph.node.count
        inputs = model.graph.input.map(\.name)
        outputs = model.graph.output.map(\.name)
        initializers = model.graph.initializer.map { tensor in
            let dtype = Onnx_TensorProto.DataType(rawValue: Int(tensor.dataType)).map { "\($0)" } ?? "type \(tensor.dataType)"
            return Tensor(name: tensor.name, dtype: dtype, shape: tensor.dims.map { Int($0) })
        }
        let floating: Set<String> = ["float", "double", "float16", "bfloat16"]
        parameters = initializers.filter { floating.contains($0.dtype) }.reduce(0) { total, tensor in
            let (count, overflow) = tensor.shape.reduce((1, false)) { acc, n in
                let (p, o) = acc.0.multipliedReportingOverflow(by: max(n, 0))
                return (p, acc.1 || o)
            }
            return overflow ? total : total &+ count
        }
    }

    /// Lines for people.
    public var text: String {
        var lines = ["\(path): ONNX model, IR version \(irVersion)" + (opset.map { ", opset \($0)" } ?? "")
            + (producer.isEmpty ? "" : ", by \(producer)") + ", \(nodes) nodes"]
        lines.append("inputs: " + inputs.joined(separator: ", "))
        lines.append("outputs: " + outputs.joined(separator: ", "))
        let width = initializers.map(\.name.count).max() ?? 0
        for tensor in initializers {
            lines.append("  \(tensor.name.padding(toLength: width, withPad: " ", startingAt: 0))  "
                + "\(tensor.dtype.padding(toLength: 7, withPad: " ", startingAt: 0)) ["
                + tensor.shape.map(String.init).joined(separator: ", ") + "]")
        }
        lines.append("parameters: \(parameters)")
        return lines.joined(separator: "\n")
    }
}
