import BertGraph
import BertText
import Foundation

/// A BERT architecture, read from TensorFlow's `bert_config.json` or Hugging Face's
/// `config.json` (same field names; HF adds `layer_norm_eps`).
///
/// `hidden_act: "gelu"` means different functions in the two families: google-research/bert
/// and Model Garden compute the tanh approximation, Hugging Face the exact erf form. The file
/// name decides which family a config came from; `gelu_new`, `gelu_pytorch_tanh` and
/// `gelu_fast` always mean tanh, `gelu_exact` and `gelu_erf` always erf.
public struct BertConfig: Codable, Hashable, Sendable {
    public var vocabSize: Int
    public var hiddenSize: Int
    public var numHiddenLayers: Int
    public var numAttentionHeads: Int
    public var intermediateSize: Int
    public var hiddenAct: String
    public var hiddenDropoutProb: Float
    public var attentionProbsDropoutProb: Float
    public var maxPositionEmbeddings: Int
    public var typeVocabSize: Int
    public var initializerRange: Float
    public var layerNormEps: Float
    /// Which GELU `hidden_act` stands for; set from the file's family when loading.
    public var geluApproximation: GeluApproximation

    enum CodingKeys: String, CodingKey {
        case vocabSize = "vocab_size", hiddenSize = "hidden_size", numHiddenLayers = "num_hidden_layers"
        case numAttentionHeads = "num_attention_heads", intermediateSize = "intermediate_size", hiddenAct = "hidden_act"
        case hiddenDropoutProb = "hidden_dropout_prob", attentionProbsDropoutProb = "attention_probs_dropout_prob"
        case maxPositionEmbeddings = "max_position_embeddings", typeVocabSize = "type_vocab_size"
        case initializerRange = "initializer_range", layerNormEps = "layer_norm_eps"
        case geluApproximation = "gelu_approximation"
    }

    public init(vocabSize: Int = 30522, hiddenSize: Int, numHiddenLayers: Int, numAttentionHeads: Int,
                intermediateSize: Int, hiddenAct: String = "gelu", hiddenDropoutProb: Float = 0.1,
                attentionProbsDropoutProb: Float = 0.1, maxPositionEmbeddings: Int = 512,
                typeVocabSize: Int = 2, initializerRange: Float = 0.02, layerNormEps: Float = 1e-12,
                geluApproximation: GeluApproximation = .erf) {
        self.vocabSize = vocabSize
        self.hiddenSize = hiddenSize
        self.numHiddenLayers = numHiddenLayers
        self.numAttentionHeads = numAttentionHeads
        self.intermediateSize = intermediateSize
        self.hiddenAct = hiddenAct
        self.hiddenDropoutProb = hiddenDropoutProb
        self.attentionProbsDropoutProb = attentionProbsDropoutProb
        self.maxPositionEmbeddings = maxPositionEmbeddings
        self.typeVocabSize = typeVocabSize
        self.initializerRange = initializerRange
        self.layerNormEps = layerNormEps
        self.geluApproximation = geluApproximation
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        vocabSize = try c.decode(Int.self, forKey: .vocabSize)
        hiddenSize = try c.decode(Int.self, forKey: .hiddenSize)
        numHiddenLayers = try c.decode(Int.self, forKey: .numHiddenLayers)
        numAttentionHeads = try c.decode(Int.self, forKey: .numAttentionHeads)
        intermediateSize = try c.decode(Int.self, forKey: .intermediateSize)
        hiddenAct = try c.decodeIfPresent(String.self, forKey: .hiddenAct) ?? "gelu"
        hiddenDropoutProb = try c.decodeIfPresent(Float.self, forKey: .hiddenDropoutProb) ?? 0.1
        attentionProbsDropoutProb = try c.decodeIfPresent(Float.self, forKey: .attentionProbsDropoutProb) ?? 0.1
        maxPositionEmbeddings = try c.decodeIfPresent(Int.self, forKey: .maxPositionEmbeddings) ?? 512
        typeVocabSize = try c.decodeIfPresent(Int.self, forKey: .typeVocabSize) ?? 2
        initializerRange = try c.decodeIfPresent(Float.self, forKey: .initializerRange) ?? 0.02
        layerNormEps = try c.decodeIfPresent(Float.self, forKey: .layerNormEps) ?? 1e-12
        geluApproximation = try c.decodeIfPresent(GeluApproximation.self, forKey: .geluApproximation) ?? .erf
    }

    /// The checkpoint family whose conventions a config file follows.
    public enum Family: Sendable {
        /// google-research/bert and Model Garden (`bert_config.json`): `"gelu"` is tanh.
        case tensorflow
        /// Hugging Face (`config.json`): `"gelu"` is erf.
        case huggingFace
    }

    /// Reads a config file; the family comes from the file name unless given.
    public static func load(_ url: URL, family: Family? = nil) throws -> BertConfig {
        let data: Data
        do { data = try FileAccess.read(url.path, limit: maximumFileSize, what: "a model config") } catch {
            throw ModelError.unreadable(url.path, FileAccess.reason(for: error))
        }
        let fam = family ?? (url.lastPathComponent == "bert_config.json" ? .tensorflow : .huggingFace)
        return try decode(data, file: url.path, family: fam)
    }

    /// Decodes and validates the bytes of a config file; `file` names it in errors.
    public static func decode(_ data: Data, file: String, family: Family) throws -> BertConfig {
        var config: BertConfig
        do { config = try JSONDecoder().decode(BertConfig.self, from: data) } catch {
            throw ModelError.badConfig(file, describe(error))
        }
        let explicit = (try? JSONSerialization.jsonObject(with: data) as? [String: Any])?["gelu_approximation"] != nil
        if !explicit { config.geluApproximation = try geluFor(act: config.hiddenAct, family: family, file: file) }
        try config.validate(source: file)
        return config
    }

    /// The largest config file read (a config with labels for every class of a large task is
    /// still a few megabytes).
    public static let maximumFileSize = 16 << 20

    static func geluFor(act: String, family: Family, file: String) throws -> GeluApproximation {
        switch act {
        case "gelu": return family == .tensorflow ? .tanh : .erf
        case "gelu_new", "gelu_pytorch_tanh", "gelu_fast": return .tanh
        case "gelu_exact", "gelu_erf": return .erf
        default: throw ModelError.badConfig(file, "hidden_act \"\(act)\" is not supported (gelu, gelu_new, gelu_pytorch_tanh)")
        }
    }

    public var headSize: Int { hiddenSize / numAttentionHeads }
}

private func describe(_ error: Error) -> String {
    switch error {
    case DecodingError.keyNotFound(let key, _): return "missing key \"\(key.stringValue)\""
    case DecodingError.typeMismatch(_, let ctx), DecodingError.valueNotFound(_, let ctx):
        return "bad value at \"\(ctx.codingPath.map(\.stringValue).joined(separator: "."))\": \(ctx.debugDescription)"
    case DecodingError.dataCorrupted(let ctx): return "not valid JSON: \(ctx.debugDescription)"
    default: return "\(error)"
    }
}
