// The interpreter: following plans, parameters in place, inputs checked, gradients stored,
// and results independent of the thread count.
import BertGraph
import BertPasses
@testable import BertRuntime
import XCTest

final class InterpreterTests: XCTestCase {
    /// input ids -> gather(table) -> linear(W, b) -> gelu -> layerNorm, plus a gradient-like
    /// output grad:b = sumLeading(gelu output). Values: 0 ids, 1 table, 2 W, 3 b, 4 gamma, 5 beta.
    func smallModel() throws -> Graph {
        var g = Graph(name: "small")
        let ids = g.addInput("input_ids", .i32(.batch, .seq))
        let table = g.addParameter("table", .f32(.fixed(11), .fixed(8)))
        let w = g.addParameter("w", .f32(.fixed(6), .fixed(8)))
        let b = g.addParameter("b", .f32(.fixed(6)))
        let gamma = g.addParameter("gamma", .f32(.fixed(6)))
        let beta = g.addParameter("beta", .f32(.fixed(6)))
        let x = try g.apply1(.gather, [table, ids], name: "x")
        let y = try g.apply1(.matmul(transposeA: false, transposeB: true), [x, w], name: "y")
        let z = try g.apply1(.add, [y, b], name: "z")
        let a = try g.apply1(.gelu(.erf), [z], name: "a")
        let n = try g.apply1(.layerNorm(epsilon: 1e-5), [a, gamma, beta], name: "n")
        let s = try g.apply1(.sumLeading(keepRank: 1), [a], name: "s")
        g.addOutput("out", n)
        g.addOutput("grad:b", s)
        return g
    }

    func filledParameters(_ g: Graph) throws -> ParameterStore {
        let store = try ParameterStore.matching(g)
        var random = SeededFloats(state: 42)
        for name in store.names { try store.set(name, random.tensor(store.shape(name)!)) }
        return store
    }

    let ids = HostTensor(shape: [2, 3], int32s: [1, 5, 10, 0, 3, 3])
    let bindings = ["batch": 2, "seq": 3]

    /// Values whose lifetimes do not overlap share slots: x and a (x is dead once y exists),
    /// y and n (y is dead once z exists).
    func overlappingPlan(_ g: Graph) throws -> MemoryPlan {
        let naive = try MemoryPlan.naive(g, bindings: bindings)
        var offsets = naive.offsets
        let id = { (name: String) in g.value(named: name)! }
        offsets[id("a")] = offsets[id("x")]
        offsets[id("n")] = offsets[id("y")]
        let top = g.values.indices.compactMap { v in offsets[v].map { $0 + MemoryPlan.aligned(naive.sizes[v]) } }.max()!
        return MemoryPlan(bindings: bindings, offsets: offsets, sizes: naive.sizes, arenaBytes: top, naiveBytes: naive.naiveBytes)
    }

    func testOverlappingPlanGivesNaiveResults() throws {
        let g = try smallModel()
        let params = try filledParameters(g)
        let naive = try Interpreter(graph: g, plan: MemoryPlan.naive(g, bindings: bindings))
        let plan = try overlappingPlan(g)
        let placed = plan.offsets.compactMap { $0 }
        XCTAssertEqual(Set(placed).count, placed.count - 2, "two pairs of values share a slot")
        let shared = try Interpreter(graph: g, plan: plan)
        let expected = try naive.run(inputs: ["input_ids": ids], parameters: params)
        XCTAssertEqual(try shared.run(inputs: ["input_ids": ids], parameters: params), expected)
        // A second run over the dirty arena gives the same again.
        XCTAssertEqual(try shared.run(inputs: ["input_ids": ids], parameters: params), expected)
    }

    /// Interpreters of several shapes sharing one arena (an `InterpreterCache`), used in turn,
    /// give each shape's results bit for bit as an interpreter with an arena of its own does,
    /// also when a larger shape makes the arena move.
    func testSharedArenaGivesOwnArenaResults() throws {
        let g = try smallModel()
        let params = try filledParameters(g)
        let cache = InterpreterCache(graph: g) { try PlanMemory().run($0, bindings: $1) }
        var seed: Int32 = 0
        for (batch, seq) in [(2, 3), (1, 2), (2, 3), (4, 7), (1, 2), (2, 3), (4, 7)] {
            seed += 1
            let ids = HostTensor(shape: [batch, seq], int32s: (0..<Int32(batch * seq)).map { ($0 * 7 + seed) % 11 })
            let own = try Interpreter(graph: g, plan: PlanMemory().run(g, bindings: ["batch": batch, "seq": seq]))
            let shared = try cache.interpreter(batch: batch, seq: seq)
            XCTAssertEqual(try shared.run(inputs: ["input_ids": ids], parameters: params),
                           try own.run(inputs: ["input_ids": ids], parameters: params), "\(batch)x\(seq)")
        }
    }

    /// PlanMemory's plan (lifetimes packed, outputs written in place over dying inputs) gives
    /// the naive plan's results bit for bit.
    func testPlanMemoryGivesNaiveResults() throws {
        var g = try smallModel()
        let n = g.output(named: "out")!
        let t = try g.apply1(.tanh, [try g.apply1(.scale(0.5), [n], name: "half")], name: "t")
        let d = try g.apply1(.dropout(rate: 0.25, stream: 3), [t], name: "d")
        g.addOutput("d", try g.apply1(.mul, [d, n], name: "dn"))
        let params = try filledParameters(g)
        let plan = try PlanMemory().run(g, bindings: bindings)
        XCTAssertFalse(plan.inPlace.isEmpty, "the planner wrote some output in place")
        let expected = try Interpreter(graph: g, plan: MemoryPlan.naive(g, bindings: bindings))
            .run(inputs: ["input_ids": ids], parameters: params, seed: 4, step: 1)
        let planned = try Interpreter(graph: g, plan: plan)
        XCTAssertEqual(try planned.run(inputs: ["input_ids": ids], parameters: params, seed: 4, step: 1), expected)
    }

    func testParametersAreReadInPlace() throws {
        let g = try smallModel()
        let params = try filledParameters(g)
        let interpreter = try Interpreter(graph: g, plan: MemoryPlan.naive(g, bindings: bindings))
        let before = try interpreter.run(inputs: ["input_ids": ids], parameters: params)
        params.withUnsafeMutableBufferPointer { buffer in
            for i in params.slot("beta")! { buffer[i] += 1 }
        }
        let after = try interpreter.run(inputs: ["input_ids": ids], parameters: params)
        let shifted = before["out"]!.floats!.map { $0 + 1 }
        assertClose(after["out"]!, HostTensor(shape: [2, 3, 6], floats: shifted), atol: 1e-6, rtol: 0, "beta + 1")
    }

    func testGradientOutputsGoToTheGradientStore() throws {
        let g = try smallModel()
        let params = try filledParameters(g)
        let interpreter = try Interpreter(graph: g, plan: MemoryPlan.naive(g, bindings: bindings))
        let plain = try interpreter.run(inputs: ["input_ids": ids], parameters: params)
        XCTAssertNotNil(plain["grad:b"])
        let grads = try ParameterStore.matching(g)
        let withStore = try interpreter.run(inputs: ["input_ids": ids], parameters: params, gradients: grads)
        XCTAssertNil(withStore["grad:b"])
        XCTAssertEqual(grads.tensor("b"), plain["grad:b"])
        XCTAssertEqual(grads.tensor("w")!.floats!, [Float](repeating: 0, count: 48))
    }

    func testInt64InputsAreAccepted() throws {
        let g = try smallModel()
        let params = try filledParameters(g)
        let interpreter = try Interpreter(graph: g, plan: MemoryPlan.naive(g, bindings: bindings))
        let wide = HostTensor(shape: [2, 3], int64s: ids.int32s!.map(Int64.init))
        XCTAssertEqual(try interpreter.run(inputs: ["input_ids": wide], parameters: params),
                       try interpreter.run(inputs: ["input_ids": ids], parameters: params))
        // 2^32 + 1 would wrap to the valid id 1.
        var values = ids.int32s!.map(Int64.init)
        values[4] = (1 << 32) + 1
        XCTAssertThrowsError(try interpreter.run(inputs: ["input_ids": HostTensor(shape: [2, 3], int64s: values)],
                                                 parameters: params)) {
            XCTAssertEqual($0 as? RuntimeError, .inputValueOutOfRange(name: "input_ids", value: (1 << 32) + 1))
        }
    }

    func testBadInputsAndParametersAreTypedErrors() throws {
        let g = try smallModel()
        let params = try filledParameters(g)
        let interpreter = try Interpreter(graph: g, plan: MemoryPlan.naive(g, bindings: bindings))
        XCTAssertThrowsError(try interpreter.run(inputs: [:], parameters: params)) {
            XCTAssertEqual($0 as? RuntimeError, .missingInput(name: "input_ids"))
        }
        let long = HostTensor(shape: [2, 4], int32s: [Int32](repeating: 0, count: 8))
        XCTAssertThrowsError(try interpreter.run(inputs: ["input_ids": long], parameters: params)) {
            XCTAssertEqual($0 as? RuntimeError, .inputShapeMismatch(name: "input_ids", expected: [2, 3], got: [2, 4]))
            XCTAssertEqual("\($0)", "input 'input_ids' has shape [2, 4], the graph expects [2, 3]")
        }
        let floats = HostTensor(shape: [2, 3], floats: [Float](repeating: 0, count: 6))
        XCTAssertThrowsError(try interpreter.run(inputs: ["input_ids": floats], parameters: params)) {
            XCTAssertEqual($0 as? RuntimeError, .inputTypeMismatch(name: "input_ids", expected: .int32, got: .float32))
        }
        let wrong = ParameterStore(specs: [("table", [11, 8]), ("w", [8, 6]), ("b", [6]), ("gamma", [6]), ("beta", [6])])
        XCTAssertThrowsError(try interpreter.run(inputs: ["input_ids": ids], parameters: wrong)) {
            XCTAssertEqual($0 as? RuntimeError, .parameterShapeMismatch(name: "w", expected: [6, 8], got: [8, 6]))
        }
        XCTAssertThrowsError(try params.set("w", HostTensor(shape: [48], floats: [Float](repeating: 0, count: 48)))) {
            XCTAssertEqual($0 as? RuntimeError, .parameterShapeMismatch(name: "w", expected: [6, 8], got: [48]))
        }
    }

    func testPlanThatDoesNotFitIsRejected() throws {
        let g = try smallModel()
        var plan = try MemoryPlan.naive(g, bindings: bindings)
        plan.offsets[g.value(named: "y")!] = 8
        XCTAssertThrowsError(try Interpreter(graph: g, plan: plan)) {
            guard case .invalidPlan = $0 as? RuntimeError else { return XCTFail("\($0)") }
        }
        XCTAssertThrowsError(try Interpreter(graph: g, plan: MemoryPlan.naive(g, bindings: ["batch": 2, "seq": 3])
            .with { $0.arenaBytes -= 64 }))
    }

    /// Every op the planner may run in place (`Op.Kind.inPlace`: its output on its input 0)
    /// or as a view (`Op.Kind.views`) gives the same bits as with its output in memory of
    /// its own; the samples cover exactly those sets.
    func testInPlaceKernels() throws {
        var random = SeededFloats(state: 5)
        let x = random.tensor([2, 3, 4, 13], scale: 3), dy = random.tensor([2, 3, 4, 13])
        let gamma = random.tensor([13]), beta = random.tensor([13])
        let mask = HostTensor(shape: [2, 13], int32s: (0..<26).map { Int32($0 % 13 < 9 ? 1 : 0) })
        let samples: [(Op, [HostTensor])] = [
            (.add, [x, gamma]), (.add, [x, dy]), (.mul, [x, dy]), (.scale(2), [x]), (.tanh, [x]), (.tanhGrad, [dy, x]),
            (.relu, [x]), (.reluGrad, [dy, x]),
            (.gelu(.erf), [x]), (.gelu(.tanh), [x]), (.geluGrad(.erf), [dy, x]), (.geluGrad(.tanh), [dy, x]),
            (.dropout(rate: 0.5, stream: 1), [x]), (.dropoutGrad(rate: 0.5, stream: 1), [dy]),
            (.layerNorm(epsilon: 1e-5), [x, gamma, beta]), (.addLayerNorm(epsilon: 1e-5), [x, dy, gamma, beta]),
            (.maskedSoftmax, [x, mask]), (.scaledMaskedSoftmax(factor: 0.125), [x, mask]),
            (.softmaxGrad, [dy, x]), (.scaledSoftmaxGrad(factor: 0.5), [dy, x]),
            (.reshape(Shape([6, 52])), [x]),
        ]
        XCTAssertEqual(Set(samples.map(\.0.kind)), Op.Kind.inPlace.union(Op.Kind.views))
        for (op, inputs) in samples {
            let g = try oneNodeGraph(op, inputs: inputs)
            let naive = try MemoryPlan.naive(g, bindings: [:])
            var feed: [String: HostTensor] = [:]
            for (i, t) in inputs.enumerated() { feed["x\(i)"] = t }
            let expected = try Interpreter(graph: g, plan: naive).run(inputs: feed, parameters: ParameterStore(specs: []),
                                                                     seed: 3, step: 1)
            let inPlace = naive.with { $0.offsets[g.nodes[0].outputs[0]] = $0.offsets[g.inputs[0]] }
            let got = try Interpreter(graph: g, plan: inPlace, threads: 2, minimumParallelWork: 0)
                .run(inputs: feed, parameters: ParameterStore(specs: []), seed: 3, step: 1)
            XCTAssertEqual(got, expected, "\(op.name) with its output on input 0")
        }
    }

    /// Kernels that split rows, columns or elements give bit-identical results on one and on
    /// two threads, on shapes with ragged SIMD tails.
    func testResultsDoNotDependOnThreads() throws {
        var random = SeededFloats(state: 9)
        let x = random.tensor([3, 5, 7, 37], scale: 3), dy = random.tensor([3, 5, 7, 37])
        let gamma = random.tensor([37]), beta = random.tensor([37])
        let mask = HostTensor(shape: [3, 37], int32s: (0..<111).map { Int32($0 % 37 < 30 ? 1 : 0) })
        let ids = HostTensor(shape: [3, 5, 7], int32s: (0..<105).map { Int32($0 * 7 % 13) })
        let table = random.tensor([13, 37])
        let cases: [(Op, [HostTensor])] = [
            (.layerNorm(epsilon: 1e-12), [x, gamma, beta]),
            (.layerNormGrad(epsilon: 1e-12), [dy, x, gamma]),
            (.maskedSoftmax, [HostTensor(shape: [3, 5, 7, 37], floats: x.floats!), mask]),
            (.softmaxGrad, [dy, x]),
            (.sumLeading(keepRank: 1), [x]),
            (.sumLeading(keepRank: 0), [x]),
            (.gather, [table, ids]),
            (.gatherGrad(rows: 13), [dy, ids]),
            (.transpose([0, 2, 1, 3]), [x]),
            (.transpose([3, 1, 0, 2]), [x]),
            (.gelu(.erf), [x]), (.gelu(.tanh), [x]),
            (.geluGrad(.erf), [dy, x]), (.geluGrad(.tanh), [dy, x]),
            (.add, [x, gamma]), (.mul, [x, dy]), (.tanh, [x]),
            (.dropout(rate: 0.3, stream: 2), [x]),
        ]
        for (op, inputs) in cases {
            let one = try runOneNode(op, inputs, threads: 1, seed: 1, step: 2)
            let two = try runOneNode(op, inputs, threads: 2, minimumParallelWork: 0, seed: 1, step: 2)
            XCTAssertEqual(one, two, "\(op.name) differs between one and two threads")
        }
    }
}

extension MemoryPlan {
    /// A modified copy.
    func with(_ change: (inout MemoryPlan) -> Void) -> MemoryPlan {
        var copy = self
        change(&copy)
        return copy
    }
}
