import XCTest
@testable import BertGraph
@testable import BertPasses

/// `EliminateDeadCode`: nodes that reach no output and values nothing keeps are dropped.
final class EliminateDeadCodeTests: XCTestCase {
    /// Unused inputs and parameters stay (callers feed them by name); a multi-output node
    /// with one live output keeps all its outputs.
    private let declarations = """
          input x: f32[batch, 4]
          input unused: f32[1]
          param w: f32[4, 4]
          param b: f32[4]
          param gamma: f32[4]
        """

    func testDropsUnreachableNodes() throws {
        let live = """
              %h = matmul[transpose_a=false, transpose_b=true](x, w)
              %y = add(%h, b)
              %dln, %dln:1, %dln:2 = layer_norm_grad[epsilon=1e-05](%y, %h, gamma)
              output y = %y
              output dgamma = %dln:1
            """
        try assertPass(EliminateDeadCode(), before: ir(declarations, """
              %h = matmul[transpose_a=false, transpose_b=true](x, w)
              %dead.tanh = tanh(%h)
              %dead.gelu = gelu[approximation=erf](x)
              %dead.scale = scale[factor=2.0](%dead.gelu)
              %y = add(%h, b)
              %dln, %dln:1, %dln:2 = layer_norm_grad[epsilon=1e-05](%y, %h, gamma)
              output y = %y
              output dgamma = %dln:1
            """), expected: ir(declarations, live))
        try assertPassLeavesAsIs(EliminateDeadCode(), ir(declarations, live))
    }

    func testALiveGraphIsLeftAsIs() throws {
        let g = try everyOpGraph()
        XCTAssertEqual(try EliminateDeadCode().run(g), g)
    }

    func testDropsOrphanValues() throws {
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

    /// Pruning is idempotent, keeps the outputs, prints and parses back, and plans.
    func testRandomGraphs() throws {
        for seed in 0..<100 as Range<UInt64> {
            let (g, bindings) = try randomGraph(seed: seed)
            let pruned = try EliminateDeadCode().run(g)
            try GraphVerifier.verify(pruned, after: "EliminateDeadCode")
            XCTAssertEqual(try EliminateDeadCode().run(pruned), pruned, "seed \(seed)")
            XCTAssertEqual(try GraphParser.parse(GraphPrinter.render(pruned)), pruned, "seed \(seed)")
            XCTAssertEqual(pruned.outputs.map(\.name), g.outputs.map(\.name))
            try PlanMemory().run(pruned, bindings: bindings).verify(graph: pruned)
        }
    }
}
