// The ONNX mapping: one row per op. Each row appends the standard-domain (opset 17) nodes that
// compute the op, in the forms Hugging Face's PyTorch export emits, so that ONNX Runtime's BERT
// optimizer (onnxruntime.transformers) recognises and fuses them:
//   - linear layers: MatMul with the weight stored pre-transposed `[in, out]`, then Add(bias);
//   - attention: MatMul(q, Transpose(k)) -> Div(sqrt(d)) -> Add(mask) -> Softmax -> MatMul(v),
//     the mask as Unsqueeze, Unsqueeze, Cast, Sub(1, m), Mul(-10000) (built once, shared);
//   - GELU (erf): x*0.5 * (1 + Erf(x / sqrt 2)); GELU (tanh): the FastGelu Pow/Tanh pattern;
//   - position ids: Slice of a `[1, max_pos]` constant up to Shape(input_ids)[1].
// Training-only ops (gradients, losses, dropout, constants) are refused with a typed error.

import BertGraph

extension Op {
    /// Appends the ONNX nodes that compute `node` (index `index` in `context.graph`).
    func emitONNX(_ node: Node, index: Int, into c: inout ONNXEmitContext) throws {
        let nodeName = c.graph.nodeName(index)
        let ins = node.inputs
        let out = node.outputs[0]
        func trainingOnly() -> ONNXExportError { .trainingOnlyOp(op: name, node: nodeName) }
        func unsupported(_ detail: String) -> ONNXExportError { .unsupported(op: name, node: nodeName, detail: detail) }
        func shape(_ v: ValueID) -> Shape { c.graph.type(of: v).shape }

        switch self {
        case .gather:
            // ids keep a leading unit dim if they have one ([1, seq] position ids), as in HF.
            let table = try c.exact(ins[0])
            let ids = try c.broadcastable(ins[1])
            let lead = c.hasLeadingUnitDim(ins[1])
            c.builder.node("Gather", [table, ids], outputs: [c.define(out, leadingUnitDim: lead)],
                           attributes: [ONNXGraphBuilder.attribute("axis", int: 0)])

        case .positions:
            try emitPositions(ids: ins[0], output: out, nodeName: nodeName, into: &c)

        case .select(let axis, let index):
            let x = try c.exact(ins[0])
            let i = c.builder.scalar(Int64(index), named: "index_\(index)")
            c.builder.node("Gather", [x, i], outputs: [c.define(out)],
                           attributes: [ONNXGraphBuilder.attribute("axis", int: axis)])

        case .add, .mul:
            // The second operand broadcasts over leading dims (IR rule: it is a suffix).
            let x = try c.exact(ins[0])
            let y: String
            if shape(ins[1]).rank < shape(ins[0]).rank {
                y = try c.broadcastable(ins[1])
            } else {
                y = try c.exact(ins[1])
            }
            c.builder.node(self == .add ? "Add" : "Mul", [x, y], outputs: [c.define(out)])

        case .scale(let factor):
            // Div by 1/factor, as HF divides scores by sqrt(d): ORT's attention fusion finds the
            // mask by the first Mul feeding the scores' Add, so the scale must not be a Mul.
            let x = try c.exact(ins[0])
            if factor == 0 {
                c.builder.node("Mul", [x, c.builder.scalar(Float(0), named: "zero")], outputs: [c.define(out)])
            } else {
                let divisor = Float(1 / Double(factor))
                c.builder.node("Div", [x, c.builder.scalar(divisor, named: "divisor_\(divisor)")], outputs: [c.define(out)])
            }

        case .gelu(let approximation):
            try emitGelu(approximation, x: c.exact(ins[0]), output: out, nodeName: nodeName, into: &c)

        case .tanh:
            c.builder.node("Tanh", [try c.exact(ins[0])], outputs: [c.define(out)])

        case .relu:
            c.builder.node("Relu", [try c.exact(ins[0])], outputs: [c.define(out)])

        case .matmul(let transposeA, let transposeB):
            if transposeA {
                // a [..., m], b [..., n] -> a^T b [m, n] over all leading dims.
                guard case .fixed(let m) = shape(ins[0]).last!, case .fixed(let n) = shape(ins[1]).last! else {
                    throw unsupported("transpose_a needs fixed last dims, got \(shape(ins[0])) and \(shape(ins[1]))")
                }
                let a = c.builder.node("Reshape", [try c.exact(ins[0]), c.builder.vector([-1, Int64(m)], named: "shape")],
                                       named: "\(nodeName)/a_rows")
                let b = c.builder.node("Reshape", [try c.exact(ins[1]), c.builder.vector([-1, Int64(n)], named: "shape")],
                                       named: "\(nodeName)/b_rows")
                let at = c.builder.node("Transpose", [a], named: "\(nodeName)/a_t",
                                        attributes: [ONNXGraphBuilder.attribute("perm", ints: [1, 0])])
                c.builder.node("MatMul", [at, b], outputs: [c.define(out)])
                return
            }
            let a = try c.exact(ins[0])
            let b: String
            if transposeB, c.graph.values[ins[1]].role == .parameter {
                b = try c.parameter(ins[1], transposed: true)   // [in, out]: MatMul + Add fuse in ORT
            } else if transposeB {
                b = c.builder.node("Transpose", [try c.exact(ins[1])], named: "\(nodeName)/b_t",
                                   attributes: [ONNXGraphBuilder.attribute("perm", ints: [1, 0])])
            } else {
                b = try c.exact(ins[1])
            }
            c.builder.node("MatMul", [a, b], outputs: [c.define(out)])

        case .batchMatmul(let transposeA, let transposeB):
            func operand(_ k: Int, transposed: Bool) throws -> String {
                let x = try c.exact(ins[k])
                guard transposed else { return x }
                let r = shape(ins[k]).rank
                return c.builder.node("Transpose", [x], named: "\(nodeName)/\(k == 0 ? "a" : "b")_t",
                                      attributes: [ONNXGraphBuilder.attribute("perm", ints: Array(0..<(r - 2)) + [r - 1, r - 2])])
            }
            let a = try operand(0, transposed: transposeA)
            let b = try operand(1, transposed: transposeB)
            c.builder.node("MatMul", [a, b], outputs: [c.define(out)])

        case .layerNorm(let epsilon):
            c.builder.node("LayerNormalization", [try c.exact(ins[0]), try c.exact(ins[1]), try c.exact(ins[2])],
                           outputs: [c.define(out)],
                           attributes: [ONNXGraphBuilder.attribute("axis", int: -1),
                                        ONNXGraphBuilder.attribute("epsilon", float: epsilon)])

        case .maskedSoftmax:
            let scores = try c.exact(ins[0])
            let mask = try additiveMask(ins[1], into: &c)
            let masked = c.builder.node("Add", [scores, mask], named: "\(nodeName)/masked")
            c.builder.node("Softmax", [masked], outputs: [c.define(out)],
                           attributes: [ONNXGraphBuilder.attribute("axis", int: -1)])

        case .reshape(let target):
            let dims = try reshapeDims(from: shape(ins[0]), to: target, unsupported: unsupported)
            c.builder.node("Reshape", [try c.exact(ins[0]), c.builder.vector(dims, named: "shape")],
                           outputs: [c.define(out)])

        case .transpose(let perm):
            c.builder.node("Transpose", [try c.exact(ins[0])], outputs: [c.define(out)],
                           attributes: [ONNXGraphBuilder.attribute("perm", ints: perm)])

        case .gatherGrad, .selectGrad, .geluGrad, .tanhGrad, .reluGrad, .dropout, .dropoutGrad, .sumLeading,
             .layerNormGrad, .softmaxGrad, .softmaxCrossEntropy, .softmaxCrossEntropyGrad,
             .meanSquaredError, .meanSquaredErrorGrad, .maskedSoftmaxCrossEntropy, .maskedSoftmaxCrossEntropyGrad, .fill:
            throw trainingOnly()

        case .gatherRows, .scatterRows:
            throw unsupported("packed-token op: graphs built with packed tokens are for training; export the padded graph")

        case .linear, .addLayerNorm, .scaledMaskedSoftmax, .scaledSoftmaxGrad, .geluGradSum, .attention:
            throw unsupported("fused op: not exportable; export uses the unfused graph (Pipeline.export)")
        }
    }
}

// MARK: - Patterns

/// Position ids `[1, seq]` = Slice(position_ids `[1, max_pos]`, 0, Shape(ids)[1], axis 1), the
/// subgraph ORT's EmbedLayerNormalization fusion matches. `max_pos` is the row count of the
/// position table that the ids index.
private func emitPositions(ids: ValueID, output: ValueID, nodeName: String, into c: inout ONNXEmitContext) throws {
    let tables = c.consumers[output].compactMap { i -> Int? in
        let n = c.graph.nodes[i]
        guard n.op == .gather, n.inputs.count == 2, n.inputs[1] == output,
              case .fixed(let rows) = c.graph.type(of: n.inputs[0]).shape[0] else { return nil }
        return rows
    }
    guard let maxPositions = tables.max() else {
        throw ONNXExportError.unsupported(op: "positions", node: nodeName,
                                          detail: "position ids must index a table with a fixed row count")
    }
    let positionIDs = c.builder.uniqueName("position_ids")
    c.builder.addInitializer(name: positionIDs, dims: [1, maxPositions], int64s: (0..<Int64(maxPositions)).map { $0 })
    let idsName = try c.exact(ids)
    let shape = c.builder.node("Shape", [idsName], named: "\(nodeName)/ids_shape")
    let length = c.builder.node("Gather", [shape, c.builder.scalar(Int64(1), named: "one")], named: "\(nodeName)/seq_len",
                                attributes: [ONNXGraphBuilder.attribute("axis", int: 0)])
    let end = c.builder.node("Unsqueeze", [length, c.builder.vector([0], named: "axes_0")], named: "\(nodeName)/end")
    c.builder.node("Slice", [positionIDs, c.builder.vector([0], named: "axes_0"), end,
                             c.builder.vector([1], named: "axes_1"), c.builder.vector([1], named: "axes_1")],
                   outputs: [c.define(output, leadingUnitDim: true)])
}

/// GELU in the node patterns of Hugging Face's export: erf -> ORT `Gelu`, tanh -> `FastGelu`.
private func emitGelu(_ approximation: GeluApproximation, x: String, output: ValueID, nodeName: String,
                      into c: inout ONNXEmitContext) throws {
    let half = c.builder.node("Mul", [x, c.builder.scalar(Float(0.5), named: "half")], named: "\(nodeName)/half_x")
    let one = c.builder.scalar(Float(1), named: "one_f")
    switch approximation {
    case .erf:
        // x*0.5 * (1 + erf(x / sqrt(2)))
        let scaled = c.builder.node("Div", [x, c.builder.scalar(Float(2).squareRoot(), named: "sqrt_2")],
                                    named: "\(nodeName)/x_over_sqrt2")
        let erf = c.builder.node("Erf", [scaled], named: "\(nodeName)/erf")
        let sum = c.builder.node("Add", [erf, one], named: "\(nodeName)/one_plus_erf")
        c.builder.node("Mul", [half, sum], outputs: [c.define(output)])
    case .tanh:
        // x*0.5 * (1 + tanh(sqrt(2/pi) * (x + 0.044715 x^3)))
        let cube = c.builder.node("Pow", [x, c.builder.scalar(Float(3), named: "three")], named: "\(nodeName)/x_cubed")
        let term = c.builder.node("Mul", [cube, c.builder.scalar(Float(0.044715), named: "gelu_cubic")],
                                  named: "\(nodeName)/cubic_term")
        let inner = c.builder.node("Add", [x, term], named: "\(nodeName)/inner")
        let arg = c.builder.node("Mul", [inner, c.builder.scalar(Float((2.0 / Double.pi).squareRoot()), named: "sqrt_2_over_pi")],
                                 named: "\(nodeName)/tanh_arg")
        let t = c.builder.node("Tanh", [arg], named: "\(nodeName)/tanh")
        let sum = c.builder.node("Add", [t, one], named: "\(nodeName)/one_plus_tanh")
        c.builder.node("Mul", [half, sum], outputs: [c.define(output)])
    }
}

/// The additive attention mask `[b, 1, 1, k]` = (1 - float(mask)) * -10000 from `mask`
/// `int[b, k]`, built once per mask value and shared by every layer.
private func additiveMask(_ mask: ValueID, into c: inout ONNXEmitContext) throws -> String {
    if let built = c.additiveMasks[mask] { return built }
    let m = try c.exact(mask)
    let base = c.graph.values[mask].name
    let u1 = c.builder.node("Unsqueeze", [m, c.builder.vector([1], named: "axes_1")], named: "\(base)/unsqueeze_1")
    let u2 = c.builder.node("Unsqueeze", [u1, c.builder.vector([2], named: "axes_2")], named: "\(base)/unsqueeze_2")
    let f = c.builder.node("Cast", [u2], named: "\(base)/float",
                           attributes: [ONNXGraphBuilder.attribute("to", int: Onnx_TensorProto.DataType.float.rawValue)])
    let inverted = c.builder.node("Sub", [c.builder.scalar(Float(1), named: "one_f"), f], named: "\(base)/inverted")
    let additive = c.builder.node("Mul", [inverted, c.builder.scalar(Float(-10000), named: "mask_value")],
                                  named: "\(base)/additive")
    c.additiveMasks[mask] = additive
    return additive
}

/// The `shape` input of ONNX Reshape for IR `source -> target`: fixed dims as numbers, a
/// symbolic dim at the same position as in `source` as 0 (copy), one other symbolic dim as -1.
private func reshapeDims(from source: Shape, to target: Shape,
                         unsupported: (String) -> ONNXExportError) throws -> [Int64] {
    var dims: [Int64] = []
    var inferred = false
    for (i, d) in target.dims.enumerated() {
        switch d {
        case .fixed(let n):
            guard n > 0 else { throw unsupported("a zero-sized dim in \(target) would mean copy in ONNX Reshape") }
            dims.append(Int64(n))
        case .symbol:
            if i < source.rank, source[i] == d {
                dims.append(0)
            } else if !inferred {
                inferred = true
                dims.append(-1)
            } else {
                throw unsupported("\(source) -> \(target) moves more than one symbolic dim")
            }
        }
    }
    return dims
}
