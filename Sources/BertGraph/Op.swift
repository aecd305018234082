// The closed set of operations. Every concern (shape rules, gradients, kernels, the ONNX
// mapping, the attribute text) switches over this enum with no `default:`, so adding an op
// makes the compiler list every place that must learn it. The yes/no facts about ops (fused,
// in place, view, recomputable, ...) are groups of `Op.Kind`, one line each, below.

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
    /// x -> max(x, 0)
    case relu
    /// (dy, y) -> dy where y > 0, else 0, with y = relu(x)
    case reluGrad

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
    /// (logits [b, s], mask int[b, s], positions int[b]) -> f32[]: mean over the batch of
    /// -log softmax(logits)[position], the softmax taken over the positions where mask is
    /// not 0 (the real tokens; padding never enters). A position outside [0, s) or where
    /// mask is 0 is an error. The span loss of SQuAD, once for the start and once for the end.
    case maskedSoftmaxCrossEntropy
    /// (dloss [], logits [b, s], mask int[b, s], positions int[b]) -> dlogits [b, s]: zero
    /// where mask is 0.
    case maskedSoftmaxCrossEntropyGrad

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

// MARK: - Kinds and their groups

extension Op {
    /// An op without its attributes. The raw value is the op's name in the text format.
    public enum Kind: String, CaseIterable, Hashable, Sendable {
        case gather, gatherGrad = "gather_grad", positions, select, selectGrad = "select_grad"
        case gatherRows = "gather_rows", scatterRows = "scatter_rows"
        case add, mul, scale, gelu, geluGrad = "gelu_grad", tanh, tanhGrad = "tanh_grad"
        case dropout, dropoutGrad = "dropout_grad", relu, reluGrad = "relu_grad"
        case matmul, batchMatmul = "batch_matmul"
        case sumLeading = "sum_leading"
        case layerNorm = "layer_norm", layerNormGrad = "layer_norm_grad", maskedSoftmax = "masked_softmax"
        case softmaxGrad = "softmax_grad"
        case reshape, transpose
        case softmaxCrossEntropy = "softmax_cross_entropy", softmaxCrossEntropyGrad = "softmax_cross_entropy_grad"
        case meanSquaredError = "mean_squared_error", meanSquaredErrorGrad = "mean_squared_error_grad"
        case maskedSoftmaxCrossEntropy = "masked_softmax_cross_entropy"
        case maskedSoftmaxCrossEntropyGrad = "masked_softmax_cross_entropy_grad"
        case fill
        case linear, addLayerNorm = "add_layer_norm", scaledMaskedSoftmax = "scaled_masked_softmax"
        case scaledSoftmaxGrad = "scaled_softmax_grad", geluGradSum = "gelu_grad_sum", attention
    }

    /// This op's kind; one row per op.
    public var kind: Kind {
        switch self {
        case .gather: return .gather
        case .gatherGrad: return .gatherGrad
        case .positions: return .positions
        case .select: return .select
        case .selectGrad: return .selectGrad
        case .gatherRows: return .gatherRows
        case .scatterRows: return .scatterRows
        case .add: return .add
        case .mul: return .mul
        case .scale: return .scale
        case .gelu: return .gelu
        case .geluGrad: return .geluGrad
        case .tanh: return .tanh
        case .tanhGrad: return .tanhGrad
        case .dropout: return .dropout
        case .dropoutGrad: return .dropoutGrad
        case .relu: return .relu
        case .reluGrad: return .reluGrad
        case .matmul: return .matmul
        case .batchMatmul: return .batchMatmul
        case .sumLeading: return .sumLeading
        case .layerNorm: return .layerNorm
        case .layerNormGrad: return .layerNormGrad
        case .maskedSoftmax: return .maskedSoftmax
        case .softmaxGrad: return .softmaxGrad
        case .reshape: return .reshape
        case .transpose: return .transpose
        case .softmaxCrossEntropy: return .softmaxCrossEntropy
        case .softmaxCrossEntropyGrad: return .softmaxCrossEntropyGrad
        case .meanSquaredError: return .meanSquaredError
        case .meanSquaredErrorGrad: return .meanSquaredErrorGrad
        case .maskedSoftmaxCrossEntropy: return .maskedSoftmaxCrossEntropy
        case .maskedSoftmaxCrossEntropyGrad: return .maskedSoftmaxCrossEntropyGrad
        case .fill: return .fill
        case .linear: return .linear
        case .addLayerNorm: return .addLayerNorm
        case .scaledMaskedSoftmax: return .scaledMaskedSoftmax
        case .scaledSoftmaxGrad: return .scaledSoftmaxGrad
        case .geluGradSum: return .geluGradSum
        case .attention: return .attention
        }
    }

    /// The op's name in the text format and in error messages.
    public var name: String { kind.rawValue }
}

extension Op.Kind {
    // The yes/no facts about ops, one group per fact. A new op joins the groups it belongs to
    // here; the passes, the planner and the statistics read only these sets.

    /// One output element from the same element of each input (the second input of `add` and
    /// `mul` repeats over leading dims); one FLOP per output element.
    public static let elementwise: Set<Op.Kind> = [
        .add, .mul, .scale, .gelu, .geluGrad, .tanh, .tanhGrad, .dropout, .dropoutGrad, .relu, .reluGrad,
    ]
    /// Row-wise normalisations over the last dim (layer norm, softmax) and their gradients;
    /// one FLOP per output element.
    public static let normalizations: Set<Op.Kind> = [.layerNorm, .layerNormGrad, .maskedSoftmax, .softmaxGrad]
    /// Reductions and scatters (sums, the losses, scatter-adds); one FLOP per element of the
    /// largest input.
    public static let reductions: Set<Op.Kind> = [
        .sumLeading, .gatherGrad, .softmaxCrossEntropy, .softmaxCrossEntropyGrad, .meanSquaredError, .meanSquaredErrorGrad,
        .maskedSoftmaxCrossEntropy, .maskedSoftmaxCrossEntropyGrad,
    ]
    /// Ops that move, index or fill elements without arithmetic; no FLOPs.
    public static let movement: Set<Op.Kind> = [
        .gather, .positions, .select, .selectGrad, .gatherRows, .scatterRows, .reshape, .transpose, .fill,
    ]
    /// Ops that `FuseOps` makes (reported by `bertc compile` as fused ops); the builder and
    /// `Differentiate` never emit them.
    public static let fused: Set<Op.Kind> = [
        .linear, .addLayerNorm, .scaledMaskedSoftmax, .scaledSoftmaxGrad, .geluGradSum, .attention,
    ]
    /// Output 0 may share memory with input 0 when that input dies at the node and has the
    /// output's byte size (`PlanMemory`). So each kernel reads element i of every input
    /// before writing element i (elementwise ops), or finishes reading a row (its mean and
    /// variance, max and sum, or dot product) before writing it and then reads each element
    /// at most once, before writing it, or reads the output back (the row ops). Other inputs
    /// (a bias, a mask, gamma) never alias the output. `InterpreterTests` runs every op of
    /// this set in place.
    public static let inPlace: Set<Op.Kind> = elementwise.union([
        .layerNorm, .addLayerNorm, .maskedSoftmax, .scaledMaskedSoftmax, .softmaxGrad, .scaledSoftmaxGrad,
    ])
    /// The output is input 0's bytes unchanged under another shape, so the planner gives both
    /// one slot and the kernel has nothing to do. A view never writes; an in-place op may
    /// write over a view only when every value sharing the slot is dead by then.
    public static let views: Set<Op.Kind> = [.reshape]
    /// Cheap and deterministic enough to run twice: `Rematerialize` recomputes these for late
    /// readers (dropout regenerates its mask from the seed, step and stream).
    public static let recomputable: Set<Op.Kind> = [.dropout, .gelu]
}

// MARK: - Attribute text

extension Op {
    /// Attributes as (key, value) text, in a fixed order; `decode` reads them back.
    public var attributes: [(String, String)] {
        func b(_ x: Bool) -> String { x ? "true" : "false" }
        switch self {
        case .gather, .positions, .gatherRows, .add, .mul, .tanh, .tanhGrad, .relu, .reluGrad, .maskedSoftmax, .softmaxGrad,
             .softmaxCrossEntropy, .softmaxCrossEntropyGrad, .meanSquaredError, .meanSquaredErrorGrad,
             .maskedSoftmaxCrossEntropy, .maskedSoftmaxCrossEntropyGrad:
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

    /// The op of `kind` with its attributes read from `a`, as `attributes` prints them; one
    /// row per op.
    static func decode(_ kind: Kind, _ a: inout AttributeReader) throws -> Op {
        switch kind {
        case .gather: return .gather
        case .gatherGrad: return .gatherGrad(rows: try a.count("rows"))
        case .positions: return .positions
        case .select: return .select(axis: try a.int("axis"), index: try a.int("index"))
        case .selectGrad: return .selectGrad(axis: try a.int("axis"), index: try a.int("index"), size: try a.dim("size"))
        case .gatherRows: return .gatherRows
        case .scatterRows: return .scatterRows(leading: try a.shape("leading"))
        case .add: return .add
        case .mul: return .mul
        case .scale: return .scale(try a.float("factor"))
        case .gelu: return .gelu(try a.approximation("approximation"))
        case .geluGrad: return .geluGrad(try a.approximation("approximation"))
        case .tanh: return .tanh
        case .tanhGrad: return .tanhGrad
        case .dropout: return .dropout(rate: try a.float("rate"), stream: try a.int("stream"))
        case .dropoutGrad: return .dropoutGrad(rate: try a.float("rate"), stream: try a.int("stream"))
        case .relu: return .relu
        case .reluGrad: return .reluGrad
        case .matmul: return .matmul(transposeA: try a.bool("transpose_a"), transposeB: try a.bool("transpose_b"))
        case .batchMatmul: return .batchMatmul(transposeA: try a.bool("transpose_a"), transposeB: try a.bool("transpose_b"))
        case .sumLeading: return .sumLeading(keepRank: try a.int("keep_rank"))
        case .layerNorm: return .layerNorm(epsilon: try a.float("epsilon"))
        case .layerNormGrad: return .layerNormGrad(epsilon: try a.float("epsilon"))
        case .maskedSoftmax: return .maskedSoftmax
        case .softmaxGrad: return .softmaxGrad
        case .reshape: return .reshape(try a.shape("shape"))
        case .transpose: return .transpose(try a.ints("perm"))
        case .softmaxCrossEntropy: return .softmaxCrossEntropy
        case .softmaxCrossEntropyGrad: return .softmaxCrossEntropyGrad
        case .meanSquaredError: return .meanSquaredError
        case .meanSquaredErrorGrad: return .meanSquaredErrorGrad
        case .maskedSoftmaxCrossEntropy: return .maskedSoftmaxCrossEntropy
        case .maskedSoftmaxCrossEntropyGrad: return .maskedSoftmaxCrossEntropyGrad
        case .fill: return .fill(value: try a.float("value"), shape: try a.shape("shape"))
        case .linear: return .linear(activation: try a.activation("activation"))
        case .addLayerNorm: return .addLayerNorm(epsilon: try a.float("epsilon"))
        case .scaledMaskedSoftmax: return .scaledMaskedSoftmax(factor: try a.float("factor"))
        case .scaledSoftmaxGrad: return .scaledSoftmaxGrad(factor: try a.float("factor"))
        case .geluGradSum: return .geluGradSum(try a.approximation("approximation"))
        case .attention: return .attention(heads: try a.count("heads"), factor: try a.float("factor"))
        }
    }
}
