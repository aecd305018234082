import BertGraph

/// Sizes of the tiny BERT classifier fixture.
struct TinyBertSizes {
    var vocab = 20, maxPositions = 16, typeVocab = 2, hidden = 8, heads = 2, intermediate = 16
    var layers = 2, labels = 3
    var headDim: Int { hidden / heads }
}

/// An inference BERT classifier laid out as CONTRACTS.md describes (HF parameter names,
/// linear = matmul with transpose_b then add bias), small enough for debug-build tests.
func tinyBertGraph(_ c: TinyBertSizes = TinyBertSizes()) throws -> Graph {
    var g = Graph(name: "bert_classifier")
    let H = Dim.fixed(c.hidden)
    let ids = g.addInput("input_ids", .i32(.batch, .seq))
    let types = g.addInput("token_type_ids", .i32(.batch, .seq))
    let mask = g.addInput("attention_mask", .i32(.batch, .seq))
    func param(_ name: String, _ dims: Int...) -> ValueID { g.addParameter(name, TensorType(.float32, Shape(dims))) }
    func linear(_ x: ValueID, _ prefix: String, out: Int, inp: Int, name: String) throws -> ValueID {
        let w = param("\(prefix).weight", out, inp), b = param("\(prefix).bias", out)
        let y = try g.apply1(.matmul(transposeA: false, transposeB: true), [x, w], name: "\(name).matmul")
        return try g.apply1(.add, [y, b], name: name)
    }
    func layerNorm(_ x: ValueID, _ prefix: String, name: String) throws -> ValueID {
        try g.apply1(.layerNorm(epsilon: 1e-12), [x, param("\(prefix).weight", c.hidden), param("\(prefix).bias", c.hidden)], name: name)
    }

    let e = "bert.embeddings"
    let word = try g.apply1(.gather, [param("\(e).word_embeddings.weight", c.vocab, c.hidden), ids], name: "emb.word")
    let positions = try g.apply1(.positions, [ids], name: "emb.position_ids")
    let pos = try g.apply1(.gather, [param("\(e).position_embeddings.weight", c.maxPositions, c.hidden), positions], name: "emb.position")
    let type = try g.apply1(.gather, [param("\(e).token_type_embeddings.weight", c.typeVocab, c.hidden), types], name: "emb.type")
    let sum = try g.apply1(.add, [try g.apply1(.add, [word, pos], name: "emb.word_pos"), type], name: "emb.sum")
    var x = try layerNorm(sum, "\(e).LayerNorm", name: "emb.ln")

    for i in 0..<c.layers {
        let p = "bert.encoder.layer.\(i)", n = "layer\(i)"
        func heads(_ v: ValueID, _ what: String) throws -> ValueID {
            let r = try g.apply1(.reshape([.batch, .seq, .fixed(c.heads), .fixed(c.headDim)]), [v], name: "\(n).\(what).heads")
            return try g.apply1(.transpose([0, 2, 1, 3]), [r], name: "\(n).\(what).t")
        }
        let q = try heads(try linear(x, "\(p).attention.self.query", out: c.hidden, inp: c.hidden, name: "\(n).q"), "q")
        let k = try heads(try linear(x, "\(p).attention.self.key", out: c.hidden, inp: c.hidden, name: "\(n).k"), "k")
        let v = try heads(try linear(x, "\(p).attention.self.value", out: c.hidden, inp: c.hidden, name: "\(n).v"), "v")
        let scores = try g.apply1(.batchMatmul(transposeA: false, transposeB: true), [q, k], name: "\(n).scores")
        let scaled = try g.apply1(.scale(1 / Float(c.headDim).squareRoot()), [scores], name: "\(n).scaled")
        let probs = try g.apply1(.maskedSoftmax, [scaled, mask], name: "\(n).probs")
        let ctx = try g.apply1(.batchMatmul(transposeA: false, transposeB: false), [probs, v], name: "\(n).ctx")
        let ctxT = try g.apply1(.transpose([0, 2, 1, 3]), [ctx], name: "\(n).ctx.t")
        let merged = try g.apply1(.reshape([.batch, .seq, H]), [ctxT], name: "\(n).ctx.merged")
        let attn = try linear(merged, "\(p).attention.output.dense", out: c.hidden, inp: c.hidden, name: "\(n).attn")
        let res1 = try g.apply1(.add, [attn, x], name: "\(n).attn.residual")
        let ln1 = try layerNorm(res1, "\(p).attention.output.LayerNorm", name: "\(n).attn.ln")
        let inter = try linear(ln1, "\(p).intermediate.dense", out: c.intermediate, inp: c.hidden, name: "\(n).ffn.in")
        let act = try g.apply1(.gelu(.erf), [inter], name: "\(n).ffn.gelu")
        let out = try linear(act, "\(p).output.dense", out: c.hidden, inp: c.intermediate, name: "\(n).ffn.out")
        let res2 = try g.apply1(.add, [out, ln1], name: "\(n).ffn.residual")
        x = try layerNorm(res2, "\(p).output.LayerNorm", name: "\(n).ffn.ln")
    }
    let cls = try g.apply1(.select(axis: 1, index: 0), [x], name: "pooler.cls")
    let pooled = try g.apply1(.tanh, [try linear(cls, "bert.pooler.dense", out: c.hidden, inp: c.hidden, name: "pooler.dense")], name: "pooler.tanh")
    let logits = try linear(pooled, "classifier", out: c.labels, inp: c.hidden, name: "classifier.out")
    g.addOutput("logits", logits)
    try GraphVerifier.verify(g)
    return g
}
