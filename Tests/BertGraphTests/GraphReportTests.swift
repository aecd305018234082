import XCTest
@testable import BertGraph
@testable import BertPasses

/// The DOT writer and the statistics helper.
final class GraphReportTests: XCTestCase {
    func testDotHasEveryNodeAndValue() throws {
        let g = try everyOpGraph()
        let dot = GraphvizWriter().write(g)
        XCTAssertTrue(dot.hasPrefix("digraph \"every_op\" {"), dot)
        for i in g.nodes.indices {
            XCTAssertTrue(dot.contains("  n\(i) [shape=box, label=\"\(g.nodeName(i).replacingOccurrences(of: "\"", with: "\\\""))\\n\(g.nodes[i].op.name)"), "node \(i)")
        }
        for v in g.inputs + g.parameters { XCTAssertTrue(dot.contains("  v\(v) [shape=ellipse"), "value \(v)") }
        XCTAssertTrue(dot.contains("n\(g.nodes.count - 1) -> out"), dot)
        XCTAssertTrue(dot.contains("layer_norm[epsilon=1e-12]"))
        XCTAssertTrue(dot.contains("→ f32[batch, seq, 8], f32[8], f32[8]"), "multi-output node lists every type")
        XCTAssertEqual(dot.filter { $0 == "{" }.count, dot.filter { $0 == "}" }.count)

        let collapsed = GraphvizWriter(collapseParameters: true).write(g)
        for v in g.parameters { XCTAssertFalse(collapsed.contains("  v\(v) ["), "parameter \(v) collapsed") }
        XCTAssertTrue(collapsed.contains("\\ndense.weight: f32[8, 8]"), collapsed)
    }

    func testStatistics() throws {
        let stats = GraphStatistics(try everyOpGraph())
        XCTAssertEqual(stats.opCounts["matmul"], 4)
        XCTAssertEqual(stats.opCounts["gather"], 2)
        XCTAssertEqual(stats.opCounts.values.reduce(0, +), stats.nodeCount)
        XCTAssertEqual(stats.parameterCount, 10 * 8 + 8 * 8 + 8 + 8 + 3 * 8 + 8)

        var g = Graph(name: "mlp")
        let x = g.addInput("x", .f32(.batch, .seq, .fixed(8)))
        let w = g.addParameter("w", .f32(.fixed(4), .fixed(8)))
        let b = g.addParameter("b", .f32(.fixed(4)))
        let y = try g.apply1(.matmul(transposeA: false, transposeB: true), [x, w], name: "y")   // 2*(2*3*4)*8 = 384
        let z = try g.apply1(.add, [y, b], name: "z")                                         // 24
        let r = try g.apply1(.reshape([.batch, .seq, .fixed(2), .fixed(2)]), [z], name: "r")  // 0
        let t = try g.apply1(.transpose([0, 2, 1, 3]), [r], name: "t")                        // 0
        let s = try g.apply1(.batchMatmul(transposeA: false, transposeB: true), [t, t], name: "s") // out [2,2,3,3]=36, k=2: 144
        let dw = try g.apply1(.matmul(transposeA: true, transposeB: false), [y, x], name: "dw")   // out 32, L=6: 384
        g.addOutput("s", s); g.addOutput("dw", dw)
        let gs = GraphStatistics(g)
        XCTAssertEqual(gs.parameterCount, 36)
        let byOp = try gs.flopsByOp(bindings: ["batch": 2, "seq": 3])
        XCTAssertEqual(byOp, ["matmul": 768, "add": 24, "reshape": 0, "transpose": 0, "batch_matmul": 144])
        XCTAssertEqual(try gs.flops(bindings: ["batch": 2, "seq": 3]), 936)
        XCTAssertThrowsError(try gs.flops(bindings: ["batch": 2]))
    }
}

/// Statistics, plan and text of a BERT-shaped graph, checked against closed-form counts.
final class TinyBertGraphTests: XCTestCase {
    let c: TinyBertConfig = {
        var c = TinyBertConfig()
        (c.vocabSize, c.hidden, c.heads, c.intermediate) = (20, 8, 2, 16)
        return c
    }()

    func testParameterCountAndFlopsMatchTheFormulas() throws {
        let stats = GraphStatistics(try TinyBert.graph(c))
        let (H, I, L) = (c.hidden, c.intermediate, c.labels)
        let perLayer = 4 * (H * H + H) + I * H + I + H * I + H + 2 * 2 * H
        XCTAssertEqual(stats.parameterCount,
                       (c.vocabSize + c.maxPositions + c.typeVocabSize) * H + 2 * H + c.layers * perLayer + H * H + H + L * H + L)
        XCTAssertEqual(stats.opCounts["layer_norm"], 1 + 2 * c.layers)
        XCTAssertEqual(stats.opCounts["batch_matmul"], 2 * c.layers)
        let (b, s) = (3, 7)
        let flops = try stats.flopsByOp(bindings: ["batch": b, "seq": s])
        XCTAssertEqual(flops["matmul"], c.layers * (4 * 2 * b * s * H * H + 2 * 2 * b * s * H * I) + 2 * b * H * H + 2 * b * H * L)
        XCTAssertEqual(flops["batch_matmul"], c.layers * 2 * (2 * b * c.heads * s * s * c.headSize))
        XCTAssertEqual(flops["gelu"], c.layers * b * s * I)
        XCTAssertEqual(flops["gather"], 0)
    }

    func testRoundTripAndPlan() throws {
        let g = try TinyBert.graph(c)
        XCTAssertEqual(try GraphParser.parse(GraphPrinter.render(g)), g)
        XCTAssertEqual(try EliminateDeadCode().run(g), g, "an inference graph has no dead code")
        let bindings = ["batch": 2, "seq": 8]

        let plan = try PlanMemory().run(g, bindings: bindings)
        try plan.verify(graph: g)
        XCTAssertLessThan(plan.arenaBytes * 3, plan.naiveBytes, "reuse saves most of the naive arena")
        let inPlaceOps = Set(plan.inPlace.keys.map { v in g.nodes.first { $0.outputs.contains(v) }!.op.name })
        XCTAssertTrue(inPlaceOps.isSuperset(of: ["add", "gelu", "layer_norm", "scale", "masked_softmax", "tanh"]), "\(inPlaceOps)")

        let report = plan.report(graph: g)
        XCTAssertTrue(report.hasPrefix("arena \(plan.arenaBytes) bytes (naive \(plan.naiveBytes), "), report)
        XCTAssertTrue(report.contains("(in place of "), report)
        XCTAssertEqual(report.split(separator: "\n").count, 2 + g.values.count - g.parameters.count)
    }
}
