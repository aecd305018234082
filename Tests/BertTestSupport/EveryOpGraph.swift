import BertGraph

/// A small graph that applies every op at least once, built with `Graph.apply`, with the
/// symbolic dims given so tests can build the specialised twin directly. Declarations are
/// interleaved (a parameter and an input are added after nodes) and one name needs quotes.
/// Hidden width 8, 2 heads of 4, table of 10 rows, 3 labels.
public func everyOpGraph(batch: Dim = .batch, seq: Dim = .seq) throws -> Graph {
    var g = Graph(name: "every_op")
    let ids = g.addInput("input_ids", TensorType(.int32, [batch, seq]))
    let mask = g.addInput("attention_mask", TensorType(.int32, [batch, seq]))
    let table = g.addParameter("embeddings.weight", .f32(.fixed(10), .fixed(8)))
    let w = g.addParameter("dense.weight", .f32(.fixed(8), .fixed(8)))
    let gamma = g.addParameter("LayerNorm.weight", .f32(.fixed(8)))
    let beta = g.addParameter("LayerNorm.bias", .f32(.fixed(8)))

    let emb = try g.apply1(.gather, [table, ids], name: "emb.word")
    let pos = try g.apply1(.positions, [ids], name: "emb.position_ids")
    let posEmb = try g.apply1(.gather, [table, pos], name: "emb.position")
    let sum = try g.apply1(.add, [emb, posEmb], name: "emb.sum")
    let prod = try g.apply1(.mul, [sum, emb], name: "emb.prod")
    let scaled = try g.apply1(.scale(1 / 3), [prod], name: "scaled value")  // quoted in text
    let erf = try g.apply1(.gelu(.erf), [scaled], name: "gelu.erf")
    let approx = try g.apply1(.gelu(.tanh), [erf], name: "gelu.tanh")
    let th = try g.apply1(.tanh, [approx], name: "tanh")
    let drop = try g.apply1(.dropout(rate: 0.1, stream: 3), [th], name: "dropout")
    let h = try g.apply1(.matmul(transposeA: false, transposeB: true), [drop, w], name: "dense")
    let ln = try g.apply1(.layerNorm(epsilon: 1e-12), [h, gamma, beta], name: "ln")
    let q = try g.apply1(.reshape(Shape([batch, seq, .fixed(2), .fixed(4)])), [ln], name: "q.heads")
    let qt = try g.apply1(.transpose([0, 2, 1, 3]), [q], name: "q.t")
    let scores = try g.apply1(.batchMatmul(transposeA: false, transposeB: true), [qt, qt], name: "scores")
    let probs = try g.apply1(.maskedSoftmax, [scores, mask], name: "probs")
    let ctx = try g.apply1(.batchMatmul(transposeA: false, transposeB: false), [probs, qt], name: "ctx")
    let cls = try g.apply1(.select(axis: 1, index: 0), [ln], name: "cls")

    // Declared late: the text must keep these between the nodes to keep the value ids.
    let classifier = g.addParameter("classifier.weight", .f32(.fixed(3), .fixed(8)))
    let regressor = g.addParameter("regressor.weight", .f32(.fixed(1), .fixed(8)))
    let labels = g.addInput("labels", TensorType(.int32, [batch]))
    let targets = g.addInput("targets", TensorType(.float32, [batch]))

    let logits = try g.apply1(.matmul(transposeA: false, transposeB: true), [cls, classifier], name: "logits")
    let loss = try g.apply1(.softmaxCrossEntropy, [logits, labels], name: "loss")
    let seed = try g.apply1(.fill(value: 1, shape: []), [], name: "dloss")
    let dlogits = try g.apply1(.softmaxCrossEntropyGrad, [seed, logits, labels], name: "dlogits")
    let pred = try g.apply1(.matmul(transposeA: false, transposeB: true), [cls, regressor], name: "pred")
    let mse = try g.apply1(.meanSquaredError, [pred, targets], name: "mse")
    let dpred = try g.apply1(.meanSquaredErrorGrad, [seed, pred, targets], name: "dpred")
    // The span loss: a start logit per position against a position per example.
    let start = try g.apply1(.select(axis: 2, index: 0), [ln], name: "start_logits")
    let spanLoss = try g.apply1(.maskedSoftmaxCrossEntropy, [start, mask, labels], name: "span_loss")
    let dstart = try g.apply1(.maskedSoftmaxCrossEntropyGrad, [seed, start, mask, labels], name: "dstart")
    let dcls = try g.apply1(.selectGrad(axis: 1, index: 0, size: seq), [cls], name: "dcls")
    let dprobs = try g.apply1(.softmaxGrad, [scores, probs], name: "dprobs")
    let dth = try g.apply1(.tanhGrad, [dcls, th], name: "dtanh")
    let rect = try g.apply1(.relu, [th], name: "relu")
    let drect = try g.apply1(.reluGrad, [dcls, rect], name: "drelu")
    let dgelu = try g.apply1(.geluGrad(.tanh), [dth, erf], name: "dgelu")
    let ddrop = try g.apply1(.dropoutGrad(rate: 0.1, stream: 3), [dgelu], name: "ddrop")
    let dln = try g.apply(.layerNormGrad(epsilon: 1e-12), [ddrop, h, gamma], name: "dln")
    let dw = try g.apply1(.matmul(transposeA: true, transposeB: false), [dln[0], drop], name: "grad:dense.weight")
    let db = try g.apply1(.sumLeading(keepRank: 1), [dln[0], ], name: "dbias")
    let dtable = try g.apply1(.gatherGrad(rows: 10), [dln[0], ids], name: "grad:embeddings.weight")
    let fill = try g.apply1(.fill(value: -0.0, shape: Shape([batch, .fixed(2)])), [], name: "zeros")
    // Packed tokens: rows of ln picked by an integer input, and put back.
    let packed = try g.apply1(.gatherRows, [ln, labels], name: "packed")
    let unpacked = try g.apply1(.scatterRows(leading: Shape([batch, seq])), [packed, labels], name: "unpacked")

    // Fused ops (FuseOps makes them; here applied directly).
    let linear = try g.apply1(.linear(activation: .identity), [ln, w, beta], name: "linear")
    let linearGelu = try g.apply1(.linear(activation: .gelu(.tanh)), [ln, w, gamma], name: "linear.gelu")
    let addNorm = try g.apply1(.addLayerNorm(epsilon: 1e-12), [linear, linearGelu, gamma, beta], name: "add_ln")
    let scaledProbs = try g.apply1(.scaledMaskedSoftmax(factor: 0.5), [scores, mask], name: "scaled_probs")
    let dscaled = try g.apply1(.scaledSoftmaxGrad(factor: 0.5), [scores, scaledProbs], name: "dscaled")
    let dgeluSum = try g.apply(.geluGradSum(.erf), [dth, erf], name: "dgelu_sum")
    let attention = try g.apply1(.attention(heads: 2, factor: 0.5), [ln, ln, linear, mask], name: "attention")

    for (name, v) in [("loss", loss), ("mse", mse), ("dlogits", dlogits), ("dpred", dpred),
                      ("dprobs", dprobs), ("ctx", ctx), ("grad:dense.weight", dw), ("grad:LayerNorm.weight", dln[1]),
                      ("grad:LayerNorm.bias", dln[2]), ("dbias", db), ("grad:embeddings.weight", dtable),
                      ("zeros", fill), ("echo ids", ids), ("add_ln", addNorm), ("dscaled", dscaled),
                      ("dgelu_sum.dx", dgeluSum[0]), ("dgelu_sum.sum", dgeluSum[1]), ("unpacked", unpacked),
                      ("attention", attention), ("drelu", drect), ("span_loss", spanLoss), ("dstart", dstart)] {
        g.addOutput(name, v)
    }
    try GraphVerifier.verify(g)
    return g
}
