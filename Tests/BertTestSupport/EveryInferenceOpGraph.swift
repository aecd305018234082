// A small graph that uses every exportable op in every form the mapping distinguishes:
// matmul with a parameter, a computed matrix (transposed and not) and transpose_a;
// batch_matmul with either operand transposed; reshape that copies dims (0) and infers one
// (-1); select on an inner axis; position ids broadcast (leading unit dim) and used at their
// exact shape (Squeeze); a graph output that needs a Squeeze. Hidden 8, 2 heads of 4.

import BertGraph

public enum EveryInferenceOpGraph {
    public static func build() throws -> Graph {
        var g = Graph(name: "every_inference_op")
        let ids = g.addInput("input_ids", .i32(.batch, .seq))
        let mask = g.addInput("attention_mask", .i32(.batch, .seq))
        let table = g.addParameter("table", .f32(.fixed(10), .fixed(8)))
        let w = g.addParameter("dense.weight", .f32(.fixed(8), .fixed(8)))
        let wPlain = g.addParameter("plain.weight", .f32(.fixed(8), .fixed(6)))
        let gamma = g.addParameter("norm.weight", .f32(.fixed(8)))
        let beta = g.addParameter("norm.bias", .f32(.fixed(8)))

        let emb = try g.apply1(.gather, [table, ids], name: "emb")
        let pos = try g.apply1(.positions, [ids], name: "position_ids")
        let posEmb = try g.apply1(.gather, [table, pos], name: "position_embeddings")
        let posTwice = try g.apply1(.add, [posEmb, posEmb], name: "positions_twice")          // [s, 8]: Squeeze
        let sum = try g.apply1(.add, [emb, posTwice], name: "sum")
        let prod = try g.apply1(.mul, [sum, emb], name: "prod")
        let scaled = try g.apply1(.scale(0.5), [prod], name: "scaled")
        let erf = try g.apply1(.gelu(.erf), [scaled], name: "gelu_erf")
        let approx = try g.apply1(.gelu(.tanh), [erf], name: "gelu_tanh")
        let th = try g.apply1(.tanh, [approx], name: "tanh")
        let h = try g.apply1(.matmul(transposeA: false, transposeB: true), [th, w], name: "dense")
        let narrow = try g.apply1(.matmul(transposeA: false, transposeB: false), [h, wPlain], name: "narrow")
        let ln = try g.apply1(.layerNorm(epsilon: 1e-5), [h, gamma, beta], name: "ln")
        let q = try g.apply1(.reshape([.batch, .seq, .fixed(2), .fixed(4)]), [ln], name: "heads")
        let qt = try g.apply1(.transpose([0, 2, 1, 3]), [q], name: "heads_t")
        let scores = try g.apply1(.batchMatmul(transposeA: false, transposeB: true), [qt, qt], name: "scores")
        let probs = try g.apply1(.maskedSoftmax, [scores, mask], name: "probs")
        let ctx = try g.apply1(.batchMatmul(transposeA: false, transposeB: false), [probs, qt], name: "ctx")
        let ctxT = try g.apply1(.batchMatmul(transposeA: true, transposeB: false), [qt, probs], name: "ctx_t")
        let moved = try g.apply1(.reshape([.batch, .seq, .fixed(8)]), [ctx], name: "moved")        // [0, -1, 8]
        let inner = try g.apply1(.select(axis: 2, index: 1), [ctx], name: "inner")
        let gram = try g.apply1(.matmul(transposeA: true, transposeB: false), [ln, h], name: "gram")
        let cls = try g.apply1(.select(axis: 1, index: 0), [ln], name: "cls")
        let projected = try g.apply1(.matmul(transposeA: false, transposeB: true), [cls, gram], name: "projected")

        for (name, v) in [("narrow", narrow), ("probs", probs), ("ctx_t", ctxT), ("moved", moved), ("inner", inner),
                          ("gram", gram), ("projected", projected), ("position_embeddings", posEmb)] {
            g.addOutput(name, v)
        }
        try GraphVerifier.verify(g)
        return g
    }
}
