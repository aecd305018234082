import BertGraph

// Gradient rules: one row per op, like tinygrad's gradient table and TVM's registered
// gradients. A row gets a node `y = op(x)` and `dy` (the loss gradient with respect to y) and
// returns one gradient per input, or nil for inputs that carry none (ids, masks, labels).
// Rows emit nodes freely: `Differentiate` prunes the ones whose result nobody reads, so a row
// never asks which inputs need a gradient. Every gradient has its input's exact type.

extension Op {
    /// The gradients of a node's inputs, in input order.
    /// - Parameters:
    ///   - x: the node's inputs.
    ///   - y: the node's (first) output.
    ///   - dy: the gradient of the loss with respect to `y`, of `y`'s type.
    ///   - e: where the backward nodes go.
    /// - Returns: one value per input, nil where the input has no gradient.
    func inputGradients(x: [ValueID], y: ValueID, dy: ValueID, into e: inout GradientEmitter) throws -> [ValueID?] {
        switch self {
        case .gather:  // y = table[ids]: dtable = dy rows scatter-added at ids; ids none
            return [try e.emit(.gatherGrad(rows: e.fixedDim(x[0], axis: 0)), [dy, x[1]], "dtable"), nil]
        case .positions:  // y = 0 ..< seq: integer, no gradient
            return [nil]
        case .select(let axis, let index):  // y = x[.., index, ..]: dx = zeros with dy placed at index
            return [try e.emit(.selectGrad(axis: axis, index: index, size: e.type(x[0]).shape[axis]), [dy], "dx")]
        case .gatherRows:  // y = rows of x: dx = dy rows put back in x's layout, zeros elsewhere; rows none
            let leading = Shape(Array(e.type(x[0]).shape.dims.dropLast()))
            return [try e.emit(.scatterRows(leading: leading), [dy, x[1]], "dx"), nil]
        case .scatterRows:  // y = zeros with x's rows added at rows: dx = those rows of dy; rows none
            return [try e.emit(.gatherRows, [dy, x[1]], "dx"), nil]
        case .add:  // y = a + b (b broadcast over leading dims): da = dy, db = dy summed over them
            return [dy, try e.sumBroadcast(dy, to: x[1], "db")]
        case .mul:  // y = a * b: da = dy * b, db = dy * a summed over the broadcast dims
            let da = try e.emit(.mul, [dy, x[1]], "da")
            return [da, try e.sumBroadcast(e.emit(.mul, [dy, x[0]], "db_full"), to: x[1], "db")]
        case .scale(let f):  // y = f x: dx = f dy
            return [try e.emit(.scale(f), [dy], "dx")]
        case .gelu(let a):  // y = gelu(x): dx = dy * gelu'(x), from the forward input
            return [try e.emit(.geluGrad(a), [dy, x[0]], "dx")]
        case .tanh:  // y = tanh(x): dx = dy * (1 - y^2), from the forward output
            return [try e.emit(.tanhGrad, [dy, y], "dx")]
        case .relu:  // y = max(x, 0): dx = dy where y > 0, from the forward output
            return [try e.emit(.reluGrad, [dy, y], "dx")]
        case .dropout(let rate, let stream):  // y = x * mask / (1 - p): dx = dy * mask / (1 - p), same mask; rows none
            return [try e.emit(.dropoutGrad(rate: rate, stream: stream), [dy] + x.dropFirst(), "dx")] + x.dropFirst().map { _ in nil }
        case .matmul(let ta, let tb):
            switch (ta, tb) {
            case (false, true):  // y = x W^T, W [out, in]: dx = dy W, dW = dy^T x [out, in]
                return [try e.emit(.matmul(transposeA: false, transposeB: false), [dy, x[1]], "dx"),
                        try e.emit(.matmul(transposeA: true, transposeB: false), [dy, x[0]], "dw")]
            case (false, false):  // y = x W, W [in, out]: dx = dy W^T, dW = x^T dy [in, out]
                return [try e.emit(.matmul(transposeA: false, transposeB: true), [dy, x[1]], "dx"),
                        try e.emit(.matmul(transposeA: true, transposeB: false), [x[0], dy], "dw")]
            case (true, false):  // y = a^T b over leading dims: da = b dy^T, db = a dy
                return [try e.emit(.matmul(transposeA: false, transposeB: true), [x[1], dy], "da"),
                        try e.emit(.matmul(transposeA: false, transposeB: false), [x[0], dy], "db")]
            case (true, true):  // rejected by the shape rule, so never in a verified graph
                throw e.unsupported(self, "transpose_a with transpose_b has no shape rule")
            }
        case .batchMatmul(let ta, let tb):
            func bmm(_ ta: Bool, _ tb: Bool, _ a: ValueID, _ b: ValueID, _ hint: String) throws -> ValueID {
                try e.emit(.batchMatmul(transposeA: ta, transposeB: tb), [a, b], hint)
            }
            switch (ta, tb) {
            case (false, false):  // C = A B: dA = dC B^T, dB = A^T dC
                return [try bmm(false, true, dy, x[1], "da"), try bmm(true, false, x[0], dy, "db")]
            case (false, true):  // C = A B^T: dA = dC B, dB = dC^T A
                return [try bmm(false, false, dy, x[1], "da"), try bmm(true, false, dy, x[0], "db")]
            case (true, false):  // C = A^T B: dA = B dC^T, dB = A dC
                return [try bmm(false, true, x[1], dy, "da"), try bmm(false, false, x[0], dy, "db")]
            case (true, true):  // C = A^T B^T: dA = B^T dC^T, dB = dC^T A^T
                return [try bmm(true, true, x[1], dy, "da"), try bmm(true, true, dy, x[0], "db")]
            }
        case .layerNorm(let eps):  // y = gamma * norm(x) + beta: (dx, dgamma, dbeta) from one node
            let g = try e.emitAll(.layerNormGrad(epsilon: eps), [dy, x[0], x[1]], "dx")
            return [g[0], g[1], g[2]]
        case .maskedSoftmax:  // y = softmax(s + bias(mask)): ds = y * (dy - sum(dy * y)); mask none
            return [try e.emit(.softmaxGrad, [dy, y], "dscores"), nil]
        case .reshape:  // y = x in a new shape: dx = dy in x's shape
            return [try e.emit(.reshape(e.type(x[0]).shape), [dy], "dx")]
        case .transpose(let perm):  // y = permute(x, perm): dx = permute(dy, inverse of perm)
            var inverse = [Int](repeating: 0, count: perm.count)
            for (i, p) in perm.enumerated() { inverse[p] = i }
            return [try e.emit(.transpose(inverse), [dy], "dx")]
        case .softmaxCrossEntropy:  // loss = mean CE: dlogits = (softmax - onehot) * dloss / b; labels none
            return [try e.emit(.softmaxCrossEntropyGrad, [dy, x[0], x[1]], "dlogits"), nil]
        case .meanSquaredError:  // loss = mean (p - t)^2: dp = 2 (p - t) dloss / b, dt = -dp as [b]
            let dp = try e.emit(.meanSquaredErrorGrad, [dy, x[0], x[1]], "dpredictions")
            let dt = try e.emit(.reshape(e.type(x[1]).shape), [e.emit(.scale(-1), [dp], "dtargets_column")], "dtargets")
            return [dp, dt]
        case .maskedSoftmaxCrossEntropy:  // loss = mean masked CE: dlogits = (softmax - onehot) * dloss / b, 0 off the mask
            return [try e.emit(.maskedSoftmaxCrossEntropyGrad, [dy, x[0], x[1], x[2]], "dlogits"), nil, nil]
        case .fill:  // a constant: no inputs
            return []
        case .gatherGrad, .selectGrad, .geluGrad, .tanhGrad, .reluGrad, .dropoutGrad, .sumLeading,
             .layerNormGrad, .softmaxGrad, .softmaxCrossEntropyGrad, .meanSquaredErrorGrad, .maskedSoftmaxCrossEntropyGrad:
            // Backward ops appear only in training graphs: gradients of gradients are not built.
            throw e.secondOrder(self)
        case .linear, .addLayerNorm, .scaledMaskedSoftmax, .scaledSoftmaxGrad, .geluGradSum, .attention:
            // FuseOps runs after Differentiate, so fused ops never meet a gradient rule.
            throw e.unsupported(self, "fused ops are made after differentiation; differentiate the unfused graph")
        }
    }
}
