// Shape rules: one row per op. Given input types, the output types, or an error that names
// the node, the op and the shapes involved.

extension Op {
    /// Output types of this op applied to inputs of `types`, for node `node` (error messages).
    public func outputTypes(_ types: [TensorType], node: String) throws -> [TensorType] {
        func fail(_ detail: String) -> GraphError {
            .shapeMismatch(node: node, op: name, detail: detail)
        }
        func arity(_ n: Int) throws {
            guard types.count == n else { throw GraphError.arity(node: node, op: name, expected: n, got: types.count) }
        }
        func float(_ i: Int) throws {
            guard types[i].dtype == .float32 else { throw fail("input \(i) must be f32, got \(types[i])") }
        }
        func integer(_ i: Int) throws {
            guard types[i].dtype != .float32 else { throw fail("input \(i) must be an integer tensor, got \(types[i])") }
        }
        func same(_ i: Int, _ j: Int) throws {
            guard types[i].shape == types[j].shape else {
                throw fail("inputs \(i) and \(j) must have one shape, got \(types[i].shape) and \(types[j].shape)")
            }
        }
        func f32(_ s: Shape) -> TensorType { TensorType(.float32, s) }
        let s = types.map(\.shape)
        /// A loss, (predictions [b, c], targets [b]) -> f32[], or its gradient, (dloss [],
        /// predictions, targets) -> the predictions' type; `columns` pins c. Names and shapes
        /// are for messages.
        func loss(_ p: (String, String), _ t: (String, String), integerTargets: Bool, columns: Dim?,
                  gradient: Bool) throws -> [TensorType] {
            let first = gradient ? 1 : 0
            try arity(first + 2)
            for i in 0...first { try float(i) }
            if integerTargets { try integer(first + 1) } else { try float(first + 1) }
            if gradient {
                guard s[0].rank == 0, s[1].rank == 2, s[2] == Shape([s[1][0]]) else {
                    throw fail("expects dloss [], \(p.0) \(p.1), \(t.0) \(t.1), got \(s[0]), \(s[1]), \(s[2])")
                }
                return [types[1]]
            }
            guard s[0].rank == 2, columns.map({ s[0][1] == $0 }) ?? true, s[1] == Shape([s[0][0]]) else {
                throw fail("\(p.0) must be \(p.1) and \(t.0) \(t.1), got \(s[0]) and \(s[1])")
            }
            return [f32(Shape([Dim]()))]
        }

        switch self {
        case .gather:
            try arity(2); try float(0); try integer(1)
            guard s[0].rank == 2 else { throw fail("table must be [rows, h], got \(s[0])") }
            return [f32(Shape(s[1].dims + [s[0][1]]))]
        case .gatherGrad(let rows):
            try arity(2); try float(0); try integer(1)
            guard s[0].rank == s[1].rank + 1, Array(s[0].dims.dropLast()) == s[1].dims else {
                throw fail("dy \(s[0]) must be ids \(s[1]) plus a last dim")
            }
            return [f32(Shape([.fixed(rows), s[0].last!]))]
        case .positions:
            try arity(1); try integer(0)
            guard s[0].rank == 2 else { throw fail("ids must be [batch, seq], got \(s[0])") }
            return [TensorType(types[0].dtype, Shape([s[0][1]]))]
        case .select(let axis, let index):
            try arity(1)
            guard axis >= 0, axis < s[0].rank else { throw fail("axis \(axis) out of range for \(s[0])") }
            // Along a symbolic dim the index is checked against the bound size when a plan is
            // prepared (`Interpreter`), or by the loader that knows the sizes (bundles).
            guard index >= 0, index < (s[0][axis].fixedSize ?? Int.max) else {
                throw fail("index \(index) out of range for dim \(axis) of \(s[0])")
            }
            var d = s[0].dims; d.remove(at: axis)
            return [TensorType(types[0].dtype, Shape(d))]
        case .selectGrad(let axis, let index, let size):
            try arity(1); try float(0)
            guard axis >= 0, axis <= s[0].rank else { throw fail("axis \(axis) out of range for \(s[0])") }
            guard index >= 0, index < (size.fixedSize ?? Int.max) else {
                throw fail("index \(index) out of range for size \(size)")
            }
            var d = s[0].dims; d.insert(size, at: axis)
            return [f32(Shape(d))]
        case .gatherRows:
            try arity(2); try float(0); try integer(1)
            guard s[0].rank >= 2, s[1].rank == 1 else { throw fail("expects x [..., h] and rows int[n], got \(s[0]) and \(s[1])") }
            return [f32(Shape([s[1][0], s[0].last!]))]
        case .scatterRows(let leading):
            try arity(2); try float(0); try integer(1)
            guard s[0].rank == 2, s[1].rank == 1, s[1][0] == s[0][0], leading.rank >= 1 else {
                throw fail("expects y [n, h], rows int[n] and at least one leading dim, got \(s[0]), \(s[1]) and \(leading)")
            }
            return [f32(Shape(leading.dims + [s[0][1]]))]
        case .add, .mul:
            try arity(2); try float(0); try float(1)
            guard s[0].hasSuffix(s[1]) else { throw fail("\(s[1]) does not broadcast to \(s[0])") }
            return [types[0]]
        case .scale, .gelu, .tanh, .relu:
            try arity(1); try float(0)
            return [types[0]]
        case .dropout(let rate, _), .dropoutGrad(let rate, _):
            guard types.count == 1 || types.count == 2 else { throw GraphError.arity(node: node, op: name, expected: 1, got: types.count) }
            try float(0)
            guard rate >= 0 && rate < 1 else { throw fail("rate \(rate) is not in [0, 1)") }
            if types.count == 2 {
                try integer(1)
                guard s[0].rank == 2, s[1].rank == 1, s[1][0] == s[0][0] else {
                    throw fail("packed rows need x [n, h] and rows int[n], got \(s[0]) and \(s[1])")
                }
            }
            return [types[0]]
        case .geluGrad, .tanhGrad, .reluGrad, .softmaxGrad, .scaledSoftmaxGrad:
            try arity(2); try float(0); try float(1); try same(0, 1)
            return [types[0]]
        case .matmul(let ta, let tb):
            try arity(2); try float(0); try float(1)
            guard s[0].rank >= 2 || (s[0].rank >= 1 && !ta), s[1].rank >= 1 else { throw fail("operands \(s[0]) and \(s[1]) are not matrices") }
            if ta {
                guard s[1].rank == s[0].rank, Array(s[0].dims.dropLast()) == Array(s[1].dims.dropLast()) else {
                    throw fail("a^T b needs equal leading dims, got \(s[0]) and \(s[1])")
                }
                guard !tb else { throw fail("transpose_a with transpose_b is not supported") }
                return [f32(Shape([s[0].last!, s[1].last!]))]
            }
            guard s[1].rank == 2 else { throw fail("b must be a matrix, got \(s[1])") }
            let k = tb ? s[1][1] : s[1][0]
            let n = tb ? s[1][0] : s[1][1]
            guard s[0].last! == k else { throw fail("inner dims differ: \(s[0]) x \(s[1])\(tb ? "^T" : "")") }
            return [f32(Shape(s[0].dims.dropLast() + [n]))]
        case .batchMatmul(let ta, let tb):
            try arity(2); try float(0); try float(1)
            guard s[0].rank >= 2, s[0].rank == s[1].rank,
                  Array(s[0].dims.dropLast(2)) == Array(s[1].dims.dropLast(2)) else {
                throw fail("batch dims differ: \(s[0]) and \(s[1])")
            }
            let r = s[0].rank
            let (m, ka) = ta ? (s[0][r - 1], s[0][r - 2]) : (s[0][r - 2], s[0][r - 1])
            let (kb, n) = tb ? (s[1][r - 1], s[1][r - 2]) : (s[1][r - 2], s[1][r - 1])
            guard ka == kb else { throw fail("inner dims differ: \(s[0]) and \(s[1])") }
            return [f32(Shape(s[0].dims.dropLast(2) + [m, n]))]
        case .sumLeading(let keep):
            try arity(1); try float(0)
            guard keep >= 0, keep <= s[0].rank else { throw fail("keep_rank \(keep) out of range for \(s[0])") }
            return [f32(Shape(Array(s[0].dims.suffix(keep))))]
        case .layerNorm:
            try arity(3); try float(0); try float(1); try float(2)
            guard let h = s[0].last, s[1] == Shape([h]), s[2] == Shape([h]) else {
                throw fail("gamma \(s[1]) and beta \(s[2]) must be [\(s[0].last?.description ?? "?")] for x \(s[0])")
            }
            return [types[0]]
        case .layerNormGrad:
            try arity(3); try float(0); try float(1); try float(2); try same(0, 1)
            guard let h = s[0].last, s[2] == Shape([h]) else { throw fail("gamma \(s[2]) does not fit x \(s[1])") }
            return [types[1], types[2], types[2]]
        case .maskedSoftmax, .scaledMaskedSoftmax:
            try arity(2); try float(0); try integer(1)
            guard s[0].rank == 4, s[1].rank == 2, s[1][0] == s[0][0], s[1][1] == s[0][3] else {
                throw fail("scores must be [b, heads, q, k] and mask [b, k], got \(s[0]) and \(s[1])")
            }
            return [types[0]]
        case .reshape(let target):
            try arity(1)
            // Symbolic dims must carry over one for one; fixed dims must keep the product.
            let sym = { (sh: Shape) in sh.dims.filter { if case .symbol = $0 { return true } else { return false } } }
            guard let from = GraphLimits.product(s[0].fixedSizes, limit: .max),
                  let to = GraphLimits.product(target.fixedSizes, limit: .max) else {
                throw fail("the sizes of \(s[0]) or \(target) overflow")
            }
            guard sym(target) == sym(s[0]), from == to else {
                throw fail("cannot reshape \(s[0]) to \(target)")
            }
            return [TensorType(types[0].dtype, target)]
        case .transpose(let perm):
            try arity(1)
            guard perm.count == s[0].rank, Set(perm) == Set(0..<s[0].rank) else {
                throw fail("perm \(perm) is not a permutation of \(s[0].rank) dims")
            }
            return [TensorType(types[0].dtype, Shape(perm.map { s[0][$0] }))]
        case .softmaxCrossEntropy, .softmaxCrossEntropyGrad:
            return try loss(("logits", "[b, c]"), ("labels", "[b]"), integerTargets: true, columns: nil,
                            gradient: self == .softmaxCrossEntropyGrad)
        case .meanSquaredError, .meanSquaredErrorGrad:
            return try loss(("predictions", "[b, 1]"), ("targets", "[b]"), integerTargets: false, columns: .fixed(1),
                            gradient: self == .meanSquaredErrorGrad)
        case .maskedSoftmaxCrossEntropy, .maskedSoftmaxCrossEntropyGrad:
            let first = self == .maskedSoftmaxCrossEntropyGrad ? 1 : 0
            try arity(first + 3)
            for i in 0...first { try float(i) }
            try integer(first + 1); try integer(first + 2)
            guard first == 0 || s[0].rank == 0 else { throw fail("dloss must be [], got \(s[0])") }
            let (logits, mask, positions) = (s[first], s[first + 1], s[first + 2])
            guard logits.rank == 2, mask == logits, positions == Shape([logits[0]]) else {
                throw fail("logits must be [b, s], mask [b, s] and positions [b], got \(logits), \(mask) and \(positions)")
            }
            return [first == 0 ? f32(Shape([Dim]())) : types[1]]
        case .fill(_, let shape):
            try arity(0)
            return [f32(shape)]
        case .linear:
            try arity(3); try float(0); try float(1); try float(2)
            guard s[0].rank >= 1, s[1].rank == 2, s[0].last! == s[1][1], s[2] == Shape([s[1][0]]) else {
                throw fail("expects x [..., in], w [out, in], b [out], got \(s[0]), \(s[1]), \(s[2])")
            }
            return [f32(Shape(s[0].dims.dropLast() + [s[1][0]]))]
        case .addLayerNorm:
            try arity(4); try float(0); try float(1); try float(2); try float(3); try same(0, 1)
            guard let h = s[0].last, s[2] == Shape([h]), s[3] == Shape([h]) else {
                throw fail("gamma \(s[2]) and beta \(s[3]) must be [\(s[0].last?.description ?? "?")] for x \(s[0])")
            }
            return [types[0]]
        case .geluGradSum:
            try arity(2); try float(0); try float(1); try same(0, 1)
            guard let n = s[0].last else { throw fail("dy must have a last dim, got \(s[0])") }
            return [types[0], f32(Shape([n]))]
        case .attention(let heads, _):
            try arity(4); try float(0); try float(1); try float(2); try integer(3); try same(1, 2)
            guard s[1].rank == 3, let h = s[1].last, case .fixed(let width) = h,
                  heads > 0, width % heads == 0 else {
                throw fail("k must be [b, sk, h] with h a multiple of \(heads) heads, got \(s[1])")
            }
            guard (s[0].rank == 3 || s[0].rank == 2), s[0][0] == s[1][0], s[0].last == h else {
                throw fail("q must be [b, sq, \(h)] or [b, \(h)] for k \(s[1]), got \(s[0])")
            }
            guard s[3] == Shape([s[1][0], s[1][1]]) else {
                throw fail("mask must be [b, sk] = [\(s[1][0]), \(s[1][1])], got \(s[3])")
            }
            return [types[0]]
        }
    }
}
