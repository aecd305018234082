import Foundation
import XCTest
@testable import BertGraph
import BertPasses
import BertRuntime

final class GraphTextTests: XCTestCase {
    func testRoundTripCoversEveryOp() throws {
        let g = try everyOpGraph()
        XCTAssertEqual(Set(g.nodes.map(\.op.name)), Set(Op.Kind.allCases.map(\.rawValue)), "the fixture must apply every op")
        let text = GraphPrinter.render(g)
        let parsed = try GraphParser.parse(text)
        XCTAssertEqual(parsed, g)
        XCTAssertEqual(GraphPrinter.render(parsed), text)
        XCTAssertTrue(text.contains("%\"scaled value\": f32[batch, seq, 8] = scale[factor=0.33333334](%emb.prod)"), text)
        XCTAssertTrue(text.contains("= layer_norm_grad[epsilon=1e-12](%ddrop, %dense, LayerNorm.weight)"), text)
        XCTAssertTrue(text.contains("%dln:1: f32[8]"), text)
        XCTAssertTrue(text.contains("reshape[shape=[batch, seq, 2, 4]](%ln)"), text)
        XCTAssertTrue(text.contains("transpose[perm=[0, 2, 1, 3]](%q.heads)"), text)
        XCTAssertTrue(text.contains("output \"echo ids\" = input_ids"), text)
    }

    func testSpecialisedGraphRoundTrips() throws {
        let g = try everyOpGraph(batch: .fixed(2), seq: .fixed(5))
        XCTAssertEqual(try GraphParser.parse(GraphPrinter.render(g)), g)
    }

    func testFloatAttributesRoundTripBitForBit() throws {
        let floats: [Float] = [1e-12, 1e20, -0.0, .infinity, -.infinity, 0.1, 1 / 3, .leastNonzeroMagnitude,
                               .greatestFiniteMagnitude, -10000, 0.125, Float(1).nextUp]
        for f in floats {
            for op in [Op.scale(f), .layerNorm(epsilon: f), .dropout(rate: f, stream: 7), .fill(value: f, shape: [.batch, .fixed(1)])] {
                let back = try Op(name: op.name, attributes: op.attributes)
                XCTAssertEqual(back, op)
                XCTAssertEqual(back.attributes.map(\.1), op.attributes.map(\.1))
            }
            guard case .scale(let g) = try Op(name: "scale", attributes: Op.scale(f).attributes) else { return XCTFail() }
            XCTAssertEqual(g.bitPattern, f.bitPattern, "\(f)")
        }
    }

    func testQuotedNamesRoundTrip() throws {
        var g = Graph(name: "odd names")
        let x = g.addInput("x \"quoted\" \\ back", .f32(.fixed(2)))
        let y = try g.apply1(.tanh, [x], name: "ends with colon:")
        let z = try g.apply1(.tanh, [y], name: ":starts")
        g.addOutput("out #1", z)
        let text = GraphPrinter.render(g)
        XCTAssertEqual(try GraphParser.parse(text), g, text)
    }

    func testOutputTypesMayBeLeftOut() throws {
        let text = """
        graph hand {
          input x: f32[batch, 8]   # a comment
          param w: f32[4, 8]
          param b: f32[4]

          %y = matmul[transpose_a=false, transpose_b=true](x, w)
          %z, %z:1, %z:2 = layer_norm_grad[epsilon=0.001](%y, %y, b)
          output z = %z
        }
        """
        let g = try GraphParser.parse(text)
        XCTAssertEqual(g.values[g.value(named: "y")!].type, .f32(.batch, .fixed(4)))
        XCTAssertEqual(g.values[g.value(named: "z:1")!].type, .f32(.fixed(4)))

        // A hand edit that breaks a shape: the error names the line, node, op and shapes.
        let broken = text.replacingOccurrences(of: "(%y, %y, b)", with: "(%y, %y, w)")
        XCTAssertThrowsError(try GraphParser.parse(broken)) { e in
            XCTAssertEqual(e as? GraphError, .parse(line: 7, message: "shape error at node z (layer_norm_grad): gamma [4, 8] does not fit x [batch, 4]"))
        }
        // A value used before its declaration.
        let late = text.replacingOccurrences(of: "  param b: f32[4]\n", with: "")
            .replacingOccurrences(of: "  output z", with: "  param b: f32[4]\n  output z")
        XCTAssertThrowsError(try GraphParser.parse(late)) { e in
            XCTAssertEqual(e as? GraphError, .parse(line: 6, message: "value b is not declared on an earlier line"))
        }
    }

    /// Each broken text with the line and a phrase its error must contain.
    func testParseErrorsNameTheLine() throws {
        let header = "graph t {\n  input x: f32[batch, 8]\n  param w: f32[8, 8]\n"
        let cases: [(String, Int, String)] = [
            ("graf t {\n}\n", 1, "expected 'graph', found 'graf'"),
            (header + "  %y: f32[batch, 8] = frobnicate(x)\n}\n", 4, "unknown op 'frobnicate'"),
            (header + "  %y: f32[batch, 8] = tanh(x\n}\n", 4, "expected ')', found end of line"),
            (header + "  %y: f32[batch, 8] = tanh(%x)\n}\n", 4, "x is an input or parameter; write it without '%'"),
            (header + "  %y: f32[batch, 8] = tanh(q)\n}\n", 4, "value q is not declared on an earlier line"),
            (header + "  %y: f32[batch, 8] = tanh(x)\n  %y: f32[batch, 8] = tanh(x)\n}\n", 5, "value y is already declared on line 4"),
            (header + "  %y: f32[batch, 8] = scale[factr=2](x)\n}\n", 4, "op scale needs attribute 'factor'"),
            (header + "  %y: f32[batch, 8] = scale[factor=2, extra=1](x)\n}\n", 4, "op scale has no attribute 'extra'"),
            (header + "  %y: f32[batch, 8] = scale[factor=two](x)\n}\n", 4, "factor=two: expected a number"),
            (header + "  %y: g32[batch, 8] = tanh(x)\n}\n", 4, "unknown element type 'g32'"),
            (header + "  %y: f32[batch, 9] = tanh(x)\n}\n", 4, "shape error at node y (tanh): y is declared f32[batch, 9], the rule gives f32[batch, 8]"),
            (header + "  %y: f32[batch, 8] = matmul[transpose_a=false, transpose_b=false](x, x)\n}\n", 4, "shape error at node y (matmul): inner dims differ: [batch, 8] x [batch, 8]"),
            (header + "  %y = tanh(x, w)\n}\n", 4, "node y (tanh) takes 1 inputs, got 2"),
            (header + "  output y = %nope\n}\n", 4, "value %nope is not declared"),
            (header + "  %y = tanh(x)\n", 5, "expected '}' closing the graph"),
            (header + "}\n  input z: f32[1]\n", 5, "expected nothing after the graph's closing '}'"),
            (header + "  %y = tanh(x) junk\n}\n", 4, "expected end of line, found 'junk'"),
            (header + "  %\"y = tanh(x)\n}\n", 4, "closing a quoted name"),
            (header + "  input z: f32[batch, -1]\n}\n", 4, "dim -1 is negative"),
            (header + "  bogus\n}\n", 4, "expected 'input', 'param', 'output'"),
            // Attributes checked against the input shapes, sizes against the limits.
            (header + "  %y = select[axis=1, index=8](x)\n}\n", 4, "select): index 8 out of range for dim 1 of [batch, 8]"),
            (header + "  %y = select[axis=1, index=-1](x)\n}\n", 4, "index -1 out of range"),
            (header + "  %y = select[axis=2, index=0](x)\n}\n", 4, "axis 2 out of range for [batch, 8]"),
            (header + "  %y = transpose[perm=[0, 0]](x)\n}\n", 4, "perm [0, 0] is not a permutation of 2 dims"),
            (header + "  %y = reshape[shape=[batch, 9]](x)\n}\n", 4, "cannot reshape [batch, 8] to [batch, 9]"),
            (header + "  %y = reshape[shape=[batch, 4294967296, 4294967296]](x)\n}\n", 4, "overflow"),
            (header + "  %y = dropout[rate=1.5, stream=0](x)\n}\n", 4, "rate 1.5 is not in [0, 1)"),
            (header + "  input z: f32[batch, 0]\n}\n", 4, "dim 0 in [batch, 0] is not positive"),
            (header + "  param z: f32[65536, 65536]\n}\n", 4, "more than 2147483648 elements"),
            (header + "  param z: f32[9223372036854775807, 2]\n}\n", 4, "more than 2147483648 elements"),
            (header + "  param z: i32[8]\n}\n", 4, "parameters are f32 with fixed dims"),
            (header + "  param z: f32[batch]\n}\n", 4, "parameters are f32 with fixed dims"),
            ("graph t {\n  input q: f32[batch, 8]\n  input k: f32[batch, seq, 8]\n  input m: i32[batch, seq]\n"
                + "  %y = attention[heads=3, factor=1](q, k, k, m)\n}\n", 5, "h a multiple of 3 heads"),
            ("graph t {\n  input q: f32[batch, 8]\n  input k: f32[batch, seq, 8]\n  input m: i32[batch, seq]\n"
                + "  %y = attention[heads=0, factor=1](q, k, k, m)\n}\n", 5, "multiple of 0 heads"),
            ("graph t {\n  input t: f32[10, 8]\n  input i: f32[batch]\n  %y = gather(t, i)\n}\n", 4,
             "input 1 must be an integer tensor"),
        ]
        for (text, line, phrase) in cases {
            XCTAssertThrowsError(try GraphParser.parse(text), phrase) { e in
                guard case .parse(let l, let m)? = e as? GraphError else { return XCTFail("\(e)") }
                XCTAssertEqual(l, line, "\(phrase): \(m)")
                XCTAssertTrue(m.contains(phrase), "expected '\(phrase)' in: \(m)")
            }
        }
    }

    /// Structures the parser cannot produce but a graph in memory can: a cycle (a node reading
    /// a later node's output), a node writing a parameter, an output id out of range.
    func testVerifierRefusesBrokenStructure() throws {
        var g = Graph(name: "t")
        let x = g.addInput("x", .f32(.batch, .fixed(4)))
        let a = try g.apply1(.tanh, [x], name: "a")
        let b = try g.apply1(.tanh, [a], name: "b")
        XCTAssertNoThrow(try GraphVerifier.verify(g))
        var cycle = g
        cycle.nodes[0].inputs = [b]
        XCTAssertThrowsError(try GraphVerifier.verify(cycle)) { XCTAssertTrue("\($0)".contains("before it is defined"), "\($0)") }
        var role = g
        role.values[b].role = .parameter
        XCTAssertThrowsError(try GraphVerifier.verify(role)) { XCTAssertTrue("\($0)".contains("has role parameter"), "\($0)") }
        var outOfRange = g
        outOfRange.nodes[1].outputs = [99]
        XCTAssertThrowsError(try GraphVerifier.verify(outOfRange)) { XCTAssertTrue("\($0)".contains("redefines"), "\($0)") }
    }

    /// Graph text mutated the way a hostile author would (numbers replaced by 0, -1, huge or
    /// overflowing values, op names swapped, lines moved, dropped or repeated): parsing, then
    /// fusing, pruning, verifying and planning what parses, either succeeds or throws, and
    /// never traps. Every graph that passes is one the verifier accepts.
    func testMutatedGraphTextNeverTraps() throws {
        let texts = [GraphPrinter.render(try TinyBert.graph(TinyBertConfig())), GraphPrinter.render(try everyOpGraph())]
        let numbers = ["0", "-1", "1", "2", "3", "7", "2147483648", "4611686018427387904", "9223372036854775807",
                       "99999999999999999999"]
        let ops = Op.Kind.allCases.map(\.rawValue)
        var rng = SplitMix64(seed: 17)
        func pick(_ n: Int) -> Int { Int(rng.next() % UInt64(n)) }
        var parsed = 0
        // BERTC_GRAPH_MUTATIONS=N runs longer.
        let rounds = ProcessInfo.processInfo.environment["BERTC_GRAPH_MUTATIONS"].flatMap { Int($0) } ?? 3000
        for round in 0..<rounds {
            var lines = texts[round % texts.count].split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            for _ in 0...pick(3) {
                let i = pick(lines.count)
                switch pick(5) {
                case 0:  // a number
                    let digits = lines[i].indices.filter { lines[i][$0].isNumber }
                    guard let at = digits.isEmpty ? nil : digits[pick(digits.count)] else { continue }
                    var end = at
                    while end < lines[i].endIndex, lines[i][end].isNumber { end = lines[i].index(after: end) }
                    var start = at
                    while start > lines[i].startIndex, lines[i][lines[i].index(before: start)].isNumber {
                        start = lines[i].index(before: start)
                    }
                    lines[i].replaceSubrange(start..<end, with: numbers[pick(numbers.count)])
                case 1:  // an op
                    guard let eq = lines[i].range(of: " = "), let open = lines[i][eq.upperBound...].firstIndex(where: { $0 == "[" || $0 == "(" })
                    else { continue }
                    lines[i].replaceSubrange(eq.upperBound..<open, with: ops[pick(ops.count)])
                case 2: lines.swapAt(i, pick(lines.count))
                case 3: lines.remove(at: i)
                default: lines.insert(lines[i], at: pick(lines.count))
                }
                if lines.isEmpty { break }
            }
            guard let g = try? GraphParser.parse(lines.joined(separator: "\n")) else { continue }
            parsed += 1
            XCTAssertNoThrow(try GraphVerifier.verify(g), "round \(round)")
            guard let fused = try? EliminateDeadCode().run(FuseOps().run(g)) else { continue }
            XCTAssertNoThrow(try GraphVerifier.verify(fused, after: "FuseOps"), "round \(round)")
            _ = try? PlanMemory().run(fused, bindings: ["batch": 2, "seq": 3, "tokens": 5])
        }
        XCTAssertGreaterThan(parsed, 100, "too few mutations parse to exercise the passes")
    }

    func testRandomGraphsRoundTrip() throws {
        for seed in 0..<100 as Range<UInt64> {
            let (g, _) = try randomGraph(seed: seed)
            XCTAssertEqual(try GraphParser.parse(GraphPrinter.render(g)), g, "seed \(seed)")
        }
    }
}

/// The exact text of a small graph: the format's snapshot.
final class GraphTextSnapshotTests: XCTestCase {
    func testSnapshot() throws {
        var g = Graph(name: "snapshot")
        let x = g.addInput("x", .f32(.batch, .fixed(4)))
        let w = g.addParameter("dense.weight", .f32(.fixed(2), .fixed(4)))
        let y = try g.apply1(.matmul(transposeA: false, transposeB: true), [x, w], name: "dense")
        let z = try g.apply1(.scale(-0.5), [y], name: "z:scaled")
        let grads = try g.apply(.layerNormGrad(epsilon: 1e-5), [z, y, g.addParameter("ln.weight", .f32(.fixed(2)))], name: "dln")
        g.addOutput("out", z)
        g.addOutput("grad:ln.weight", grads[1])
        XCTAssertEqual(GraphPrinter.render(g), """
            graph snapshot {
              input x: f32[batch, 4]
              param dense.weight: f32[2, 4]
              %dense: f32[batch, 2] = matmul[transpose_a=false, transpose_b=true](x, dense.weight)
              %z:scaled: f32[batch, 2] = scale[factor=-0.5](%dense)
              param ln.weight: f32[2]
              %dln: f32[batch, 2], %dln:1: f32[2], %dln:2: f32[2] = layer_norm_grad[epsilon=1e-05](%z:scaled, %dense, ln.weight)
              output out = %z:scaled
              output grad:ln.weight = %dln:1
            }

            """)
    }
}
