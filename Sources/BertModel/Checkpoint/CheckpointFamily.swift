// The one table per checkpoint family that maps checkpoint tensor names to the graph's
// parameter names (Hugging Face BertForSequenceClassification names, HF layout), and says
// which checkpoint tensors are known to be irrelevant (optimizer state, pretraining heads,
// buffers) so that strict loading can ignore them instead of failing.

import Foundation

/// A naming convention of BERT checkpoints.
public enum CheckpointFamily: String, Sendable, CaseIterable, CustomStringConvertible {
    /// Hugging Face transformers: `bert.encoder.layer.0.attention.self.query.weight` (the
    /// `bert.` prefix is absent in bare BertModel checkpoints), linear weights [out, in].
    case huggingFace = "huggingface"
    /// google-research/bert and TF1 Model Garden: `bert/encoder/layer_0/attention/self/query/kernel`,
    /// dense kernels [in, out], LayerNorm `gamma`/`beta`, classifier `output_weights` [labels, hidden].
    case tensorFlow = "tensorflow"

    public var description: String {
        switch self {
        case .huggingFace: return "Hugging Face"
        case .tensorFlow: return "TensorFlow (google-research/bert)"
        }
    }

    /// What a checkpoint tensor is for the graph.
    public enum Role: Equatable, Sendable {
        /// The values of a graph parameter; `transposed` when stored as [in, out].
        case parameter(String, transposed: Bool)
        /// Known and deliberately not loaded (optimizer slots, pretraining heads, buffers).
        case ignored
        /// Not a BERT parameter this family knows.
        case unknown
    }

    /// The role of the checkpoint tensor `name` in this family.
    public func role(of name: String) -> Role {
        switch self {
        case .huggingFace: return Self.huggingFaceRole(name)
        case .tensorFlow: return Self.tensorFlowRole(name)
        }
    }

    // MARK: - Hugging Face

    private static func huggingFaceRole(_ name: String) -> Role {
        var bare = name.hasPrefix("bert.") ? String(name.dropFirst("bert.".count)) : name
        if bare == "embeddings.position_ids" || bare.hasPrefix("cls.") { return .ignored }
        if ["classifier.weight", "classifier.bias", "qa_outputs.weight", "qa_outputs.bias"].contains(bare) {
            return .parameter(bare, transposed: false)
        }
        // Checkpoints from before transformers 2.x name LayerNorm parameters gamma/beta.
        if bare.hasSuffix("LayerNorm.gamma") { bare = String(bare.dropLast("gamma".count)) + "weight" }
        if bare.hasSuffix("LayerNorm.beta") { bare = String(bare.dropLast("beta".count)) + "bias" }
        guard let parameter = match(bare, in: huggingFaceTable) else { return .unknown }
        return .parameter(parameter.name, transposed: parameter.transposed)
    }

    /// Bare HF names (no `bert.` prefix) -> graph names. `{i}` is a layer number.
    private static let huggingFaceTable: [NameRule] =
        ["embeddings.word_embeddings.weight", "embeddings.position_embeddings.weight",
         "embeddings.token_type_embeddings.weight", "embeddings.LayerNorm.weight", "embeddings.LayerNorm.bias",
         "pooler.dense.weight", "pooler.dense.bias"]
            .map { NameRule($0, "bert." + $0, transposed: false) }
        + ["attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense",
           "attention.output.LayerNorm", "intermediate.dense", "output.dense", "output.LayerNorm"]
            .flatMap { module in
                ["weight", "bias"].map {
                    NameRule("encoder.layer.{i}.\(module).\($0)", "bert.encoder.layer.{i}.\(module).\($0)", transposed: false)
                }
            }

    // MARK: - TensorFlow

    private static func tensorFlowRole(_ name: String) -> Role {
        let ignoredSuffixes = ["/adam_m", "/adam_v", "/Adam", "/Adam_1", "/Momentum"]
        let ignoredNames = ["global_step", "beta1_power", "beta2_power", "_CHECKPOINTABLE_OBJECT_GRAPH"]
        if let parameter = match(name, in: tensorFlowSpanHead) { return .parameter(parameter.name, transposed: parameter.transposed) }
        if name.hasPrefix("cls/") || ignoredNames.contains(name) || ignoredSuffixes.contains(where: name.hasSuffix) {
            return .ignored
        }
        guard let parameter = match(name, in: tensorFlowTable) else { return .unknown }
        return .parameter(parameter.name, transposed: parameter.transposed)
    }

    /// google-research/bert names (modeling.py, run_classifier.py) -> graph names.
    private static let tensorFlowTable: [NameRule] = [
        NameRule("bert/embeddings/word_embeddings", "bert.embeddings.word_embeddings.weight", transposed: false),
        NameRule("bert/embeddings/position_embeddings", "bert.embeddings.position_embeddings.weight", transposed: false),
        NameRule("bert/embeddings/token_type_embeddings", "bert.embeddings.token_type_embeddings.weight", transposed: false),
        NameRule("bert/embeddings/LayerNorm/gamma", "bert.embeddings.LayerNorm.weight", transposed: false),
        NameRule("bert/embeddings/LayerNorm/beta", "bert.embeddings.LayerNorm.bias", transposed: false),
        NameRule("bert/pooler/dense/kernel", "bert.pooler.dense.weight", transposed: true),
        NameRule("bert/pooler/dense/bias", "bert.pooler.dense.bias", transposed: false),
        // run_classifier.py creates output_weights as [num_labels, hidden]: already [out, in].
        NameRule("output_weights", "classifier.weight", transposed: false),
        NameRule("output_bias", "classifier.bias", transposed: false),
    ] + [
        ("attention/self/query", "attention.self.query"), ("attention/self/key", "attention.self.key"),
        ("attention/self/value", "attention.self.value"), ("attention/output/dense", "attention.output.dense"),
        ("intermediate/dense", "intermediate.dense"), ("output/dense", "output.dense"),
    ].flatMap { tf, hf in [
        NameRule("bert/encoder/layer_{i}/\(tf)/kernel", "bert.encoder.layer.{i}.\(hf).weight", transposed: true),
        NameRule("bert/encoder/layer_{i}/\(tf)/bias", "bert.encoder.layer.{i}.\(hf).bias", transposed: false),
    ] } + [
        ("attention/output/LayerNorm", "attention.output.LayerNorm"), ("output/LayerNorm", "output.LayerNorm"),
    ].flatMap { tf, hf in [
        NameRule("bert/encoder/layer_{i}/\(tf)/gamma", "bert.encoder.layer.{i}.\(hf).weight", transposed: false),
        NameRule("bert/encoder/layer_{i}/\(tf)/beta", "bert.encoder.layer.{i}.\(hf).bias", transposed: false),
    ] }

    /// run_squad.py's span head, created as [2, hidden] under the pretraining heads' `cls/`
    /// scope: already [out, in].
    private static let tensorFlowSpanHead: [NameRule] = [
        NameRule("cls/squad/output_weights", "qa_outputs.weight", transposed: false),
        NameRule("cls/squad/output_bias", "qa_outputs.bias", transposed: false),
    ]

    // MARK: - Matching

    /// A row of a family table: checkpoint pattern, graph pattern, layout. Patterns may hold
    /// one `{i}`, which matches a layer number and is copied into the graph name.
    private struct NameRule {
        var checkpoint: String
        var parameter: String
        var transposed: Bool

        init(_ checkpoint: String, _ parameter: String, transposed: Bool) {
            self.checkpoint = checkpoint
            self.parameter = parameter
            self.transposed = transposed
        }
    }

    private static func match(_ name: String, in table: [NameRule]) -> (name: String, transposed: Bool)? {
        for rule in table {
            guard let hole = rule.checkpoint.range(of: "{i}") else {
                if rule.checkpoint == name { return (rule.parameter, rule.transposed) }
                continue
            }
            let head = rule.checkpoint[..<hole.lowerBound], tail = rule.checkpoint[hole.upperBound...]
            guard name.count > head.count + tail.count, name.hasPrefix(head), name.hasSuffix(tail) else { continue }
            let layer = name.dropFirst(head.count).dropLast(tail.count)
            guard layer.allSatisfy(\.isASCII), let number = Int(layer), String(number) == layer else { continue }
            return (rule.parameter.replacingOccurrences(of: "{i}", with: layer), rule.transposed)
        }
        return nil
    }
}
