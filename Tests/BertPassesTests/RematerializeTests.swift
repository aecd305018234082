import XCTest
@testable import BertGraph
@testable import BertPasses

/// `Rematerialize`: a dropout or GELU output read late is recomputed just before its late
/// reader when that does not make its input live longer.
final class RematerializeTests: XCTestCase {
    private let inputs = """
          input x: f32[batch, 4]
          input y: f32[batch, 4]
        """

    /// `%d` is read at once and again late; its input `%a` is alive until after that late
    /// read anyway, so the late reader gets a fresh copy.
    func testALateReaderGetsARecomputedCopy() throws {
        try assertPass(Rematerialize(), before: ir(inputs, """
              %a = tanh(x)
              %d = dropout[rate=0.1, stream=1](%a)
              %u = mul(%d, y)
              %v = mul(%u, %d)
              %w = add(%v, %a)
              output w = %w
            """), expected: ir(inputs, """
              %a = tanh(x)
              %d = dropout[rate=0.1, stream=1](%a)
              %u = mul(%d, y)
              %d.recomputed = dropout[rate=0.1, stream=1](%a)
              %v = mul(%u, %d.recomputed)
              %w = add(%v, %a)
              output w = %w
            """))
    }

    /// Two late readers of a GELU output: one copy each, with names made unique.
    func testEachLateReaderGetsItsOwnCopy() throws {
        try assertPass(Rematerialize(), before: ir(inputs, """
              %g = gelu[approximation=erf](x)
              %u = mul(%g, y)
              %v = mul(%u, %g)
              %t = mul(%v, %g)
              %w = add(%t, x)
              output w = %w
            """), expected: ir(inputs, """
              %g = gelu[approximation=erf](x)
              %u = mul(%g, y)
              %g.recomputed = gelu[approximation=erf](x)
              %v = mul(%u, %g.recomputed)
              %g.recomputed_1 = gelu[approximation=erf](x)
              %t = mul(%v, %g.recomputed_1)
              %w = add(%t, x)
              output w = %w
            """))
    }

    /// The input's last read comes before the late reader: a copy would keep it alive longer.
    func testNoCopyWhenItWouldExtendTheInputsLife() throws {
        try assertPassLeavesAsIs(Rematerialize(), ir(inputs, """
              %a = tanh(x)
              %d = dropout[rate=0.1, stream=1](%a)
              %u = mul(%d, %a)
              %v = mul(%u, %d)
              output v = %v
            """))
    }

    /// A graph output must stay one value; other ops are not cheap or not deterministic.
    func testNoCopyOfAGraphOutputOrOfAnotherOp() throws {
        try assertPassLeavesAsIs(Rematerialize(), ir(inputs, """
              %g = gelu[approximation=erf](x)
              %u = mul(%g, y)
              %v = mul(%u, %g)
              %w = add(%v, x)
              output w = %w
              output g = %g
            """))
        try assertPassLeavesAsIs(Rematerialize(), ir(inputs, """
              %g = tanh(x)
              %u = mul(%g, y)
              %v = mul(%u, %g)
              %w = add(%v, x)
              output w = %w
            """))
    }
}
