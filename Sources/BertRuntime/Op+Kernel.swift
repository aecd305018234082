// The kernel table: one row per op, turning a node with concrete shapes into a prepared
// kernel. Adding an op to `Op` makes this switch fail to compile until the op has a kernel.
//
// In-place execution: a planner may put the output of an op in `Op.Kind.inPlace` at the
// offset of its input 0 when that input dies at the node, and the output of a view
// (`Op.Kind.views`) at its input's offset; the kernels of those ops allow it, and
// InterpreterTests runs each of them so. Other outputs must not overlap their inputs.
import BertGraph

extension Op {
    /// The prepared kernel of a node of this op at `site`.
    func kernel(at site: KernelSite) -> Kernel {
        switch self {
        case .gather: return IndexingKernels.gather(site)
        case .gatherGrad: return IndexingKernels.gatherGrad(site)
        case .positions: return IndexingKernels.positions(site)
        case .select(let axis, let index): return IndexingKernels.select(site, axis: axis, index: index)
        case .selectGrad(let axis, let index, _): return IndexingKernels.selectGrad(site, axis: axis, index: index)
        case .gatherRows: return IndexingKernels.gatherRows(site)
        case .scatterRows: return IndexingKernels.scatterRows(site)
        case .add: return ElementwiseKernels.binary(site, ElementwiseKernels.add)
        case .mul: return ElementwiseKernels.binary(site, ElementwiseKernels.mul)
        case .scale(let factor): return ElementwiseKernels.unary(site, ElementwiseKernels.scale(factor))
        case .gelu(let form): return ElementwiseKernels.unary(site, ElementwiseKernels.gelu(form))
        case .geluGrad(let form): return ElementwiseKernels.binary(site, ElementwiseKernels.geluGrad(form))
        case .tanh: return ElementwiseKernels.unary(site, ElementwiseKernels.tanh)
        case .tanhGrad: return ElementwiseKernels.binary(site, ElementwiseKernels.tanhGrad)
        case .relu: return ElementwiseKernels.unary(site, ElementwiseKernels.relu)
        case .reluGrad: return ElementwiseKernels.binary(site, ElementwiseKernels.reluGrad)
        case .dropout(let rate, let stream), .dropoutGrad(let rate, let stream):
            return DropoutKernels.dropout(site, rate: rate, stream: stream)
        case .matmul(let ta, let tb): return MatrixProductKernels.matmul(site, transposeA: ta, transposeB: tb)
        case .batchMatmul(let ta, let tb): return MatrixProductKernels.batchMatmul(site, transposeA: ta, transposeB: tb)
        case .sumLeading: return NormalizationKernels.sumLeading(site)
        case .layerNorm(let eps): return NormalizationKernels.layerNorm(site, epsilon: eps)
        case .layerNormGrad(let eps): return NormalizationKernels.layerNormGrad(site, epsilon: eps)
        case .maskedSoftmax: return SoftmaxKernels.maskedSoftmax(site)
        case .softmaxGrad: return SoftmaxKernels.softmaxGrad(site)
        case .reshape: return LayoutKernels.reshape(site)
        case .transpose(let perm): return LayoutKernels.transpose(site, perm: perm)
        case .softmaxCrossEntropy: return LossKernels.softmaxCrossEntropy(site)
        case .softmaxCrossEntropyGrad: return LossKernels.softmaxCrossEntropyGrad(site)
        case .meanSquaredError: return LossKernels.meanSquaredError(site)
        case .meanSquaredErrorGrad: return LossKernels.meanSquaredErrorGrad(site)
        case .maskedSoftmaxCrossEntropy: return LossKernels.maskedSoftmaxCrossEntropy(site)
        case .maskedSoftmaxCrossEntropyGrad: return LossKernels.maskedSoftmaxCrossEntropyGrad(site)
        case .fill(let value, _): return ElementwiseKernels.fill(site, value: value)
        case .linear(let activation): return FusedKernels.linear(site, activation: activation)
        case .addLayerNorm(let eps): return FusedKernels.addLayerNorm(site, epsilon: eps)
        case .scaledMaskedSoftmax(let factor): return FusedKernels.scaledMaskedSoftmax(site, factor: factor)
        case .scaledSoftmaxGrad(let factor): return FusedKernels.scaledSoftmaxGrad(site, factor: factor)
        case .geluGradSum(let form): return FusedKernels.geluGradSum(site, form: form)
        case .attention(let heads, let factor): return AttentionKernels.attention(site, heads: heads, factor: factor)
        }
    }
}
