import XCTest
@testable import BertGraph

/// The shape rules (Op+Shapes.swift), one row per op kind: an input the rule accepts with the
/// output types it gives, and an input it rejects with the error it throws. Types are written
/// as the graph text prints them.
final class ShapeRuleTests: XCTestCase {
    /// What a rule throws for node `n`.
    enum Rejection {
        case shape(String)
        case arity(expected: Int, got: Int)

        func error(_ op: Op) -> GraphError {
            switch self {
            case .shape(let detail): return .shapeMismatch(node: "n", op: op.name, detail: detail)
            case .arity(let expected, let got): return .arity(node: "n", op: op.name, expected: expected, got: got)
            }
        }
    }

    struct Rule {
        var op: Op
        var valid: [String]
        var outputs: [String]
        var rejected: [String]
        /// The op given the rejected input, when it is not `op` (a bad attribute).
        var rejectedOp: Op?
        var error: Rejection

        init(_ op: Op, _ valid: [String], _ outputs: [String], rejects rejected: [String], as error: Rejection,
             withOp rejectedOp: Op? = nil) {
            (self.op, self.valid, self.outputs, self.rejected, self.rejectedOp, self.error) =
                (op, valid, outputs, rejected, rejectedOp, error)
        }
    }

    static let rules: [Rule] = [
        Rule(.gather, ["f32[10, 8]", "i32[batch, seq]"], ["f32[batch, seq, 8]"],
             rejects: ["f32[10]", "i32[batch, seq]"], as: .shape("table must be [rows, h], got [10]")),
        Rule(.gatherGrad(rows: 10), ["f32[batch, seq, 8]", "i32[batch, seq]"], ["f32[10, 8]"],
             rejects: ["f32[batch, 8]", "i32[batch, seq]"], as: .shape("dy [batch, 8] must be ids [batch, seq] plus a last dim")),
        Rule(.positions, ["i32[batch, seq]"], ["i32[seq]"],
             rejects: ["f32[batch, seq]"], as: .shape("input 0 must be an integer tensor, got f32[batch, seq]")),
        Rule(.select(axis: 1, index: 2), ["f32[batch, seq, 8]"], ["f32[batch, 8]"],
             rejects: ["f32[batch, 2, 8]"], as: .shape("index 2 out of range for dim 1 of [batch, 2, 8]")),
        Rule(.selectGrad(axis: 1, index: 0, size: .seq), ["f32[batch, 8]"], ["f32[batch, seq, 8]"],
             rejects: ["f32[batch, 8]"], as: .shape("axis 3 out of range for [batch, 8]"),
             withOp: .selectGrad(axis: 3, index: 0, size: .seq)),
        Rule(.gatherRows, ["f32[batch, seq, 8]", "i32[tokens]"], ["f32[tokens, 8]"],
             rejects: ["f32[8]", "i32[tokens]"], as: .shape("expects x [..., h] and rows int[n], got [8] and [tokens]")),
        Rule(.scatterRows(leading: [.batch, .seq]), ["f32[tokens, 8]", "i32[tokens]"], ["f32[batch, seq, 8]"],
             rejects: ["f32[tokens, 8]", "i32[batch]"],
             as: .shape("expects y [n, h], rows int[n] and at least one leading dim, got [tokens, 8], [batch] and [batch, seq]")),
        Rule(.add, ["f32[batch, seq, 8]", "f32[8]"], ["f32[batch, seq, 8]"],
             rejects: ["f32[batch, seq, 8]", "f32[seq]"], as: .shape("[seq] does not broadcast to [batch, seq, 8]")),
        Rule(.mul, ["f32[batch, seq, 8]", "f32[seq, 8]"], ["f32[batch, seq, 8]"],
             rejects: ["f32[8]", "f32[batch, 8]"], as: .shape("[batch, 8] does not broadcast to [8]")),
        Rule(.scale(0.5), ["f32[batch, 8]"], ["f32[batch, 8]"],
             rejects: ["f32[8]", "f32[8]"], as: .arity(expected: 1, got: 2)),
        Rule(.gelu(.erf), ["f32[batch, 8]"], ["f32[batch, 8]"],
             rejects: ["i32[batch, 8]"], as: .shape("input 0 must be f32, got i32[batch, 8]")),
        Rule(.geluGrad(.tanh), ["f32[batch, 8]", "f32[batch, 8]"], ["f32[batch, 8]"],
             rejects: ["f32[batch, 8]", "f32[8]"], as: .shape("inputs 0 and 1 must have one shape, got [batch, 8] and [8]")),
        Rule(.tanh, ["f32[2, 3]"], ["f32[2, 3]"], rejects: [], as: .arity(expected: 1, got: 0)),
        Rule(.tanhGrad, ["f32[2, 3]", "f32[2, 3]"], ["f32[2, 3]"],
             rejects: ["f32[2, 3]", "i32[2, 3]"], as: .shape("input 1 must be f32, got i32[2, 3]")),
        Rule(.relu, ["f32[batch, seq, 8]"], ["f32[batch, seq, 8]"],
             rejects: ["i32[batch, seq]"], as: .shape("input 0 must be f32, got i32[batch, seq]")),
        Rule(.reluGrad, ["f32[batch, 8]", "f32[batch, 8]"], ["f32[batch, 8]"],
             rejects: ["f32[batch, 8]"], as: .arity(expected: 2, got: 1)),
        Rule(.dropout(rate: 0.1, stream: 0), ["f32[tokens, 8]", "i32[tokens]"], ["f32[tokens, 8]"],
             rejects: ["f32[batch, seq, 8]", "i32[tokens]"],
             as: .shape("packed rows need x [n, h] and rows int[n], got [batch, seq, 8] and [tokens]")),
        Rule(.dropoutGrad(rate: 0.1, stream: 0), ["f32[batch, 8]"], ["f32[batch, 8]"],
             rejects: ["f32[batch, 8]"], as: .shape("rate 1.0 is not in [0, 1)"), withOp: .dropoutGrad(rate: 1, stream: 0)),
        Rule(.matmul(transposeA: false, transposeB: true), ["f32[batch, seq, 8]", "f32[4, 8]"], ["f32[batch, seq, 4]"],
             rejects: ["f32[batch, seq, 8]", "f32[8, 4]"], as: .shape("inner dims differ: [batch, seq, 8] x [8, 4]^T")),
        Rule(.batchMatmul(transposeA: false, transposeB: true), ["f32[batch, 2, seq, 4]", "f32[batch, 2, seq, 4]"],
             ["f32[batch, 2, seq, seq]"], rejects: ["f32[batch, 2, seq, 4]", "f32[batch, 3, seq, 4]"],
             as: .shape("batch dims differ: [batch, 2, seq, 4] and [batch, 3, seq, 4]")),
        Rule(.sumLeading(keepRank: 1), ["f32[batch, seq, 8]"], ["f32[8]"],
             rejects: ["f32[batch, seq, 8]"], as: .shape("keep_rank 4 out of range for [batch, seq, 8]"),
             withOp: .sumLeading(keepRank: 4)),
        Rule(.layerNorm(epsilon: 1e-12), ["f32[batch, seq, 8]", "f32[8]", "f32[8]"], ["f32[batch, seq, 8]"],
             rejects: ["f32[batch, seq, 8]", "f32[8]", "f32[4]"],
             as: .shape("gamma [8] and beta [4] must be [8] for x [batch, seq, 8]")),
        Rule(.layerNormGrad(epsilon: 1e-12), ["f32[batch, 8]", "f32[batch, 8]", "f32[8]"], ["f32[batch, 8]", "f32[8]", "f32[8]"],
             rejects: ["f32[batch, 8]", "f32[batch, 8]", "f32[4]"], as: .shape("gamma [4] does not fit x [batch, 8]")),
        Rule(.maskedSoftmax, ["f32[batch, 2, seq, seq]", "i32[batch, seq]"], ["f32[batch, 2, seq, seq]"],
             rejects: ["f32[batch, seq, seq]", "i32[batch, seq]"],
             as: .shape("scores must be [b, heads, q, k] and mask [b, k], got [batch, seq, seq] and [batch, seq]")),
        Rule(.softmaxGrad, ["f32[2, 5]", "f32[2, 5]"], ["f32[2, 5]"],
             rejects: ["f32[2, 5]", "f32[5, 2]"], as: .shape("inputs 0 and 1 must have one shape, got [2, 5] and [5, 2]")),
        Rule(.reshape([.batch, .seq, .fixed(2), .fixed(4)]), ["f32[batch, seq, 8]"], ["f32[batch, seq, 2, 4]"],
             rejects: ["f32[batch, seq, 6]"], as: .shape("cannot reshape [batch, seq, 6] to [batch, seq, 2, 4]")),
        Rule(.transpose([0, 2, 1, 3]), ["f32[batch, seq, 2, 4]"], ["f32[batch, 2, seq, 4]"],
             rejects: ["f32[batch, seq, 8]"], as: .shape("perm [0, 2, 1, 3] is not a permutation of 3 dims")),
        Rule(.softmaxCrossEntropy, ["f32[batch, 3]", "i32[batch]"], ["f32[]"],
             rejects: ["f32[batch, 3]", "i32[3]"], as: .shape("logits must be [b, c] and labels [b], got [batch, 3] and [3]")),
        Rule(.softmaxCrossEntropyGrad, ["f32[]", "f32[batch, 3]", "i32[batch]"], ["f32[batch, 3]"],
             rejects: ["f32[1]", "f32[batch, 3]", "i32[batch]"],
             as: .shape("expects dloss [], logits [b, c], labels [b], got [1], [batch, 3], [batch]")),
        Rule(.meanSquaredError, ["f32[batch, 1]", "f32[batch]"], ["f32[]"],
             rejects: ["f32[batch, 2]", "f32[batch]"],
             as: .shape("predictions must be [b, 1] and targets [b], got [batch, 2] and [batch]")),
        Rule(.meanSquaredErrorGrad, ["f32[]", "f32[batch, 1]", "f32[batch]"], ["f32[batch, 1]"],
             rejects: ["f32[]", "f32[batch, 1]", "i32[batch]"], as: .shape("input 2 must be f32, got i32[batch]")),
        Rule(.maskedSoftmaxCrossEntropy, ["f32[batch, seq]", "i32[batch, seq]", "i32[batch]"], ["f32[]"],
             rejects: ["f32[batch, seq]", "i32[batch, 4]", "i32[batch]"],
             as: .shape("logits must be [b, s], mask [b, s] and positions [b], got [batch, seq], [batch, 4] and [batch]")),
        Rule(.maskedSoftmaxCrossEntropyGrad, ["f32[]", "f32[batch, seq]", "i32[batch, seq]", "i32[batch]"], ["f32[batch, seq]"],
             rejects: ["f32[2]", "f32[batch, seq]", "i32[batch, seq]", "i32[batch]"], as: .shape("dloss must be [], got [2]")),
        Rule(.fill(value: 1, shape: [.batch, .fixed(2)]), [], ["f32[batch, 2]"],
             rejects: ["f32[2]"], as: .arity(expected: 0, got: 1)),
        Rule(.linear(activation: .gelu(.tanh)), ["f32[batch, seq, 8]", "f32[4, 8]", "f32[4]"], ["f32[batch, seq, 4]"],
             rejects: ["f32[batch, seq, 8]", "f32[4, 8]", "f32[8]"],
             as: .shape("expects x [..., in], w [out, in], b [out], got [batch, seq, 8], [4, 8], [8]")),
        Rule(.addLayerNorm(epsilon: 1e-12), ["f32[batch, 8]", "f32[batch, 8]", "f32[8]", "f32[8]"], ["f32[batch, 8]"],
             rejects: ["f32[batch, 8]", "f32[8]", "f32[8]", "f32[8]"],
             as: .shape("inputs 0 and 1 must have one shape, got [batch, 8] and [8]")),
        Rule(.scaledMaskedSoftmax(factor: 0.5), ["f32[batch, 2, seq, seq]", "i32[batch, seq]"], ["f32[batch, 2, seq, seq]"],
             rejects: ["f32[batch, 2, seq, seq]", "f32[batch, seq]"],
             as: .shape("input 1 must be an integer tensor, got f32[batch, seq]")),
        Rule(.scaledSoftmaxGrad(factor: 0.5), ["f32[2, 5]", "f32[2, 5]"], ["f32[2, 5]"],
             rejects: ["f32[2, 5]"], as: .arity(expected: 2, got: 1)),
        Rule(.geluGradSum(.erf), ["f32[batch, 8]", "f32[batch, 8]"], ["f32[batch, 8]", "f32[8]"],
             rejects: ["f32[]", "f32[]"], as: .shape("dy must have a last dim, got []")),
        Rule(.attention(heads: 2, factor: 0.5), ["f32[batch, 8]", "f32[batch, seq, 8]", "f32[batch, seq, 8]", "i32[batch, seq]"],
             ["f32[batch, 8]"], rejects: ["f32[batch, seq, 8]", "f32[batch, seq, 8]", "f32[batch, seq, 8]", "i32[batch, seq]"],
             as: .shape("k must be [b, sk, h] with h a multiple of 3 heads, got [batch, seq, 8]"),
             withOp: .attention(heads: 3, factor: 0.5)),
    ]

    /// Every op kind has a row, so a new op fails here until its rule is tested.
    func testEveryOpKindHasARule() {
        let covered = Self.rules.map(\.op.kind)
        XCTAssertEqual(covered.count, Set(covered).count, "one row per kind")
        XCTAssertEqual(Set(covered), Set(Op.Kind.allCases), "kinds without a row")
    }

    func testRules() throws {
        for rule in Self.rules {
            let name = rule.op.name
            let got = try rule.op.outputTypes(rule.valid.map(TensorType.init(parsing:)), node: "n")
            XCTAssertEqual(got.map(\.description), rule.outputs, name)
            let rejectedOp = rule.rejectedOp ?? rule.op
            XCTAssertEqual(rejectedOp.kind, rule.op.kind, name)
            XCTAssertThrowsError(try rejectedOp.outputTypes(rule.rejected.map(TensorType.init(parsing:)), node: "n"), name) {
                XCTAssertEqual($0 as? GraphError, rule.error.error(rejectedOp), name)
            }
        }
    }

    func testMatmulShapes() throws {
        var g = Graph(name: "t")
        let x = g.addInput("x", .f32(.batch, .seq, .fixed(8)))
        let w = g.addParameter("w", .f32(.fixed(4), .fixed(8)))
        let y = try g.apply1(.matmul(transposeA: false, transposeB: true), [x, w], name: "y")
        XCTAssertEqual(g.type(of: y), .f32(.batch, .seq, .fixed(4)))
        let dw = try g.apply1(.matmul(transposeA: true, transposeB: false), [y, x], name: "dw")
        XCTAssertEqual(g.type(of: dw), .f32(.fixed(4), .fixed(8)))
        XCTAssertThrowsError(try g.apply1(.matmul(transposeA: false, transposeB: false), [x, w], name: "bad")) { e in
            XCTAssertTrue("\(e)".contains("bad"), "\(e)")
        }
        try GraphVerifier.verify(g)
    }
}

extension ShapeRuleTests {
    /// The groups of `Op.Kind` that promise something about types agree with the rules:
    /// elementwise and in-place ops give one output of input 0's type, a view gives one
    /// output of input 0's element count.
    func testGroupsAgreeWithRules() throws {
        for rule in Self.rules {
            let kind = rule.op.kind
            let inputs = try rule.valid.map(TensorType.init(parsing:))
            let outputs = try rule.op.outputTypes(inputs, node: "n")
            if Op.Kind.elementwise.union(Op.Kind.inPlace).contains(kind) {
                XCTAssertEqual(outputs, [inputs[0]], rule.op.name)
            }
            if Op.Kind.views.contains(kind) {
                XCTAssertEqual(outputs.count, 1, rule.op.name)
                XCTAssertEqual(outputs.first?.elementCount(["batch": 2, "seq": 3]), inputs[0].elementCount(["batch": 2, "seq": 3]))
            }
        }
        let flopGroups: [Set<Op.Kind>] = [Op.Kind.movement, Op.Kind.reductions, Op.Kind.elementwise, Op.Kind.normalizations]
        let grouped = flopGroups.reduce(Set<Op.Kind>()) { $0.union($1) }
        XCTAssertEqual(flopGroups.map(\.count).reduce(0, +), grouped.count, "an op is in one FLOP group at most")
        XCTAssertTrue(Op.Kind.fused.isDisjoint(with: grouped))
    }
}
