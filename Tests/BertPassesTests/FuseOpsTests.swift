import XCTest
@testable import BertGraph
@testable import BertPasses

/// `FuseOps`: every fusion pattern, and the inputs on which each must not fire. A chain fuses
/// only when each value it skips has one reader and is not a graph output.
final class FuseOpsTests: XCTestCase {
    private let dense = """
          input x: f32[batch, 4]
          param w: f32[3, 4]
          param b: f32[3]
        """
    private let matmul = "  %h = matmul[transpose_a=false, transpose_b=true](x, w)"

    // MARK: - linear

    func testMatmulThenBiasIsLinear() throws {
        try assertPass(FuseOps(), before: ir(dense, matmul, "  %y = add(%h, b)", "  output y = %y"),
                       expected: ir(dense, "  %y = linear[activation=identity](x, w, b)", "  output y = %y"))
    }

    func testLinearThenGeluIsLinearWithGelu() throws {
        try assertPass(FuseOps(), before: ir(dense, matmul, "  %y = add(%h, b)", "  %a = gelu[approximation=tanh](%y)",
                                            "  output a = %a"),
                       expected: ir(dense, "  %a = linear[activation=gelu_tanh](x, w, b)", "  output a = %a"))
    }

    /// The pre-activation read again (as a GELU gradient does in training): linear stays
    /// without its GELU.
    func testGeluStaysOutWhenThePreActivationIsReadAgain() throws {
        try assertPass(FuseOps(), before: ir(dense, matmul, "  %y = add(%h, b)", "  %a = gelu[approximation=erf](%y)",
                                            "  output a = %a", "  output y = %y"),
                       expected: ir(dense, "  %y = linear[activation=identity](x, w, b)", "  %a = gelu[approximation=erf](%y)",
                                    "  output a = %a", "  output y = %y"))
    }

    func testNoLinearWhenTheProductHasAnotherReader() throws {
        try assertPassLeavesAsIs(FuseOps(), ir(dense, matmul, "  %y = add(%h, b)", "  %t = tanh(%h)",
                                              "  output y = %y", "  output t = %t"))
        try assertPassLeavesAsIs(FuseOps(), ir(dense, matmul, "  %y = add(%h, b)", "  output y = %y", "  output h = %h"))
    }

    func testNoLinearWithoutAParameterWeightOrAVectorBias() throws {
        // The weight is an input, not a parameter.
        try assertPassLeavesAsIs(FuseOps(), ir("  input x: f32[batch, 4]", "  input w: f32[3, 4]", "  param b: f32[3]",
                                              matmul, "  %y = add(%h, b)", "  output y = %y"))
        // The bias has a row per example.
        try assertPassLeavesAsIs(FuseOps(), ir("  input x: f32[batch, 4]", "  param w: f32[3, 4]", "  input b: f32[batch, 3]",
                                              matmul, "  %y = add(%h, b)", "  output y = %y"))
        // x W, not x W^T.
        try assertPassLeavesAsIs(FuseOps(), ir("  input x: f32[batch, 4]", "  param w: f32[4, 3]", "  param b: f32[3]",
                                              "  %h = matmul[transpose_a=false, transpose_b=false](x, w)",
                                              "  %y = add(%h, b)", "  output y = %y"))
    }

    // MARK: - add_layer_norm

    private let residual = """
          input x: f32[batch, 4]
          input r: f32[batch, 4]
          param gamma: f32[4]
          param beta: f32[4]
        """

    func testResidualAddThenLayerNormIsAddLayerNorm() throws {
        try assertPass(FuseOps(), before: ir(residual, "  %s = add(x, r)", "  %n = layer_norm[epsilon=1e-12](%s, gamma, beta)",
                                            "  output n = %n"),
                       expected: ir(residual, "  %n = add_layer_norm[epsilon=1e-12](x, r, gamma, beta)", "  output n = %n"))
    }

    func testNoAddLayerNormForABroadcastAddOrAReadSum() throws {
        try assertPassLeavesAsIs(FuseOps(), ir(residual, "  %s = add(x, gamma)",
                                              "  %n = layer_norm[epsilon=1e-12](%s, gamma, beta)", "  output n = %n"))
        try assertPassLeavesAsIs(FuseOps(), ir(residual, "  %s = add(x, r)", "  %n = layer_norm[epsilon=1e-12](%s, gamma, beta)",
                                              "  output n = %n", "  output s = %s"))
    }

    // MARK: - scaled softmax and its gradient

    /// Attention scores and their mask; a softmax's output and the gradient reaching it.
    private let scores = """
          input scores: f32[batch, 2, seq, seq]
          input mask: i32[batch, seq]
          input p: f32[batch, 2, seq, seq]
          input dy: f32[batch, 2, seq, seq]
        """

    /// scale then masked_softmax, and softmax_grad then scale (the attention scale's gradient).
    func testTheScaleFoldsIntoTheSoftmaxAndItsGradient() throws {
        try assertPass(FuseOps(), before: ir(scores, """
              %s = scale[factor=0.5](scores)
              %probs = masked_softmax(%s, mask)
              %d = softmax_grad(dy, p)
              %ds = scale[factor=0.5](%d)
              output probs = %probs
              output ds = %ds
            """), expected: ir(scores, """
              %probs = scaled_masked_softmax[factor=0.5](scores, mask)
              %ds = scaled_softmax_grad[factor=0.5](dy, p)
              output probs = %probs
              output ds = %ds
            """))
    }

    func testNoScaledSoftmaxWhenTheValueSkippedIsReadAgain() throws {
        try assertPassLeavesAsIs(FuseOps(), ir(scores, """
              %s = scale[factor=0.5](scores)
              %probs = masked_softmax(%s, mask)
              %d = softmax_grad(dy, p)
              %ds = scale[factor=0.5](%d)
              %t = tanh(%s)
              output probs = %probs
              output ds = %ds
              output t = %t
              output d = %d
            """))
    }

    // MARK: - gelu_grad_sum

    private let geluGradient = """
          input dy: f32[batch, seq, 4]
          input x: f32[batch, seq, 4]
        """

    /// The bias gradient summed from a GELU gradient that is also read on (by the weight's
    /// gradient): one node with both outputs, at the GELU gradient's place.
    func testGeluGradThenBiasSumIsGeluGradSum() throws {
        try assertPass(FuseOps(), before: ir(geluGradient, "  %dx = gelu_grad[approximation=erf](dy, x)",
                                            "  %t = tanh(%dx)", "  %db = sum_leading[keep_rank=1](%dx)",
                                            "  output t = %t", "  output db = %db"),
                       expected: ir(geluGradient, "  %dx, %db = gelu_grad_sum[approximation=erf](dy, x)",
                                    "  %t = tanh(%dx)", "  output t = %t", "  output db = %db"))
    }

    func testNoGeluGradSumForAnotherSum() throws {
        try assertPassLeavesAsIs(FuseOps(), ir(geluGradient, "  %dx = gelu_grad[approximation=erf](dy, x)",
                                              "  %db = sum_leading[keep_rank=2](%dx)", "  output db = %db"))
    }

    // MARK: - attention

    private let qkv = """
          input q: f32[batch, seq, 8]
          input k: f32[batch, seq, 8]
          input v: f32[batch, seq, 8]
          input mask: i32[batch, seq]
        """

    /// Heads of q, k and v, the scores, the scaled softmax, the context and the way back to
    /// [batch, seq, hidden] (`probs` is the step that varies between the tests).
    private func attention(probs: String, outputs: String = "") -> String {
        ir(qkv, """
              %q.r = reshape[shape=[batch, seq, 2, 4]](q)
              %q.t = transpose[perm=[0, 2, 1, 3]](%q.r)
              %k.r = reshape[shape=[batch, seq, 2, 4]](k)
              %k.t = transpose[perm=[0, 2, 1, 3]](%k.r)
              %v.r = reshape[shape=[batch, seq, 2, 4]](v)
              %v.t = transpose[perm=[0, 2, 1, 3]](%v.r)
              %scores = batch_matmul[transpose_a=false, transpose_b=true](%q.t, %k.t)
            """, probs, """
              %ctx = batch_matmul[transpose_a=false, transpose_b=false](%probs, %v.t)
              %ctx.t = transpose[perm=[0, 2, 1, 3]](%ctx)
              %out = reshape[shape=[batch, seq, 8]](%ctx.t)
              output out = %out
            """ + outputs)
    }

    func testTheWholeAttentionIsOneOp() throws {
        try assertPass(FuseOps(), before: attention(probs: "  %probs = scaled_masked_softmax[factor=0.5](%scores, mask)"),
                       expected: ir(qkv, "  %out = attention[heads=2, factor=0.5](q, k, v, mask)", "  output out = %out"))
    }

    /// A query of one row ([batch, hidden] to [batch, heads, 1, d] by a reshape alone).
    func testAttentionOfAOneRowQuery() throws {
        try assertPass(FuseOps(), before: ir("""
              input q: f32[batch, 8]
              input k: f32[batch, seq, 8]
              input v: f32[batch, seq, 8]
              input mask: i32[batch, seq]
              %q.r = reshape[shape=[batch, 2, 1, 4]](q)
            """, """
              %k.r = reshape[shape=[batch, seq, 2, 4]](k)
              %k.t = transpose[perm=[0, 2, 1, 3]](%k.r)
              %v.r = reshape[shape=[batch, seq, 2, 4]](v)
              %v.t = transpose[perm=[0, 2, 1, 3]](%v.r)
              %scores = batch_matmul[transpose_a=false, transpose_b=true](%q.r, %k.t)
              %probs = scaled_masked_softmax[factor=0.5](%scores, mask)
              %ctx = batch_matmul[transpose_a=false, transpose_b=false](%probs, %v.t)
              %out = reshape[shape=[batch, 8]](%ctx)
              output out = %out
            """), expected: ir("""
              input q: f32[batch, 8]
              input k: f32[batch, seq, 8]
              input v: f32[batch, seq, 8]
              input mask: i32[batch, seq]
              %out = attention[heads=2, factor=0.5](q, k, v, mask)
              output out = %out
            """))
    }

    /// In training the probabilities are read again (by dropout here, and by the softmax
    /// gradient): attention stays unfused.
    func testNoAttentionWhenTheProbabilitiesAreReadAgain() throws {
        try assertPassLeavesAsIs(FuseOps(), attention(probs: "  %probs = scaled_masked_softmax[factor=0.5](%scores, mask)",
                                                     outputs: "\n  output probs = %probs"))
    }
}
