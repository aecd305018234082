import XCTest
import BertGraph
import BertPasses
import BertRuntime

// The finite-difference harness: a tiny graph with random parameters and a scalar loss,
// differentiated by `Differentiate`, run by the `Interpreter`, and compared with central
// differences of the forward graph's loss.
//
// Everything runs in float32. Central differences use a step of 1e-2: the truncation error
// (~1e-4 * f''') and the float32 rounding of a loss of size ~1 (~1e-5) both stay well below
// the tolerance. An element passes when |analytic - numeric| <= 1e-3 + 1e-2 * |numeric|.
// Measured worst case over the op checks: 1.3% of that bound (absolute error 1.1e-4).

enum GradientCheck {
    static let step: Float = 1e-2
    static let atol: Float = 1e-3
    static let rtol: Float = 1e-2
}

/// A small graph under construction: parameters get random values, the loss head turns
/// any float value into `meanSquaredError(reshape(y) R^T, targets)` with fixed random R.
struct GradientCheckCase {
    var g = Graph(name: "check")
    var inputs: [String: HostTensor] = [:]
    var values: [String: HostTensor] = [:]
    var rng = SplitMix64(seed: 42)

    mutating func param(_ name: String, _ dims: [Int], range: ClosedRange<Float> = -1 ... 1) -> ValueID {
        values[name] = HostTensor(shape: dims, floats: (0 ..< dims.reduce(1, *)).map { _ in Float.random(in: range, using: &rng) })
        return g.addParameter(name, TensorType(.float32, Shape(dims)))
    }

    /// Random values for every parameter of `g` that has none (LayerNorm weights near 1).
    mutating func randomizeParameters() {
        for p in g.parameters where values[g.values[p].name] == nil {
            let name = g.values[p].name
            let dims = g.type(of: p).shape.resolve([:])!
            let range: ClosedRange<Float> = name.hasSuffix("LayerNorm.weight") ? 0.5 ... 1.5 : -0.5 ... 0.5
            values[name] = HostTensor(shape: dims, floats: (0 ..< dims.reduce(1, *)).map { _ in Float.random(in: range, using: &rng) })
        }
    }

    mutating func floatInput(_ name: String, _ dims: [Int]) -> ValueID {
        inputs[name] = HostTensor(shape: dims, floats: (0 ..< dims.reduce(1, *)).map { _ in Float.random(in: -1 ... 1, using: &rng) })
        return g.addInput(name, TensorType(.float32, Shape(dims)))
    }

    mutating func intInput(_ name: String, _ dims: [Int], _ values: [Int32]) -> ValueID {
        inputs[name] = HostTensor(shape: dims, int32s: values)
        return g.addInput(name, TensorType(.int32, Shape(dims)))
    }

    mutating func apply(_ op: Op, _ x: [ValueID], _ name: String) throws -> ValueID {
        try g.apply1(op, x, name: name)
    }

    /// Ends the graph with a quadratic loss of `y` (any float shape with fixed dims).
    mutating func mseLoss(_ y: ValueID) throws {
        let dims = g.type(of: y).shape.resolve([:])!
        let last = dims.last ?? 1
        let rows = dims.reduce(1, *) / last
        let flat = try apply(.reshape(Shape([rows, last])), [y], "head.flat")
        let r = floatInput("head.r", [1, last])
        let proj = try apply(.matmul(transposeA: false, transposeB: true), [flat, r], "head.proj")
        let t = floatInput("head.targets", [rows])
        g.addOutput("loss", try apply(.meanSquaredError, [proj, t], "loss"))
    }

    /// Ends the graph with softmax cross-entropy of `logits` [b, c] against fixed labels.
    mutating func crossEntropyLoss(_ logits: ValueID) throws {
        let dims = g.type(of: logits).shape.resolve([:])!
        let labels = intInput("head.labels", [dims[0]], (0 ..< dims[0]).map { Int32($0 % dims[1]) })
        g.addOutput("loss", try apply(.softmaxCrossEntropy, [logits, labels], "loss"))
    }
}

extension XCTestCase {
    /// Differentiates `c.g`, runs it, and compares every parameter's gradient with central
    /// differences of the forward loss. Parameters in `invariant` must get a zero gradient
    /// (the loss does not depend on them); all others a nonzero one.
    /// - Parameters:
    ///   - bindings: values of the graph's symbolic dims.
    ///   - samples: when set, only this many evenly spaced elements per parameter are
    ///     checked (and the nonzero check is skipped: a sample may miss the rows in use).
    func checkGradients(_ c: GradientCheckCase, bindings: [String: Int] = [:], samples: Int? = nil, invariant: Set<String> = [],
                        file: StaticString = #filePath, line: UInt = #line) throws {
        let train = try Differentiate().run(c.g)
        try GraphVerifier.verify(train, after: "Differentiate")
        let params = try ParameterStore.matching(c.g)
        for (name, t) in c.values { try params.set(name, t) }
        let grads = try ParameterStore.matching(c.g)
        let backward = try Interpreter(graph: train, plan: MemoryPlan.naive(train, bindings: bindings))
        _ = try backward.run(inputs: c.inputs, parameters: params, gradients: grads, seed: 7, step: 3)

        let forward = try Interpreter(graph: c.g, plan: MemoryPlan.naive(c.g, bindings: bindings))
        func loss() throws -> Float {
            try forward.run(inputs: c.inputs, parameters: params, seed: 7, step: 3)["loss"]!.floats![0]
        }
        for name in params.names {
            let slot = params.slot(name)!
            let picked = samples.map { k in (0 ..< min(k, slot.count)).map { $0 * slot.count / min(k, slot.count) } } ?? Array(0 ..< slot.count)
            let allAnalytic = grads.tensor(name)!.floats!
            var analytic: [Float] = []
            var numeric: [Float] = []
            for offset in picked {
                let i = slot.lowerBound + offset
                let original = params.withUnsafeMutableBufferPointer { $0[i] }
                params.withUnsafeMutableBufferPointer { $0[i] = original + GradientCheck.step }
                let up = try loss()
                params.withUnsafeMutableBufferPointer { $0[i] = original - GradientCheck.step }
                let down = try loss()
                params.withUnsafeMutableBufferPointer { $0[i] = original }
                numeric.append((up - down) / (2 * GradientCheck.step))
                analytic.append(allAnalytic[offset])
            }
            if invariant.contains(name) {
                XCTAssertLessThan(numeric.map(abs).max() ?? 0, GradientCheck.atol, "\(name): the loss depends on it", file: file, line: line)
            } else if samples == nil {
                XCTAssertGreaterThan(numeric.map(abs).max() ?? 0, 1e-3, "\(name): the loss does not depend on it", file: file, line: line)
            }
            for (k, (a, n)) in zip(analytic, numeric).enumerated() where abs(a - n) > GradientCheck.atol + GradientCheck.rtol * abs(n) {
                XCTFail("\(name)[\(picked[k])]: analytic \(a), numeric \(n)", file: file, line: line)
                break
            }
        }
    }
}
