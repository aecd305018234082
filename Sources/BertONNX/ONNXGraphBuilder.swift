// The ONNX graph under construction: nodes, initializers and tensor names. The op mapping
// (Op+ONNX.swift) talks to this type only, never to the protobuf messages directly.

import BertGraph
import Foundation

/// Accumulates one ONNX graph: nodes in topological order, initializers (parameters and the
/// constants the op patterns need), and unique tensor names.
struct ONNXGraphBuilder {
    private(set) var nodes: [Onnx_NodeProto] = []
    private(set) var initializers: [Onnx_TensorProto] = []
    private var names = UniqueNames(taken: [])
    /// Constants already emitted, by a key of their type and contents, so each is stored once.
    private var constants: [String: String] = [:]

    // MARK: - Names

    /// `base`, or `base_1`, `base_2`, ... when taken; the returned name is reserved.
    mutating func uniqueName(_ base: String) -> String { names.claim(base) }

    // MARK: - Nodes

    /// Appends a node of standard-domain `opType` and returns its first output's name.
    /// - Parameters:
    ///   - outputs: names already reserved with `uniqueName` (one per output).
    @discardableResult
    mutating func node(_ opType: String, _ inputs: [String], outputs: [String],
                       attributes: [Onnx_AttributeProto] = []) -> String {
        var n = Onnx_NodeProto()
        n.opType = opType
        n.input = inputs
        n.output = outputs
        n.name = outputs[0]
        n.attribute = attributes
        nodes.append(n)
        return outputs[0]
    }

    /// Appends a single-output node whose output gets a fresh name derived from `base`.
    @discardableResult
    mutating func node(_ opType: String, _ inputs: [String], named base: String,
                       attributes: [Onnx_AttributeProto] = []) -> String {
        node(opType, inputs, outputs: [uniqueName(base)], attributes: attributes)
    }

    // MARK: - Initializers

    /// Adds a float32 initializer `[dims]` called `name` (reserved by the caller).
    mutating func addInitializer(name: String, dims: [Int], floats: [Float]) {
        addInitializer(name: name, dims: dims, type: .float, rawData: ONNXGraphBuilder.littleEndianBytes(floats))
    }

    /// Adds an int64 initializer `[dims]` called `name` (reserved by the caller).
    mutating func addInitializer(name: String, dims: [Int], int64s: [Int64]) {
        addInitializer(name: name, dims: dims, type: .int64, rawData: ONNXGraphBuilder.littleEndianBytes(int64s))
    }

    private mutating func addInitializer(name: String, dims: [Int], type: Onnx_TensorProto.DataType, rawData: Data) {
        var t = Onnx_TensorProto()
        t.name = name
        t.dims = dims.map(Int64.init)
        t.dataType = Int32(type.rawValue)
        t.rawData = rawData
        initializers.append(t)
    }

    /// A float32 scalar constant (rank 0), stored once per value.
    mutating func scalar(_ value: Float, named base: String) -> String {
        constant(key: "f32:\(value.bitPattern)", base: base) { b, name in
            b.addInitializer(name: name, dims: [], floats: [value])
        }
    }

    /// An int64 scalar constant (rank 0), stored once per value.
    mutating func scalar(_ value: Int64, named base: String) -> String {
        constant(key: "i64:\(value)", base: base) { b, name in
            b.addInitializer(name: name, dims: [], int64s: [value])
        }
    }

    /// A 1-D int64 constant (shapes, axes, slice bounds), stored once per contents.
    mutating func vector(_ values: [Int64], named base: String) -> String {
        constant(key: "i64[\(values.map(String.init).joined(separator: ","))]", base: base) { b, name in
            b.addInitializer(name: name, dims: [values.count], int64s: values)
        }
    }

    private mutating func constant(key: String, base: String,
                                   add: (inout ONNXGraphBuilder, String) -> Void) -> String {
        if let name = constants[key] { return name }
        let name = uniqueName(base)
        add(&self, name)
        constants[key] = name
        return name
    }

    // MARK: - Attributes

    /// An INT attribute (`axis`, `to`).
    static func attribute(_ name: String, int value: Int) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto()
        a.name = name
        a.type = .int
        a.i = Int64(value)
        return a
    }

    /// An INTS attribute (`perm`).
    static func attribute(_ name: String, ints values: [Int]) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto()
        a.name = name
        a.type = .ints
        a.ints = values.map(Int64.init)
        return a
    }

    /// A FLOAT attribute (`epsilon`).
    static func attribute(_ name: String, float value: Float) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto()
        a.name = name
        a.type = .float
        a.f = value
        return a
    }

    // MARK: - Raw data

    /// Elements as little-endian bytes, the layout of `TensorProto.raw_data`.
    static func littleEndianBytes<T: FixedWidthInteger>(_ values: [T]) -> Data {
        #if _endian(little)
        return values.withUnsafeBytes { Data($0) }
        #else
        var data = Data(capacity: values.count * MemoryLayout<T>.size)
        for v in values { withUnsafeBytes(of: v.littleEndian) { data.append(contentsOf: $0) } }
        return data
        #endif
    }

    static func littleEndianBytes(_ values: [Float]) -> Data {
        #if _endian(little)
        return values.withUnsafeBytes { Data($0) }
        #else
        return littleEndianBytes(values.map(\.bitPattern))
        #endif
    }
}
