import XCTest
@testable import BertGraph
@testable import BertPasses

final class PlanMemoryTests: XCTestCase {
    /// Before/expected as text: the graph, and the plan's printed report (`bertc compile
    /// --print-plan`). gelu and tanh write over their dying inputs, the matmul cannot (it
    /// reads its input while writing), the scale writes over the product, and the reshape is
    /// a view of the scaled value.
    func testPlanOfAChainAsText() throws {
        let g = try GraphParser.parse(ir("""
              input x: f32[4, 16]
              param w: f32[16, 16]
              %a = gelu[approximation=erf](x)
              %b = tanh(%a)
              %c = matmul[transpose_a=false, transpose_b=true](%b, w)
              %d = scale[factor=2.0](%c)
              %e = reshape[shape=[64]](%d)
              output e = %e
            """))
        let plan = try PlanMemory().run(g, bindings: [:])
        try plan.verify(graph: g)
        XCTAssertEqual(plan.report(graph: g), """
            arena 512 bytes (naive 1536, 33.3%)
                  offset      bytes  steps     value
                       0        256  0...0     x
                       0        256  0...1     a  (in place of x)
                       0        256  1...2     b  (in place of a)
                     256        256  2...3     c
                     256        256  3...4     d  (in place of c)
                     256        256  4...5     e  (view of d)

            """)
    }

    /// x -> gelu -> tanh -> matmul -> scale: the first two write in place, the matmul cannot.
    func testChainReusesSlotsInPlace() throws {
        var g = Graph(name: "chain")
        let x = g.addInput("x", .f32(.fixed(4), .fixed(16)))          // 256 bytes
        let w = g.addParameter("w", .f32(.fixed(16), .fixed(16)))
        let a = try g.apply1(.gelu(.erf), [x], name: "a")
        let b = try g.apply1(.tanh, [a], name: "b")
        let c = try g.apply1(.matmul(transposeA: false, transposeB: true), [b, w], name: "c")
        let d = try g.apply1(.scale(2), [c], name: "d")
        g.addOutput("d", d)

        let plan = try PlanMemory().run(g, bindings: [:])
        try plan.verify(graph: g)
        XCTAssertEqual(plan.inPlace, [a: x, b: a, d: c])
        XCTAssertEqual(plan.offsets[x], plan.offsets[b])
        XCTAssertNotEqual(plan.offsets[b], plan.offsets[c], "matmul must not write over its input")
        XCTAssertNil(plan.offsets[w])
        XCTAssertEqual(plan.arenaBytes, 512)
        XCTAssertEqual(plan.naiveBytes, 5 * 256)

        let noAlias = try PlanMemory(inPlace: false).run(g, bindings: [:])
        try noAlias.verify(graph: g)
        XCTAssertEqual(noAlias.inPlace, [:])
        XCTAssertEqual(noAlias.arenaBytes, 512, "ping-pong between two slots")
    }

    /// A reshape shares its input's bytes; nothing writes in place over a view while the
    /// value it shows (or another view of it) is still read.
    func testReshapeIsAViewAndBlocksInPlaceWhileItsInputLives() throws {
        var g = Graph(name: "views")
        let x = g.addInput("x", .f32(.fixed(4), .fixed(16)))
        let a = try g.apply1(.tanh, [x], name: "a")
        let r = try g.apply1(.reshape(Shape([.fixed(64)])), [a], name: "r")
        let s = try g.apply1(.reshape(Shape([.fixed(2), .fixed(32)])), [r], name: "s")
        let b = try g.apply1(.gelu(.erf), [r], name: "b")      // r dies here, a and s do not
        let c = try g.apply1(.scale(2), [s], name: "c")        // the last reader of the buffer
        let d = try g.apply1(.add, [b, try g.apply1(.reshape(Shape([.fixed(64)])), [c], name: "c64")], name: "d")
        g.addOutput("d", d)
        g.addOutput("a", a)                                    // a lives to the end

        let plan = try PlanMemory().run(g, bindings: [:])
        try plan.verify(graph: g)
        XCTAssertEqual(plan.views[r], a)
        XCTAssertEqual(plan.views[s], r)
        XCTAssertEqual(plan.offsets[r], plan.offsets[a])
        XCTAssertEqual(plan.offsets[s], plan.offsets[a])
        XCTAssertNil(plan.inPlace[b], "a is still live: gelu must not write over its view")
        XCTAssertNil(plan.inPlace[c], "a is still live: scale must not write over its view")
        XCTAssertNotEqual(plan.offsets[b], plan.offsets[a])

        var broken = plan
        broken.views[r] = nil
        XCTAssertThrowsError(try broken.verify(graph: g)) { e in
            guard case .overlap? = e as? MemoryPlanError else { return XCTFail("\(e)") }
        }
        let copies = try PlanMemory(views: false).run(g, bindings: [:])
        try copies.verify(graph: g)
        XCTAssertEqual(copies.views, [:])
        XCTAssertNotEqual(copies.offsets[r], copies.offsets[a])
    }

    func testNoInPlaceWhenInputLivesOnOrIsReadTwice() throws {
        var g = Graph(name: "t")
        let x = g.addInput("x", .f32(.fixed(16)))
        let a = try g.apply1(.tanh, [x], name: "a")
        let b = try g.apply1(.mul, [a, a], name: "b")      // a read twice by one node
        let c = try g.apply1(.gelu(.tanh), [b], name: "c")  // b still read by d
        let d = try g.apply1(.add, [c, b], name: "d")
        g.addOutput("d", d)
        g.addOutput("x", x)                                 // x lives to the end
        let plan = try PlanMemory().run(g, bindings: [:])
        try plan.verify(graph: g)
        XCTAssertEqual(plan.inPlace, [d: c])
    }

    func testSizesRoundUpToAlignment() throws {
        var g = Graph(name: "t")
        let x = g.addInput("x", .f32(.batch, .fixed(3)))   // 12 bytes per row
        let y = try g.apply1(.matmul(transposeA: false, transposeB: true), [x, g.addParameter("w", .f32(.fixed(5), .fixed(3)))], name: "y")
        g.addOutput("y", y)
        let plan = try PlanMemory().run(g, bindings: ["batch": 3])
        try plan.verify(graph: g)
        XCTAssertEqual(plan.sizes[x], 36)
        XCTAssertEqual(plan.naiveBytes, 64 + 64)
        XCTAssertEqual(plan.arenaBytes, 128)
        XCTAssertThrowsError(try PlanMemory().run(g, bindings: [:])) { e in
            XCTAssertTrue("\(e)".contains("value x"), "\(e)")
        }
    }

    func testEveryOpGraphPlanVerifies() throws {
        let g = try everyOpGraph()
        let bindings = ["batch": 2, "seq": 5]
        let plan = try PlanMemory().run(g, bindings: bindings)
        try plan.verify(graph: g)
        XCTAssertLessThan(plan.arenaBytes, plan.naiveBytes)
        XCTAssertEqual(plan.naiveBytes, try MemoryPlan.naive(g, bindings: bindings).naiveBytes)
        try MemoryPlan.naive(g, bindings: bindings).verify(graph: g)
    }

    func testVerifyCatchesOverlap() throws {
        let g = try everyOpGraph()
        var plan = try PlanMemory().run(g, bindings: ["batch": 2, "seq": 5])
        let h = g.value(named: "dense")!, ln = g.value(named: "ln")!   // ln reads h: both live at its step
        plan.offsets[ln] = plan.offsets[h]
        plan.inPlace[ln] = nil
        XCTAssertThrowsError(try plan.verify(graph: g)) { e in
            guard case .overlap? = e as? MemoryPlanError else { return XCTFail("\(e)") }
        }
        plan = try PlanMemory().run(g, bindings: ["batch": 2, "seq": 5])
        plan.offsets[h] = 3
        XCTAssertThrowsError(try plan.verify(graph: g))
    }

    /// The planner's property, on random graphs: every value placed, nothing live at the same
    /// time shares bytes (checked here with liveness computed independently of `Liveness`),
    /// and the arena is never larger than the naive one.
    func testRandomGraphsNeverOverlap() throws {
        var saved = 0, naive = 0
        for seed in 0..<300 as Range<UInt64> {
            let (g, bindings) = try randomGraph(seed: seed)
            for planner in [PlanMemory(), PlanMemory(inPlace: false)] {
                let plan = try planner.run(g, bindings: bindings)
                try plan.verify(graph: g)
                XCTAssertLessThanOrEqual(plan.arenaBytes, plan.naiveBytes, "seed \(seed)")
                try checkNoOverlap(g, plan, seed: seed)
                saved += plan.naiveBytes - plan.arenaBytes
                naive += plan.naiveBytes
            }
        }
        XCTAssertGreaterThan(saved, naive / 4, "reuse should save a good part of the naive arena")
    }

    private func checkNoOverlap(_ g: Graph, _ plan: MemoryPlan, seed: UInt64) throws {
        var first = [Int](repeating: -1, count: g.values.count)
        var last = [Int](repeating: -1, count: g.values.count)
        for v in g.inputs { first[v] = 0; last[v] = 0 }
        for (i, n) in g.nodes.enumerated() {
            for v in n.inputs { last[v] = i }
            for o in n.outputs { first[o] = i; last[o] = i }
        }
        for o in g.outputs { last[o.value] = g.nodes.count }
        let arena = g.values.indices.filter { g.values[$0].role != .parameter }
        for v in arena {
            let off = try XCTUnwrap(plan.offsets[v], "seed \(seed): \(g.values[v].name) has no offset")
            XCTAssertEqual(off % MemoryPlan.alignment, 0)
            XCTAssertLessThanOrEqual(off + plan.sizes[v], plan.arenaBytes)
        }
        // Views (reshapes of arena values) are one buffer with their input: same bytes.
        var root = Array(g.values.indices)
        for n in g.nodes where n.op.isView && g.values[n.inputs[0]].role != .parameter {
            root[n.outputs[0]] = root[n.inputs[0]]
        }
        for a in arena {
            for b in arena where a < b && first[a] <= last[b] && first[b] <= last[a] {
                let (oa, ob) = (plan.offsets[a]!, plan.offsets[b]!)
                let disjoint = oa + plan.sizes[a] <= ob || ob + plan.sizes[b] <= oa
                let aliased = (plan.inPlace[b] == a && last[a] == first[b]) || (plan.inPlace[a] == b && last[b] == first[a])
                    || (root[a] == root[b] && oa == ob)
                XCTAssertTrue(disjoint || aliased, "seed \(seed): \(g.values[a].name) and \(g.values[b].name) overlap")
            }
        }
    }

    /// Value ids need not follow node order (a pass may append values for nodes it inserts).
    func testValueIdsInAnyOrder() throws {
        for seed in 0..<50 as Range<UInt64> {
            let (g, bindings) = try randomGraph(seed: seed)
            let reversed = reversingValueIDs(g)
            try GraphVerifier.verify(reversed)
            let plan = try PlanMemory().run(reversed, bindings: bindings)
            try plan.verify(graph: reversed)
            try checkNoOverlap(reversed, plan, seed: seed)
            let original = try PlanMemory().run(g, bindings: bindings)
            XCTAssertEqual(plan.arenaBytes, original.arenaBytes, "seed \(seed)")
            XCTAssertEqual(plan.offsets, original.offsets.reversed(), "ids do not change the placement (seed \(seed))")
        }
    }
}

/// `g` with value ids renumbered last to first (same values, nodes and order of nodes).
func reversingValueIDs(_ g: Graph) -> Graph {
    let n = g.values.count
    func id(_ v: ValueID) -> ValueID { n - 1 - v }
    var r = Graph(name: g.name)
    r.values = g.values.reversed()
    r.inputs = g.inputs.map(id)
    r.parameters = g.parameters.map(id)
    r.nodes = g.nodes.map { Node(op: $0.op, inputs: $0.inputs.map(id), outputs: $0.outputs.map(id)) }
    r.outputs = g.outputs.map { GraphOutput(name: $0.name, value: id($0.value)) }
    return r
}
