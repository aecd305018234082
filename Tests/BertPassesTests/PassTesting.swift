import BertGraph
import BertPasses
import XCTest

// Pass tests in the style of TVM's: a graph before (IR text), the pass, and the graph
// expected after (IR text), compared structurally.

/// A graph's IR text from its lines: `graph g { ... }` around `parts` joined by newlines, so
/// a test can share declarations between its before and expected graphs.
func ir(_ parts: String...) -> String {
    "graph g {\n" + parts.joined(separator: "\n") + "\n}\n"
}

/// Checks that `a` and `b` are the same graph up to value numbering: their printed canonical
/// forms (names, types, ops with their attributes, operands, node order, outputs) agree.
/// Values that no node produces and no declaration names (what a rewrite leaves for
/// `EliminateDeadCode`) do not print, so they do not count.
func assertStructurallyEqual(_ a: Graph, _ b: Graph, file: StaticString = #filePath, line: UInt = #line) {
    let (got, want) = (GraphPrinter.render(a), GraphPrinter.render(b))
    guard got != want else { return }
    let gotLines = got.split(separator: "\n", omittingEmptySubsequences: false)
    let wantLines = want.split(separator: "\n", omittingEmptySubsequences: false)
    let k = zip(gotLines, wantLines).enumerated().first { $0.element.0 != $0.element.1 }?.offset
        ?? min(gotLines.count, wantLines.count)
    XCTFail("graphs differ at line \(k + 1):\n  got:      \(k < gotLines.count ? gotLines[k] : "(end)")\n"
            + "  expected: \(k < wantLines.count ? wantLines[k] : "(end)")\n--- got:\n\(got)--- expected:\n\(want)",
            file: file, line: line)
}

/// Runs `pass` on the graph `before` and checks the result: it verifies, and it is
/// structurally equal to `expected`.
func assertPass(_ pass: any GraphPass, before: String, expected: String,
                file: StaticString = #filePath, line: UInt = #line) throws {
    let after = try pass.run(GraphParser.parse(before))
    try GraphVerifier.verify(after, after: pass.name)
    assertStructurallyEqual(after, try GraphParser.parse(expected), file: file, line: line)
}

/// Checks that `pass` leaves the graph `text` as it is: a rewrite that must not fire.
func assertPassLeavesAsIs(_ pass: any GraphPass, _ text: String, file: StaticString = #filePath, line: UInt = #line) throws {
    try assertPass(pass, before: text, expected: text, file: file, line: line)
}

/// The suite verifies the graph after every pass of every pipeline (`Pipeline.verifiesEachPass`).
final class PassVerificationTests: XCTestCase {
    func testTheSuiteVerifiesAfterEveryPass() {
        XCTAssertTrue(Pipeline.verifiesEachPass, """
            the tests run with the graph verified after every pass: set BERTC_VERIFY_PASSES=1, as tools/test.sh does \
            (BERTC_VERIFY_PASSES=1 swift test -c release $(tools/swift-flags.sh))
            """)
    }

    func testAPipelineNamesThePassThatBreaksTheGraph() throws {
        struct Break: GraphPass {
            func run(_ graph: Graph) throws -> Graph {
                var g = graph
                g.values[g.nodes[0].outputs[0]].type = .f32(.fixed(7))
                return g
            }
        }
        let g = try GraphParser.parse(ir("  input x: f32[2]", "  %y = tanh(x)", "  output y = %y"))
        XCTAssertNoThrow(try Pipeline("unverified", [Break()]).run(g, verify: false))
        XCTAssertThrowsError(try Pipeline("broken", [InferShapes(), Break()]).run(g, verify: true)) { error in
            XCTAssertEqual(error as? GraphError, .shapeMismatch(node: "y", op: "tanh",
                                                               detail: "output has type f32[7], rule gives f32[2]"))
        }
    }
}
