// Which ops may write their output into the buffer of their first input. The memory planner
// (`PlanMemory`) reuses a dying input's slot for such an op's output, so the runtime kernels
// of these ops MUST produce correct results when `output` and `inputs[0]` are the same memory:
// - elementwise ops read element i of every input before writing element i of the output;
// - row-wise ops (`layerNorm`, `addLayerNorm`, `maskedSoftmax`, `scaledMaskedSoftmax`,
//   `softmaxGrad`, `scaledSoftmaxGrad`) finish reading a row (its
//   mean and variance, max and sum, or dot product) before writing that row, and read each
//   element at most once after the row's first write (or read back the output instead).
// Other inputs (a bias, a mask, gamma) never alias the output.

extension Op {
    /// True when the output may share memory with input 0 (when that input dies at this node
    /// and has the output's byte size). One row per op.
    public var mayWriteInPlace: Bool {
        switch self {
        case .add, .mul, .scale, .gelu, .tanh, .dropout, .dropoutGrad, .geluGrad, .tanhGrad,
             .softmaxGrad, .maskedSoftmax, .layerNorm, .addLayerNorm, .scaledMaskedSoftmax, .scaledSoftmaxGrad:
            return true
        case .gather, .gatherGrad, .positions, .select, .selectGrad, .gatherRows, .scatterRows, .matmul, .batchMatmul,
             .sumLeading, .layerNormGrad, .reshape, .transpose, .softmaxCrossEntropy,
             .softmaxCrossEntropyGrad, .meanSquaredError, .meanSquaredErrorGrad, .fill, .geluGradSum,
             .linear, .attention:
            return false
        }
    }
}

extension Op {
    /// True when the output is the input's bytes unchanged under another shape, so the memory
    /// planner may give both one slot and the kernel then has nothing to do. A view never
    /// writes; an in-place op may write over a view only when every value sharing the slot
    /// is dead by then. One row per op.
    public var isView: Bool {
        switch self {
        case .reshape:
            return true
        case .gather, .gatherGrad, .positions, .select, .selectGrad, .gatherRows, .scatterRows, .add, .mul,
             .scale, .gelu, .geluGrad, .tanh, .tanhGrad, .dropout, .dropoutGrad, .matmul, .batchMatmul, .sumLeading, .layerNorm,
             .layerNormGrad, .maskedSoftmax, .softmaxGrad, .transpose, .softmaxCrossEntropy,
             .softmaxCrossEntropyGrad, .meanSquaredError, .meanSquaredErrorGrad, .fill, .linear,
             .addLayerNorm, .scaledMaskedSoftmax, .scaledSoftmaxGrad, .geluGradSum, .attention:
            return false
        }
    }
}
