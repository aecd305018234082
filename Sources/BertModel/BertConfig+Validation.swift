// Field-by-field checks of a `BertConfig` read from a file (a model directory's config, a
// bundle manifest's `model.config`), with size limits, so that a hostile or careless config is
// refused with a message naming the field before any graph is built or memory allocated.

import BertGraph

extension BertConfig {
    /// The most float32 parameters a config may describe (2^32: 16 GiB).
    public static let maxParameters = 1 << 32

    /// Checks every field: positive sizes, heads dividing the hidden size, dropout rates in
    /// [0, 1), a positive finite LayerNorm epsilon, every weight matrix within
    /// `GraphLimits.maxTensorElements` and all of them within `maxParameters`.
    /// - Parameter source: the file (and field) the config came from, for the message.
    /// - Throws: `ModelError.badConfig(source, reason)` naming the field and its value.
    public func validate(source: String) throws {
        func bad(_ m: String) -> ModelError { .badConfig(source, m) }
        let sizes = [("vocab_size", vocabSize), ("hidden_size", hiddenSize), ("num_hidden_layers", numHiddenLayers),
                     ("num_attention_heads", numAttentionHeads), ("intermediate_size", intermediateSize),
                     ("max_position_embeddings", maxPositionEmbeddings), ("type_vocab_size", typeVocabSize)]
        for (key, value) in sizes where value <= 0 { throw bad("\(key) must be positive, got \(value)") }
        guard hiddenSize % numAttentionHeads == 0 else {
            throw bad("hidden_size \(hiddenSize) is not a multiple of num_attention_heads \(numAttentionHeads)")
        }
        for (key, p) in [("hidden_dropout_prob", hiddenDropoutProb), ("attention_probs_dropout_prob", attentionProbsDropoutProb)]
        where !(p >= 0 && p < 1) {
            throw bad("\(key) must be in [0, 1), got \(p)")
        }
        guard layerNormEps > 0, layerNormEps.isFinite else {
            throw bad("layer_norm_eps must be positive and finite, got \(layerNormEps)")
        }
        guard initializerRange >= 0, initializerRange.isFinite else {
            throw bad("initializer_range must be non-negative and finite, got \(initializerRange)")
        }

        // Every matrix, then the total.
        let matrices = [("vocab_size x hidden_size", [vocabSize, hiddenSize]),
                        ("max_position_embeddings x hidden_size", [maxPositionEmbeddings, hiddenSize]),
                        ("type_vocab_size x hidden_size", [typeVocabSize, hiddenSize]),
                        ("hidden_size x hidden_size", [hiddenSize, hiddenSize]),
                        ("intermediate_size x hidden_size", [intermediateSize, hiddenSize])]
        for (what, dims) in matrices where GraphLimits.product(dims) == nil {
            throw bad("\(what) = \(dims.map(String.init).joined(separator: " x ")) is more than the "
                + "\(GraphLimits.maxTensorElements) elements a weight may have")
        }
        guard let total = parameterCount, total <= Self.maxParameters else {
            throw bad("\(numHiddenLayers) layers of hidden_size \(hiddenSize) and intermediate_size \(intermediateSize) "
                + "are more than the \(Self.maxParameters) parameters a model may have")
        }
    }

    /// The encoder's and embeddings' parameter count (pooler included, head excluded), or nil
    /// when it overflows.
    var parameterCount: Int? {
        let h = hiddenSize, i = intermediateSize
        // Per layer: Q, K, V, attention output (h x h + h each), two LayerNorms (2h each),
        // intermediate (i x h + i), output (h x i + h).
        guard let square = GraphLimits.product([h, h], limit: .max),
              let ffn = GraphLimits.product([2, h, i], limit: .max),
              let perLayer = GraphLimits.product([4, square + h], limit: .max).map({ $0 + 4 * h + ffn + i + h }),
              let layers = GraphLimits.product([numHiddenLayers, perLayer], limit: .max),
              let embeddings = GraphLimits.product([vocabSize + maxPositionEmbeddings + typeVocabSize, h], limit: .max)
        else { return nil }
        let (sum, overflow) = layers.addingReportingOverflow(embeddings + square + 3 * h)
        return overflow ? nil : sum
    }
}
