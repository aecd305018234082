import BertGraph

/// The task head: on the pooled `[CLS]` vector (classification, regression) or on every
/// token of the last layer (span extraction).
public enum TaskHead: Hashable, Sendable {
    /// Dropout then dense to `labels` logits; loss: softmax cross-entropy.
    case classification(labels: Int)
    /// Dropout then dense to one output; loss: mean squared error (STS-B).
    case regression
    /// Dense `qa_outputs` from each token to a start and an end logit, as Hugging Face's
    /// `BertForQuestionAnswering` (no pooler, no dropout); outputs `start_logits` and
    /// `end_logits` [batch, seq]; loss: the mean of the start and end cross-entropies, each a
    /// softmax over the real tokens, against the inputs `start_positions` and `end_positions`
    /// (SQuAD, as run_squad.py).
    case span

    /// Outputs of the head's dense layer per pooled vector (classification, regression) or
    /// per token (span).
    public var outputCount: Int {
        switch self {
        case .classification(let n): return n
        case .regression: return 1
        case .span: return 2
        }
    }
}

/// What graph to build from a config.
public struct GraphOptions: Hashable, Sendable {
    /// Insert dropout nodes (training graphs only).
    public var dropout: Bool
    /// Add a `labels` input and a `loss` output.
    public var loss: Bool
    /// Also expose `pooled_output` [batch, hidden] and `sequence_output` [batch, seq, hidden].
    public var encoderOutputs: Bool
    /// The encoder's dense layers run on the real tokens only, packed into `[tokens, hidden]`
    /// rows; attention scatters them back to `[batch, seq]`. Adds the inputs `token_rows`
    /// i32[tokens] (row `b * seq + p` of each packed token) and `class_rows` i32[batch] (the
    /// packed row of each example's [CLS]); `InputBatch.make(packedRows:)` fills them. Padding
    /// rows never reach a real token, so only the products' row counts change. Not with
    /// `encoderOutputs`, whose sequence output has a row for every position. Dropout draws
    /// the masks of the padded positions, so training sees the same random draws.
    public var packedTokens: Bool

    public init(dropout: Bool, loss: Bool, encoderOutputs: Bool = false, packedTokens: Bool = false) {
        self.dropout = dropout
        self.loss = loss
        self.encoderOutputs = encoderOutputs
        self.packedTokens = packedTokens
    }

    /// Inference: logits only, no dropout.
    public static let inference = GraphOptions(dropout: false, loss: false)
    /// Evaluation: logits and loss, no dropout.
    public static let evaluation = GraphOptions(dropout: false, loss: true)
    /// Training forward graph: dropout, logits and loss (Differentiate adds the backward).
    public static let training = GraphOptions(dropout: true, loss: true)
}

/// Builds BERT (embeddings, encoder, pooler) plus a task head as one static graph with
/// symbolic `batch` and `seq` dims. Parameter names follow Hugging Face's
/// `BertForSequenceClassification` (`BertForQuestionAnswering` for the span head, which has
/// no pooler), in its layout (linear weights `[out, in]`).
public struct BertBuilder {
    public let config: BertConfig
    public let head: TaskHead
    public let options: GraphOptions

    private var g: Graph
    private var nextStream = 0
    /// The `token_rows` input when the encoder runs on packed tokens.
    private var tokenRows: ValueID?

    public init(config: BertConfig, head: TaskHead, options: GraphOptions) {
        self.config = config
        self.head = head
        self.options = options
        self.g = Graph(name: "bert")
    }

    /// Builds the graph.
    public static func build(_ config: BertConfig, head: TaskHead, options: GraphOptions) throws -> Graph {
        var b = BertBuilder(config: config, head: head, options: options)
        return try b.build()
    }

    // MARK: - Whole model

    private mutating func build() throws -> Graph {
        let h = Dim.fixed(config.hiddenSize)
        let ids = g.addInput("input_ids", .i32(.batch, .seq))
        let types = g.addInput("token_type_ids", .i32(.batch, .seq))
        let mask = g.addInput("attention_mask", .i32(.batch, .seq))
        if options.packedTokens && options.encoderOutputs {
            throw GraphError.malformed("BertBuilder: packed tokens leave out the padding rows that sequence_output has")
        }
        tokenRows = options.packedTokens ? g.addInput("token_rows", .i32(.tokens)) : nil

        // A pooled head reads only the [CLS] row of the last layer. Unless the sequence output
        // is asked for, the last layer computes that row alone: its keys and values still read
        // every token, but its query, output projection, FFN and LayerNorms see one row per
        // example. The arithmetic of that row is unchanged. The span head reads every token.
        var x = try embeddings(ids: ids, types: types)
        if let rows = tokenRows {
            x = try g.apply1(.gatherRows, [x, rows], name: "bert.encoder.packed")
        }
        let classTokenLayer = options.encoderOutputs || head == .span ? nil : config.numHiddenLayers - 1
        for i in 0..<config.numHiddenLayers where i != classTokenLayer {
            x = try encoderLayer(i, x, mask: mask)
        }
        let sequence = x
        if head == .span {
            try spanHead(sequence, mask: mask)
            return g
        }
        let cls: ValueID
        if let last = classTokenLayer, last >= 0 {
            let row = try classRow(of: x, name: "bert.encoder.layer.\(last).cls")
            cls = try encoderLayer(last, x, mask: mask, classToken: row)
        } else {
            cls = try classRow(of: sequence, name: "bert.pooler.cls")
        }
        let pooledLinear = try linear("bert.pooler.dense", cls, inputs: h, outputs: h)
        let pooled = try g.apply1(.tanh, [pooledLinear], name: "bert.pooler.output")

        let headInput = try dropout(pooled, rate: config.hiddenDropoutProb, name: "classifier.dropout")
        let logits = try linear("classifier", headInput, inputs: h, outputs: .fixed(head.outputCount))
        g.addOutput("logits", logits)
        if options.encoderOutputs {
            g.addOutput("pooled_output", pooled)
            g.addOutput("sequence_output", sequence)
        }
        if options.loss {
            let loss: ValueID
            switch head {
            case .classification:
                let labels = g.addInput("labels", .i32(.batch))
                loss = try g.apply1(.softmaxCrossEntropy, [logits, labels], name: GraphNames.loss)
            case .regression:
                let labels = g.addInput("labels", .f32(.batch))
                loss = try g.apply1(.meanSquaredError, [logits, labels], name: GraphNames.loss)
            case .span:
                throw GraphError.malformed("BertBuilder: the span head has no pooled logits")
            }
            g.addOutput(GraphNames.loss, loss)
        }
        return g
    }

    /// The span head on the last layer's tokens ([batch, seq, hidden], or [tokens, hidden]
    /// packed): `start_logits` and `end_logits` [batch, seq] and, with the loss,
    /// (CE(start) + CE(end)) / 2 as run_squad.py computes it, each softmax over the real
    /// tokens (`attention_mask`), so padding and packing leave the loss unchanged.
    private mutating func spanHead(_ sequence: ValueID, mask: ValueID) throws {
        var logits = try linear("qa_outputs", sequence, inputs: .fixed(config.hiddenSize), outputs: .fixed(head.outputCount))
        if let rows = tokenRows {
            logits = try g.apply1(.scatterRows(leading: [.batch, .seq]), [logits, rows], name: "qa_outputs.padded")
        }
        let start = try g.apply1(.select(axis: 2, index: 0), [logits], name: "qa_outputs.start")
        let end = try g.apply1(.select(axis: 2, index: 1), [logits], name: "qa_outputs.end")
        g.addOutput(GraphNames.startLogits, start)
        g.addOutput(GraphNames.endLogits, end)
        if options.encoderOutputs { g.addOutput("sequence_output", sequence) }
        guard options.loss else { return }
        let startPositions = g.addInput(GraphNames.startPositions, .i32(.batch))
        let endPositions = g.addInput(GraphNames.endPositions, .i32(.batch))
        let startLoss = try g.apply1(.maskedSoftmaxCrossEntropy, [start, mask, startPositions], name: "start_loss")
        let endLoss = try g.apply1(.maskedSoftmaxCrossEntropy, [end, mask, endPositions], name: "end_loss")
        let sum = try g.apply1(.add, [startLoss, endLoss], name: "span_loss_sum")
        g.addOutput(GraphNames.loss, try g.apply1(.scale(0.5), [sum], name: GraphNames.loss))
    }

    /// The [CLS] row of each example of `x` -> [batch, hidden]: position 0 of [batch, seq,
    /// hidden], or the `class_rows` of packed tokens.
    private mutating func classRow(of x: ValueID, name: String) throws -> ValueID {
        guard tokenRows != nil else { return try g.apply1(.select(axis: 1, index: 0), [x], name: name) }
        let classRows = g.addInput("class_rows", .i32(.batch))
        return try g.apply1(.gatherRows, [x, classRows], name: name)
    }

    // MARK: - Embeddings

    /// word + position + token type embeddings, LayerNorm, dropout -> [batch, seq, hidden]
    private mutating func embeddings(ids: ValueID, types: ValueID) throws -> ValueID {
        let h = Dim.fixed(config.hiddenSize)
        let p = "bert.embeddings"
        let word = g.addParameter("\(p).word_embeddings.weight", .f32(.fixed(config.vocabSize), h))
        let pos = g.addParameter("\(p).position_embeddings.weight", .f32(.fixed(config.maxPositionEmbeddings), h))
        let type = g.addParameter("\(p).token_type_embeddings.weight", .f32(.fixed(config.typeVocabSize), h))

        let w = try g.apply1(.gather, [word, ids], name: "\(p).word")
        let positionIDs = try g.apply1(.positions, [ids], name: "\(p).position_ids")
        let ps = try g.apply1(.gather, [pos, positionIDs], name: "\(p).position")
        let t = try g.apply1(.gather, [type, types], name: "\(p).token_type")
        let sum1 = try g.apply1(.add, [w, ps], name: "\(p).word_plus_position")
        let sum = try g.apply1(.add, [sum1, t], name: "\(p).sum")
        let normed = try layerNorm("\(p).LayerNorm", sum)
        return try dropout(normed, rate: config.hiddenDropoutProb, name: "\(p).dropout")
    }

    // MARK: - Encoder

    /// One transformer layer: self-attention, residual + LayerNorm, GELU FFN, residual + LayerNorm.
    /// With `classToken` (the [CLS] row of `x`, [batch, hidden]) only that row is computed and
    /// the result is [batch, hidden]; otherwise x's shape: [batch, seq, hidden], or [tokens,
    /// hidden] with packed tokens.
    private mutating func encoderLayer(_ i: Int, _ x: ValueID, mask: ValueID, classToken: ValueID? = nil) throws -> ValueID {
        let p = "bert.encoder.layer.\(i)"
        let h = Dim.fixed(config.hiddenSize)
        let attention = try selfAttention("\(p).attention.self", x, mask: mask, classToken: classToken)
        let projected = try linear("\(p).attention.output.dense", attention, inputs: h, outputs: h)
        // Packed rows draw the dropout masks of their padded positions.
        let rows = classToken == nil ? tokenRows : nil
        let dropped = try dropout(projected, rate: config.hiddenDropoutProb, name: "\(p).attention.output.dropout", rows: rows)
        let residual = try g.apply1(.add, [dropped, classToken ?? x], name: "\(p).attention.output.residual")
        let attended = try layerNorm("\(p).attention.output.LayerNorm", residual)

        let i_ = Dim.fixed(config.intermediateSize)
        let up = try linear("\(p).intermediate.dense", attended, inputs: h, outputs: i_)
        let act = try g.apply1(.gelu(config.geluApproximation), [up], name: "\(p).intermediate.gelu")
        let down = try linear("\(p).output.dense", act, inputs: i_, outputs: h)
        let dropped2 = try dropout(down, rate: config.hiddenDropoutProb, name: "\(p).output.dropout", rows: rows)
        let residual2 = try g.apply1(.add, [dropped2, attended], name: "\(p).output.residual")
        return try layerNorm("\(p).output.LayerNorm", residual2)
    }

    /// Multi-head self-attention with the padding mask -> [batch, seq, hidden], or
    /// [tokens, hidden] with packed tokens (before the output projection). With `classToken`
    /// ([batch, hidden]) only the [CLS] row queries, and the result is [batch, hidden].
    private mutating func selfAttention(_ p: String, _ x: ValueID, mask: ValueID, classToken: ValueID? = nil) throws -> ValueID {
        let h = Dim.fixed(config.hiddenSize)
        let heads = Dim.fixed(config.numAttentionHeads)
        let d = Dim.fixed(config.headSize)
        func split(_ name: String) throws -> ValueID {
            var y = try linear("\(p).\(name)", x, inputs: h, outputs: h)
            if let rows = tokenRows {
                y = try g.apply1(.scatterRows(leading: [.batch, .seq]), [y, rows], name: "\(p).\(name).padded")
            }
            let r = try g.apply1(.reshape([.batch, .seq, heads, d]), [y], name: "\(p).\(name).heads")
            return try g.apply1(.transpose([0, 2, 1, 3]), [r], name: "\(p).\(name).bhsd")
        }
        let q: ValueID
        if let row = classToken {
            // [batch, hidden] is already [batch, heads, 1, d] in memory.
            let y = try linear("\(p).query", row, inputs: h, outputs: h)
            q = try g.apply1(.reshape([.batch, heads, .fixed(1), d]), [y], name: "\(p).query.bhsd")
        } else {
            q = try split("query")
        }
        let k = try split("key")
        let v = try split("value")
        let scores = try g.apply1(.batchMatmul(transposeA: false, transposeB: true), [q, k], name: "\(p).scores")
        let scaled = try g.apply1(.scale(1 / Float(config.headSize).squareRoot()), [scores], name: "\(p).scaled_scores")
        let probs = try g.apply1(.maskedSoftmax, [scaled, mask], name: "\(p).probs")
        let dropped = try dropout(probs, rate: config.attentionProbsDropoutProb, name: "\(p).probs_dropout")
        let context = try g.apply1(.batchMatmul(transposeA: false, transposeB: false), [dropped, v], name: "\(p).context")
        if classToken != nil {
            return try g.apply1(.reshape([.batch, h]), [context], name: "\(p).context.merged")
        }
        let merged = try g.apply1(.transpose([0, 2, 1, 3]), [context], name: "\(p).context.bshd")
        let padded = try g.apply1(.reshape([.batch, .seq, h]), [merged], name: "\(p).context.merged")
        guard let rows = tokenRows else { return padded }
        return try g.apply1(.gatherRows, [padded, rows], name: "\(p).context.packed")
    }

    // MARK: - Layers

    /// x [..., in] W^T + b -> [..., out], with W `name.weight` [out, in] and b `name.bias` [out].
    private mutating func linear(_ name: String, _ x: ValueID, inputs: Dim, outputs: Dim) throws -> ValueID {
        let w = g.addParameter("\(name).weight", .f32(outputs, inputs))
        let b = g.addParameter("\(name).bias", .f32(outputs))
        let y = try g.apply1(.matmul(transposeA: false, transposeB: true), [x, w], name: "\(name).matmul")
        return try g.apply1(.add, [y, b], name: "\(name).out")
    }

    private mutating func layerNorm(_ name: String, _ x: ValueID) throws -> ValueID {
        let h = Dim.fixed(config.hiddenSize)
        let gamma = g.addParameter("\(name).weight", .f32(h))
        let beta = g.addParameter("\(name).bias", .f32(h))
        return try g.apply1(.layerNorm(epsilon: config.layerNormEps), [x, gamma, beta], name: "\(name).out")
    }

    /// Dropout when the options ask for it and the rate is positive; identity otherwise.
    /// - Parameter rows: for packed tokens, `token_rows`: each row draws the mask of its
    ///   padded position, so packing leaves the random draws as they were.
    private mutating func dropout(_ x: ValueID, rate: Float, name: String, rows: ValueID? = nil) throws -> ValueID {
        guard options.dropout, rate > 0 else { return x }
        defer { nextStream += 1 }
        return try g.apply1(.dropout(rate: rate, stream: nextStream), [x] + (rows.map { [$0] } ?? []), name: name)
    }
}
