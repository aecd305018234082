// Test support: one-node graphs, golden cases from golden/ops, seeded random tensors and
// tolerance checks.
import BertGraph
import BertPasses
@testable import BertRuntime
import Foundation
import XCTest

/// A tensor in a golden file: dtype, shape and row-major data.
struct GoldenTensor: Decodable {
    let dtype: String
    let shape: [Int]
    let data: [Double]

    var host: HostTensor {
        switch dtype {
        case "i32": return HostTensor(shape: shape, int32s: data.map { Int32($0) })
        case "i64": return HostTensor(shape: shape, int64s: data.map { Int64($0) })
        default: return HostTensor(shape: shape, floats: data.map { Float($0) })
        }
    }
}

/// One op case written by tools/golden_ops.py.
struct GoldenCase: Decodable {
    let `case`: String
    let op: String
    let inputs: [GoldenTensor]
    let outputs: [GoldenTensor]

    static let directory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("golden/ops")

    static func load(_ name: String) throws -> GoldenCase {
        let data = try Data(contentsOf: directory.appendingPathComponent("\(name).json"))
        return try JSONDecoder().decode(GoldenCase.self, from: data)
    }

    static func allNames() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: directory.path)
            .filter { $0.hasSuffix(".json") }.map { String($0.dropLast(5)) }.sorted()
    }
}

/// A graph with inputs `x0, x1, ...` of the given tensors' types, one node applying `op`, and
/// outputs `y0, y1, ...`.
func oneNodeGraph(_ op: Op, inputs: [HostTensor]) throws -> Graph {
    var g = Graph(name: op.name)
    let ids = inputs.enumerated().map { i, t in g.addInput("x\(i)", TensorType(t.dtype, Shape(t.shape))) }
    let outs = try g.apply(op, ids, name: "y")
    for (k, v) in outs.enumerated() { g.addOutput("y\(k)", v) }
    return g
}

/// Runs `op` on `inputs` through an Interpreter with the naive plan; outputs in order.
func runOneNode(_ op: Op, _ inputs: [HostTensor], threads: Int = 1, minimumParallelWork: Int = 32_768,
                seed: UInt64 = 0, step: Int = 0) throws -> [HostTensor] {
    let g = try oneNodeGraph(op, inputs: inputs)
    let interpreter = try Interpreter(graph: g, plan: MemoryPlan.naive(g, bindings: [:]), threads: threads,
                                      minimumParallelWork: minimumParallelWork)
    var feed: [String: HostTensor] = [:]
    for (i, t) in inputs.enumerated() { feed["x\(i)"] = t }
    let result = try interpreter.run(inputs: feed, parameters: ParameterStore(specs: []), seed: seed, step: step)
    return g.outputs.indices.map { result["y\($0)"]! }
}

/// Asserts |actual - expected| <= atol + rtol * |expected| elementwise, and equal shapes.
func assertClose(_ actual: HostTensor, _ expected: HostTensor, atol: Float, rtol: Float, _ label: String,
                 file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(actual.shape, expected.shape, "\(label): shape", file: file, line: line)
    guard let a = actual.floats, let e = expected.floats else {
        XCTAssertEqual(actual.int32s, expected.int32s, "\(label): integer values", file: file, line: line)
        return
    }
    var worst: (Int, Float) = (-1, 0)
    for i in 0..<min(a.count, e.count) {
        let excess = abs(a[i] - e[i]) - (atol + rtol * abs(e[i]))
        if !(excess <= 0), worst.0 < 0 || excess > worst.1 || excess.isNaN { worst = (i, excess) }
    }
    if worst.0 >= 0 {
        XCTFail("\(label): element \(worst.0) is \(a[worst.0]), expected \(e[worst.0]) (atol \(atol), rtol \(rtol))",
                file: file, line: line)
    }
}

/// Seeded uniform floats in [-scale, scale) for test tensors (SplitMix64).
struct SeededFloats {
    var state: UInt64

    mutating func next(scale: Float = 1) -> Float {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        z ^= z >> 31
        return (Float(z >> 40) / 16_777_216 * 2 - 1) * scale
    }

    mutating func tensor(_ shape: [Int], scale: Float = 1) -> HostTensor {
        HostTensor(shape: shape, floats: (0..<shape.reduce(1, *)).map { _ in next(scale: scale) })
    }
}
