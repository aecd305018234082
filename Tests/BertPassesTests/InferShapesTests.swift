import XCTest
@testable import BertGraph
@testable import BertPasses

/// `InferShapes`: every node's output types recomputed from its inputs by the shape rules.
final class InferShapesTests: XCTestCase {
    /// A weight edited to 6 rows: the matmul and everything after it follow.
    func testAnEditedParameterPropagates() throws {
        var before = try GraphParser.parse(ir(declarations, """
              %y: f32[batch, 4] = matmul[transpose_a=false, transpose_b=true](x, w)
              %z: f32[batch, 4] = gelu[approximation=erf](%y)
              output z = %z
            """))
        before.values[try XCTUnwrap(before.value(named: "w"))].type = .f32(.fixed(6), .fixed(8))
        let after = try InferShapes().run(before)
        assertStructurallyEqual(after, try GraphParser.parse(ir("""
              input x: f32[batch, 8]
              param w: f32[6, 8]
              %y: f32[batch, 6] = matmul[transpose_a=false, transpose_b=true](x, w)
              %z: f32[batch, 6] = gelu[approximation=erf](%y)
              output z = %z
            """)))
    }

    /// Types that already follow the rules stay as they are.
    func testAConsistentGraphIsLeftAsIs() throws {
        try assertPassLeavesAsIs(InferShapes(), ir(declarations, """
              %y: f32[batch, 4] = matmul[transpose_a=false, transpose_b=true](x, w)
              %r: f32[batch, 2, 2] = reshape[shape=[batch, 2, 2]](%y)
              output r = %r
            """))
        let g = try everyOpGraph()
        XCTAssertEqual(try InferShapes().run(g), g)
    }

    func testRestoresEveryTypeOfEveryOp() throws {
        let expected = try everyOpGraph()
        var scrambled = expected
        for v in scrambled.values.indices where scrambled.values[v].role == .intermediate {
            scrambled.values[v].type = .f32(.fixed(1))
        }
        XCTAssertEqual(try InferShapes().run(scrambled), expected)
    }

    func testRuleErrorNamesNodeOpAndShapes() throws {
        var g = try everyOpGraph()
        g.values[g.value(named: "dense.weight")!].type = .f32(.fixed(8), .fixed(7))
        XCTAssertThrowsError(try InferShapes().run(g)) { e in
            XCTAssertEqual(e as? GraphError, .shapeMismatch(node: "dense", op: "matmul",
                                                          detail: "inner dims differ: [batch, seq, 8] x [8, 7]^T"))
        }
    }

    func testReadingAValueBeforeItIsDefinedIsAnError() throws {
        var g = try GraphParser.parse(ir("  input x: f32[2]", "  %a = tanh(x)", "  %b = tanh(%a)", "  output b = %b"))
        g.nodes.swapAt(0, 1)
        XCTAssertThrowsError(try InferShapes().run(g)) { e in
            XCTAssertEqual(e as? GraphError, .malformed("InferShapes: node b (tanh) reads value 1 before it is defined"))
        }
    }

    func testRandomGraphsAreTheirOwnInferredShapes() throws {
        for seed in 0..<100 as Range<UInt64> {
            let (g, _) = try randomGraph(seed: seed)
            XCTAssertEqual(try InferShapes().run(g), g, "seed \(seed)")
        }
    }

    // MARK: - Fixtures

    private let declarations = """
          input x: f32[batch, 8]
          param w: f32[4, 8]
        """
}
