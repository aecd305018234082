// The closed set of operations. Every concern (shape rules, gradients, kernels, the ONNX
// mapping, the printer) switches over this enum with no `default:`, so adding an op makes the
// compiler list every place that must learn it.

/// How GELU is computed: Hugging Face's `"gelu"` is the exact erf form; TF BERT checkpoints
/// (google-research/bert, Model Garden) use the tanh approximation.
public enum GeluApproximation: String, Hashable, Sendable, Codable {
    case erf
    case tanh
}

/// The activation a fused `linear` applies to `x w^T + b` while the product is hot.
public enum LinearActivation: Hashable, Sendable {
    case identity
    case gelu(GeluApproximation)

    /// The attribute text: `identity`, `gelu_erf` or `gelu_tanh`.
    public var text: String {
        switch self {
        case .identity: return "identity"
        case .gelu(let a): return "gelu_\(a.rawValue)"
        }
    }

    /// The activation printed as `text`, or nil.
    public init?(text: String) {
        switch text {
        case "identity": self = .identity
        case "gelu_erf": self = .gelu(.erf)
        case "gelu_tanh": self = .gelu(.tanh)
        default: return nil
        }
    }
}

/// An operation of the IR. Shapes in comments: `[batch, seq, hidden]`; a trailing `...` means
/// any leading dims.
public enum Op: Hashable, Sendable {
    // MARK: Embedding and indexing
    /// (table [rows, h], ids int[...]) -> [..., h]
    case gather
    /// (dy [..., h], ids int[...]) -> [rows, h]: scatter-add of `dy` rows into a zero table.
    case gatherGrad(rows: Int)
    /// (ids int[b, s]) -> int[s]: 0, 1, ..., s-1 (absolute position ids).
    case positions
    /// x [..., n, ...] -> x with `axis` removed, taking element `index` along it ([CLS] row).
    case select(axis: Int, index: Int)
    /// dy -> zeros with `size` inserted at `axis`, `dy` placed at `index`.
    case selectGrad(axis: Int, index: Int, size: Dim)
    /// (x [..., h], rows int[n]) -> [n, h]: row rows[i] of x viewed as a matrix [rows, h]
    /// (the real tokens of a padded batch, packed without the padding).
    case gatherRows
    /// (y [n, h], rows int[n]) -> [leading..., h]: zeros with row i of y added into row
    /// rows[i] of the result viewed as a matrix (the packed tokens back in the padded layout).
    case scatterRows(leading: Shape)

    // MARK: Elementwise
    /// (x, y) -> x + y; y's shape equals x's or is a suffix of it (broadcast over leading dims).
    case add
    /// (x, y) -> x * y elementwise; same broadcasting as `add`.
    case mul
    /// x -> factor * x
    case scale(Float)
    /// x -> GELU(x)
    case gelu(GeluApproximation)
    /// (dy, x) -> dy * GELU'(x)
    case geluGrad(GeluApproximation)
    /// x -> tanh(x)
    case tanh
    /// (dy, y) -> dy * (1 - y^2), with y = tanh(x)
    case tanhGrad
    /// x -> x * mask / (1 - rate); the mask comes from the counter-based generator keyed by
    /// (seed, step, stream), so the backward op regenerates it instead of storing it.
    /// (x [n, h], rows int[n]) -> the same, with row r of x drawing the mask of row rows[r]
    /// (packed tokens draw the masks of their padded positions).
    case dropout(rate: Float, stream: Int)
    /// dy (, rows) -> dy * mask / (1 - rate), the same mask as the forward `dropout` with this
    /// stream (and rows).
    case dropoutGrad(rate: Float, stream: Int)

    // MARK: Matrix products
    /// Matrix product of operands flattened to matrices [rows, last].
    /// transposeA false: (a [..., k], b [k, n], or [n, k] with transposeB) -> [..., n].
    /// transposeA true: (a [..., m], b [..., n], same leading dims) -> [m, n] = a^T b, the
    /// contraction over all leading dims that a weight gradient needs.
    case matmul(transposeA: Bool, transposeB: Bool)
    /// (a [..., m, k], b [..., k, n]) -> [..., m, n] with equal leading (batch) dims; the
    /// flags transpose the last two dims of an operand.
    case batchMatmul(transposeA: Bool, transposeB: Bool)

    // MARK: Reductions
    /// x [..., d1 ... dk] -> [d1 ... dk]: sums over all but the last `keepRank` dims.
    case sumLeading(keepRank: Int)

    // MARK: Normalisation
    /// (x [..., h], gamma [h], beta [h]) -> [..., h], normalised over the last dim.
    case layerNorm(epsilon: Float)
    /// (dy, x, gamma) -> (dx, dgamma, dbeta)
    case layerNormGrad(epsilon: Float)
    /// (scores [b, heads, q, k], mask int[b, k]) -> softmax over k of scores + (1 - mask) * -10000
    case maskedSoftmax
    /// (dy, y) -> y * (dy - sum(dy * y)) over the last dim
    case softmaxGrad

    // MARK: Layout
    /// x -> x with the same elements in a new shape (dims may be symbolic).
    case reshape(Shape)
    /// x -> x with dims permuted: output dim i is input dim perm[i].
    case transpose([Int])

    // MARK: Losses
    /// (logits [b, c], labels int[b]) -> f32[]: mean softmax cross-entropy over the batch.
    case softmaxCrossEntropy
    /// (dloss [], logits [b, c], labels int[b]) -> dlogits [b, c]
    case softmaxCrossEntropyGrad
    /// (predictions [b, 1], targets f32[b]) -> f32[]: mean squared error.
    case meanSquaredError
    /// (dloss [], predictions [b, 1], targets f32[b]) -> dpredictions [b, 1]
    case meanSquaredErrorGrad

    // MARK: Constants
    /// () -> a tensor of `shape` filled with `value` (the seed gradient of a loss).
    case fill(value: Float, shape: Shape)

    // MARK: Fused (made by `FuseOps` after `Differentiate`; the builder never emits them)
    /// (x [..., in], w [out, in], b [out]) -> activation(x w^T + b) [..., out]: one GEMM with
    /// the bias folded in and the activation applied to the fresh product.
    case linear(activation: LinearActivation)
    /// (x [..., h], residual [..., h], gamma [h], beta [h]) -> layerNorm(x + residual) [..., h].
    case addLayerNorm(epsilon: Float)
    /// (scores [b, heads, q, k], mask int[b, k]) -> maskedSoftmax(factor * scores, mask).
    case scaledMaskedSoftmax(factor: Float)
    /// (dy, y) -> factor * y * (dy - sum(dy * y)) over the last dim: softmaxGrad then scale.
    case scaledSoftmaxGrad(factor: Float)
    /// (dy [..., n], x [..., n]) -> (dx = dy * GELU'(x) [..., n], dx summed over the leading
    /// dims [n]): a GELU gradient and the bias gradient that reduces it, in one pass.
    case geluGradSum(GeluApproximation)
    /// (q [b, sq, h] or [b, h], k [b, sk, h], v [b, sk, h], mask int[b, sk]) -> context, q's
    /// shape: multi-head attention over `heads` heads of h / heads columns each, with
    /// softmax(factor * q k^T + (1 - mask) * -10000) v per head. Replaces the heads' reshapes
    /// and transposes, both batched products and the softmax of an inference graph; the
    /// heads are read and written in place in the [.., h] rows.
    case attention(heads: Int, factor: Float)
}

extension Op {
    /// The op's name in the text format and in error messages.
    public var name: String {
        switch self {
        case .gather: return "gather"
        case .gatherGrad: return "gather_grad"
        case .positions: return "positions"
        case .select: return "select"
        case .selectGrad: return "select_grad"
        case .gatherRows: return "gather_rows"
        case .scatterRows: return "scatter_rows"
        case .add: return "add"
        case .mul: return "mul"
        case .scale: return "scale"
        case .gelu: return "gelu"
        case .geluGrad: return "gelu_grad"
        case .tanh: return "tanh"
        case .tanhGrad: return "tanh_grad"
        case .dropout: return "dropout"
        case .dropoutGrad: return "dropout_grad"
        case .matmul: return "matmul"
        case .batchMatmul: return "batch_matmul"
        case .sumLeading: return "sum_leading"
        case .layerNorm: return "layer_norm"
        case .layerNormGrad: return "layer_norm_grad"
        case .maskedSoftmax: return "masked_softmax"
        case .softmaxGrad: return "softmax_grad"
        case .reshape: return "reshape"
        case .transpose: return "transpose"
        case .softmaxCrossEntropy: return "softmax_cross_entropy"
        case .softmaxCrossEntropyGrad: return "softmax_cross_entropy_grad"
        case .meanSquaredError: return "mean_squared_error"
        case .meanSquaredErrorGrad: return "mean_squared_error_grad"
        case .fill: return "fill"
        case .linear: return "linear"
        case .addLayerNorm: return "add_layer_norm"
        case .scaledMaskedSoftmax: return "scaled_masked_softmax"
        case .scaledSoftmaxGrad: return "scaled_softmax_grad"
        case .geluGradSum: return "gelu_grad_sum"
        case .attention: return "attention"
        }
    }

    /// True for the ops `FuseOps` makes (reported by `bertc compile` as fused ops).
    public var isFused: Bool {
        switch self {
        case .linear, .addLayerNorm, .scaledMaskedSoftmax, .scaledSoftmaxGrad, .geluGradSum, .attention:
            return true
        case .gather, .gatherGrad, .positions, .select, .selectGrad, .gatherRows, .scatterRows, .add, .mul,
             .scale, .gelu, .geluGrad, .tanh, .tanhGrad, .dropout, .dropoutGrad, .matmul, .batchMatmul,
             .sumLeading, .layerNorm, .layerNormGrad, .maskedSoftmax, .softmaxGrad, .reshape, .transpose,
             .softmaxCrossEntropy, .softmaxCrossEntropyGrad, .meanSquaredError, .meanSquaredErrorGrad, .fill:
            return false
        }
    }

    /// Attributes as (key, value) text, in a fixed order; the printer and parser share it.
    public var attributes: [(String, String)] {
        func b(_ x: Bool) -> String { x ? "true" : "false" }
        switch self {
        case .gather, .positions, .gatherRows, .add, .mul, .tanh, .tanhGrad, .maskedSoftmax, .softmaxGrad,
             .softmaxCrossEntropy, .softmaxCrossEntropyGrad, .meanSquaredError, .meanSquaredErrorGrad:
            return []
        case .gatherGrad(let rows): return [("rows", String(rows))]
        case .select(let axis, let index): return [("axis", String(axis)), ("index", String(index))]
        case .selectGrad(let axis, let index, let size):
            return [("axis", String(axis)), ("index", String(index)), ("size", size.description)]
        case .scale(let f): return [("factor", "\(f)")]
        case .gelu(let a), .geluGrad(let a), .geluGradSum(let a): return [("approximation", a.rawValue)]
        case .linear(let activation): return [("activation", activation.text)]
        case .scaledMaskedSoftmax(let f), .scaledSoftmaxGrad(let f): return [("factor", "\(f)")]
        case .attention(let heads, let f): return [("heads", String(heads)), ("factor", "\(f)")]
        case .dropout(let rate, let stream), .dropoutGrad(let rate, let stream):
            return [("rate", "\(rate)"), ("stream", String(stream))]
        case .matmul(let ta, let tb), .batchMatmul(let ta, let tb):
            return [("transpose_a", b(ta)), ("transpose_b", b(tb))]
        case .sumLeading(let k): return [("keep_rank", String(k))]
        case .layerNorm(let eps), .layerNormGrad(let eps), .addLayerNorm(let eps): return [("epsilon", "\(eps)")]
        case .reshape(let shape): return [("shape", shape.description)]
        case .scatterRows(let leading): return [("leading", leading.description)]
        case .transpose(let perm): return [("perm", "[" + perm.map(String.init).joined(separator: ", ") + "]")]
        case .fill(let value, let shape): return [("value", "\(value)"), ("shape", shape.description)]
        }
    }
}
