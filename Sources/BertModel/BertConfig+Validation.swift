// Field-by-field checks of a model config, and of the batch and sequence length a command
// asks for, before anything is built or allocated. Every product of sizes is computed with
// overflow checks and compared against this machine's memory, so that a config with a huge
// hidden size or a `--seq-len 100000` is a clear error instead of an allocation abort or a
// trap deep inside a kernel.

import BertGraph
import Foundation

extension BertConfig {
    /// The `hidden_act` values bertc computes (all GELU forms; see `geluFor`).
    public static let knownActivations = ["gelu", "gelu_new", "gelu_pytorch_tanh", "gelu_fast", "gelu_exact", "gelu_erf"]
    /// More layers than any BERT has (BERT-large has 24); a larger count is a damaged config
    /// whose graph would take minutes to build.
    public static let maximumLayers = 1024

    /// The most memory one model may need: this machine's physical memory.
    public static var memoryLimit: Int { Int(clamping: ProcessInfo.processInfo.physicalMemory) }

    /// Checks every field: positive sizes, heads dividing the hidden size, dropout
    /// probabilities in [0, 1), a positive finite `layer_norm_eps`, a known `hidden_act`, and
    /// a parameter count and a longest-sequence activation size that fit in memory.
    /// - Parameter source: the config file (or bundle manifest) named in errors.
    /// - Throws: `ModelError.badConfig` naming `source` and the field.
    public func validate(source: String) throws {
        func bad(_ message: String) -> ModelError { .badConfig(source, message) }
        let sizes = [("vocab_size", vocabSize), ("hidden_size", hiddenSize), ("num_hidden_layers", numHiddenLayers),
                     ("num_attention_heads", numAttentionHeads), ("intermediate_size", intermediateSize),
                     ("max_position_embeddings", maxPositionEmbeddings), ("type_vocab_size", typeVocabSize)]
        for (key, value) in sizes where value <= 0 {
            throw bad("\(key) must be positive, got \(value)")
        }
        // Token, type and position ids are 32-bit in the graph.
        for (key, value) in [("vocab_size", vocabSize), ("type_vocab_size", typeVocabSize),
                             ("max_position_embeddings", maxPositionEmbeddings)] where value > Int(Int32.max) {
            throw bad("\(key) \(value) does not fit a 32-bit token id")
        }
        guard numHiddenLayers <= Self.maximumLayers else {
            throw bad("num_hidden_layers \(numHiddenLayers) is more than \(Self.maximumLayers)")
        }
        guard hiddenSize % numAttentionHeads == 0 else {
            throw bad("hidden_size \(hiddenSize) is not a multiple of num_attention_heads \(numAttentionHeads)")
        }
        for (key, p) in [("hidden_dropout_prob", hiddenDropoutProb), ("attention_probs_dropout_prob", attentionProbsDropoutProb)]
        where !(p >= 0 && p < 1) {
            throw bad("\(key) must be in [0, 1), got \(p)")
        }
        guard layerNormEps > 0, layerNormEps.isFinite else {
            throw bad("layer_norm_eps must be a positive finite number, got \(layerNormEps)")
        }
        guard initializerRange >= 0, initializerRange.isFinite else {
            throw bad("initializer_range must be a finite number >= 0, got \(initializerRange)")
        }
        guard Self.knownActivations.contains(hiddenAct) else {
            throw bad("hidden_act \"\(hiddenAct)\" is not supported (\(Self.knownActivations.joined(separator: ", ")))")
        }
        // Every weight matrix within what one tensor of a graph may hold.
        let matrices = [("vocab_size x hidden_size", [vocabSize, hiddenSize]),
                        ("max_position_embeddings x hidden_size", [maxPositionEmbeddings, hiddenSize]),
                        ("type_vocab_size x hidden_size", [typeVocabSize, hiddenSize]),
                        ("hidden_size x hidden_size", [hiddenSize, hiddenSize]),
                        ("intermediate_size x hidden_size", [intermediateSize, hiddenSize])]
        for (what, dims) in matrices where GraphLimits.product(dims) == nil {
            throw bad("\(what) = \(dims.map(String.init).joined(separator: " x ")) is more than the "
                + "\(GraphLimits.maxTensorElements) elements a weight may have")
        }
        let limit = Self.memoryLimit
        guard let parameters = parameterCount, let bytes = checkedProduct(parameters, 4), bytes <= limit else {
            throw bad("the model's \(parameterCount.map { "\($0)" } ?? "more than 2^63") parameters "
                + "(\(describeBytes(parameterCount.flatMap { checkedProduct($0, 4) }))) do not fit in this machine's "
                + "\(describeBytes(limit)) of memory; are hidden_size \(hiddenSize), intermediate_size "
                + "\(intermediateSize), vocab_size \(vocabSize) and max_position_embeddings \(maxPositionEmbeddings) right?")
        }
        guard let activations = activationBytes(batch: 1, sequenceLength: maxPositionEmbeddings, training: false),
              activations <= limit else {
            throw bad("one sequence of max_position_embeddings \(maxPositionEmbeddings) tokens needs "
                + "\(describeBytes(activationBytes(batch: 1, sequenceLength: maxPositionEmbeddings, training: false))) "
                + "of activations, more than this machine's \(describeBytes(limit)) of memory")
        }
    }

    /// Checks a batch shape a command asks for: the sequence length within
    /// `max_position_embeddings`, and the activations (with parameters, gradients and
    /// optimizer state when training) within this machine's memory.
    /// - Parameters:
    ///   - batch: sequences per batch, e.g. `--batch-size`.
    ///   - sequenceLength: tokens per sequence, e.g. `--seq-len`.
    ///   - source: the model (directory or config) named in errors.
    ///   - memoryLimit: the bytes allowed; `.max` only refuses sizes that overflow.
    /// - Throws: `ModelError.tooLarge` saying which number is too large.
    public func checkWorkload(batch: Int, sequenceLength: Int, training: Bool, source: String,
                              memoryLimit limit: Int = BertConfig.memoryLimit) throws {
        guard batch > 0, sequenceLength > 0 else {
            throw ModelError.tooLarge("batch size \(batch) and sequence length \(sequenceLength) must be positive")
        }
        guard sequenceLength <= maxPositionEmbeddings else {
            throw ModelError.tooLarge("sequence length \(sequenceLength) exceeds max_position_embeddings "
                + "\(maxPositionEmbeddings) of \(source)")
        }
        let state = training ? parameterCount.flatMap { checkedProduct($0, 16) } : parameterCount.flatMap { checkedProduct($0, 4) }
        let activations = activationBytes(batch: batch, sequenceLength: sequenceLength, training: training)
        let total = state.flatMap { s in activations.flatMap { a in checkedSum([s, a]) } }
        guard let total, total <= limit else {
            throw ModelError.tooLarge("a batch of \(batch) sequences of \(sequenceLength) tokens needs about "
                + "\(describeBytes(total)) of memory with \(source), more than "
                + (limit == .max ? "can be counted" : "this machine's \(describeBytes(limit))")
                + "; use a smaller batch size or sequence length")
        }
    }

    /// Parameters of the embeddings, encoder and pooler (the task head is a few more), or nil
    /// when the count does not fit in an `Int`.
    public var parameterCount: Int? {
        let h = hiddenSize, i = intermediateSize
        guard let embeddings = checkedSum([checkedProduct(checkedSum([vocabSize, maxPositionEmbeddings, typeVocabSize]), h),
                                           checkedProduct(2, h)]),
              let layer = checkedSum([checkedProduct(4, checkedSum([checkedProduct(h, h), h])),  // q, k, v, attention output
                                      checkedProduct(4, h),                                  // two LayerNorms
                                      checkedSum([checkedProduct(h, i), i]),                  // intermediate
                                      checkedSum([checkedProduct(i, h), h])]),                // output
              let pooler = checkedSum([checkedProduct(h, h), h])
        else { return nil }
        return checkedSum([embeddings, checkedProduct(numHiddenLayers, layer), pooler])
    }

    /// An estimate of the activation bytes of a batch: per token the hidden states, the
    /// intermediate layer and a row of attention scores per head, once for inference, once
    /// per layer when training keeps them for the backward pass. Nil when it overflows.
    func activationBytes(batch: Int, sequenceLength: Int, training: Bool) -> Int? {
        let perToken = checkedSum([checkedProduct(8, hiddenSize), checkedProduct(2, intermediateSize),
                                   checkedProduct(2, numAttentionHeads, sequenceLength)])
        let perBatch = checkedProduct(4, batch, sequenceLength, perToken)
        return training ? checkedProduct(numHiddenLayers, perBatch) : perBatch
    }
}

// MARK: - Checked arithmetic

/// The product of the factors, or nil when one is nil or negative or the product overflows.
func checkedProduct(_ factors: Int?...) -> Int? {
    var product = 1
    for factor in factors {
        guard let factor, factor >= 0 else { return nil }
        let (next, overflow) = product.multipliedReportingOverflow(by: factor)
        guard !overflow else { return nil }
        product = next
    }
    return product
}

/// The sum of the terms, or nil when one is nil or negative or the sum overflows.
func checkedSum(_ terms: [Int?]) -> Int? {
    var sum = 0
    for term in terms {
        guard let term, term >= 0 else { return nil }
        let (next, overflow) = sum.addingReportingOverflow(term)
        guard !overflow else { return nil }
        sum = next
    }
    return sum
}

/// 3.4 GB; "more than 9.2 EB" for nil (an overflowed size).
func describeBytes(_ bytes: Int?) -> String {
    guard let bytes else { return "more than 9.2 EB" }
    let units = ["bytes", "KB", "MB", "GB", "TB", "PB", "EB"]
    var value = Double(bytes), unit = 0
    while value >= 1000, unit < units.count - 1 {
        value /= 1000
        unit += 1
    }
    return unit == 0 ? "\(bytes) bytes" : String(format: "%.1f ", value) + units[unit]
}
