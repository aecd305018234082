// Attention softmax with the additive padding mask, and the softmax gradient. Both work row
// by row over the last dim; rows are split across threads.

enum SoftmaxKernels {
    /// (scores [b, heads, q, k], mask int[b, k]) -> softmax over k of scores + (1 - mask) * -10000:
    /// the fused scaled form with factor 1 (multiplying by 1 is exact).
    static func maskedSoftmax(_ site: KernelSite) -> Kernel {
        FusedKernels.scaledMaskedSoftmax(site, factor: 1)
    }

    /// (dy [..., n], y [..., n]) -> y * (dy - sum(dy * y)) over the last dim: the fused scaled
    /// form with factor 1 (multiplying by 1 is exact).
    static func softmaxGrad(_ site: KernelSite) -> Kernel {
        FusedKernels.scaledSoftmaxGrad(site, factor: 1)
    }
}
