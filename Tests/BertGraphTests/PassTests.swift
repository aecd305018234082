import XCTest
@testable import BertGraph
@testable import BertPasses

/// Pass tests as before/expected pairs compared structurally (TVM style).
final class PassTests: XCTestCase {
    // MARK: - InferShapes

    func testInferShapesRestoresEveryType() throws {
        let expected = try everyOpGraph()
        var scrambled = expected
        for v in scrambled.values.indices where scrambled.values[v].role == .intermediate {
            scrambled.values[v].type = .f32(.fixed(1))
        }
        XCTAssertEqual(try InferShapes().run(scrambled), expected)
    }

    func testInferShapesPropagatesAnEditedParameter() throws {
        var g = Graph(name: "t")
        let x = g.addInput("x", .f32(.batch, .fixed(8)))
        let w = g.addParameter("w", .f32(.fixed(4), .fixed(8)))
        let y = try g.apply1(.matmul(transposeA: false, transposeB: true), [x, w], name: "y")
        let z = try g.apply1(.gelu(.erf), [y], name: "z")
        g.values[w].type = .f32(.fixed(6), .fixed(8))
        let inferred = try InferShapes().run(g)
        XCTAssertEqual(inferred.values[z].type, .f32(.batch, .fixed(6)))
    }

    func testInferShapesErrorNamesNodeOpAndShapes() throws {
        var g = try everyOpGraph()
        g.values[g.value(named: "dense.weight")!].type = .f32(.fixed(8), .fixed(7))
        XCTAssertThrowsError(try InferShapes().run(g)) { e in
            XCTAssertEqual(e as? GraphError, .shapeMismatch(node: "dense", op: "matmul",
                                                          detail: "inner dims differ: [batch, seq, 8] x [8, 7]^T"))
        }
    }

    // MARK: - Specialize

    func testSpecializeEqualsGraphBuiltWithNumbers() throws {
        let specialised = try Specialize(bindings: ["batch": 2, "seq": 5]).run(try everyOpGraph())
        XCTAssertEqual(specialised, try everyOpGraph(batch: .fixed(2), seq: .fixed(5)))
        try GraphVerifier.verify(specialised)
    }

    func testSpecializeBindsOnlyTheGivenSymbols() throws {
        let specialised = try Specialize(bindings: ["seq": 16]).run(try everyOpGraph())
        XCTAssertEqual(specialised, try everyOpGraph(batch: .batch, seq: .fixed(16)))
        XCTAssertEqual(try Specialize(bindings: [:]).run(try everyOpGraph()), try everyOpGraph())
    }

    func testSpecializeRejectsNegativeSizes() {
        XCTAssertThrowsError(try Specialize(bindings: ["seq": -1]).run(try everyOpGraph()))
    }

    func testSpecializeThroughPipelineVerifies() throws {
        let g = try Pipeline([Specialize(bindings: ["batch": 1, "seq": 3]), EliminateDeadCode(), InferShapes()]).run(try everyOpGraph())
        XCTAssertEqual(g.values[g.output(named: "dprobs")!].type, .f32(.fixed(1), .fixed(2), .fixed(3), .fixed(3)))
    }

    // MARK: - EliminateDeadCode

    func testEliminateDeadCodeDropsUnreachableNodesAndValues() throws {
        var before = Graph(name: "dce")
        let x = before.addInput("x", .f32(.batch, .fixed(4)))
        let unusedInput = before.addInput("unused", .f32(.fixed(1)))
        let w = before.addParameter("w", .f32(.fixed(4), .fixed(4)))
        let b = before.addParameter("b", .f32(.fixed(4)))
        let gamma = before.addParameter("gamma", .f32(.fixed(4)))
        let h = try before.apply1(.matmul(transposeA: false, transposeB: true), [x, w], name: "h")
        _ = try before.apply1(.tanh, [h], name: "dead.tanh")
        let dead = try before.apply1(.gelu(.erf), [x], name: "dead.gelu")
        _ = try before.apply1(.scale(2), [dead], name: "dead.scale")
        let y = try before.apply1(.add, [h, b], name: "y")
        let dln = try before.apply(.layerNormGrad(epsilon: 1e-5), [y, h, gamma], name: "dln")
        before.addOutput("y", y)
        before.addOutput("dgamma", dln[1])
        _ = unusedInput

        var expected = Graph(name: "dce")
        let ex = expected.addInput("x", .f32(.batch, .fixed(4)))
        _ = expected.addInput("unused", .f32(.fixed(1)))
        let ew = expected.addParameter("w", .f32(.fixed(4), .fixed(4)))
        let eb = expected.addParameter("b", .f32(.fixed(4)))
        let egamma = expected.addParameter("gamma", .f32(.fixed(4)))
        let eh = try expected.apply1(.matmul(transposeA: false, transposeB: true), [ex, ew], name: "h")
        let ey = try expected.apply1(.add, [eh, eb], name: "y")
        let edln = try expected.apply(.layerNormGrad(epsilon: 1e-5), [ey, eh, egamma], name: "dln")
        expected.addOutput("y", ey)
        expected.addOutput("dgamma", edln[1])

        let after = try EliminateDeadCode().run(before)
        XCTAssertEqual(after, expected)
        XCTAssertEqual(try EliminateDeadCode().run(after), after, "a second run changes nothing")
        try GraphVerifier.verify(after)
    }

    func testEliminateDeadCodeKeepsALiveGraph() throws {
        let g = try everyOpGraph()
        let after = try EliminateDeadCode().run(g)
        // Every node of the fixture feeds some output.
        XCTAssertEqual(after.nodes.count, g.nodes.count)
        XCTAssertEqual(after, g)
    }

    func testEliminateDeadCodeDropsOrphanValues() throws {
        var g = Graph(name: "orphans")
        let x = g.addInput("x", .f32(.fixed(2)))
        g.addValue(.f32(.fixed(3)), name: "orphan", role: .intermediate)
        let y = try g.apply1(.tanh, [x], name: "y")
        g.addOutput("y", y)
        let after = try EliminateDeadCode().run(g)
        XCTAssertEqual(after.values.map(\.name), ["x", "y"])
        XCTAssertEqual(after.nodes, [Node(op: .tanh, inputs: [0], outputs: [1])])
        XCTAssertEqual(after.outputs, [GraphOutput(name: "y", value: 1)])
    }

    // MARK: - Properties on random graphs

    func testPassesAgreeOnRandomGraphs() throws {
        for seed in 0..<100 as Range<UInt64> {
            let (g, bindings) = try randomGraph(seed: seed)
            XCTAssertEqual(try InferShapes().run(g), g, "seed \(seed)")
            let specialised = try Specialize(bindings: bindings).run(g)
            try GraphVerifier.verify(specialised, after: "Specialize")
            XCTAssertEqual(try PlanMemory().run(specialised, bindings: [:]).offsets,
                           try PlanMemory().run(g, bindings: bindings).offsets, "seed \(seed)")
            let pruned = try EliminateDeadCode().run(g)
            try GraphVerifier.verify(pruned, after: "EliminateDeadCode")
            XCTAssertEqual(try EliminateDeadCode().run(pruned), pruned, "seed \(seed)")
            XCTAssertEqual(try GraphParser.parse(GraphPrinter.render(pruned)), pruned, "seed \(seed)")
            XCTAssertEqual(pruned.outputs.map(\.name), g.outputs.map(\.name))
            try PlanMemory().run(pruned, bindings: bindings).verify(graph: pruned)
        }
    }
}
