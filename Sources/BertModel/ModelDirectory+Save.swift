// Writing model directories: `save` stages a fine-tuned model beside its destination and
// publishes it with `replace`, which run directories use for their checkpoints too.

import BertGraph
import BertRuntime
import Foundation

extension ModelDirectory {
    /// Writes a fine-tuned model directory at `destination`: Hugging Face `config.json` (with
    /// task, labels and the GELU form spelled so Hugging Face computes the same function),
    /// `model.safetensors` and `vocab.txt`. Written beside the destination and renamed into
    /// place, so a failure never leaves a half-written model over a good one. `span` marks a
    /// span head (`BertForQuestionAnswering`), which has no labels.
    public static func save(to destination: URL, config: BertConfig, labels: [String]?, regression: Bool,
                            span: Bool = false, task: String?, parameters: ParameterStore, vocab: URL,
                            lowercase: Bool) throws {
        let fm = FileManager.default
        let staging = AtomicReplace.stagingURL(for: destination)
        do {
            _ = try AtomicReplace.makeStagingFolder(for: destination)
            try configJSON(config, labels: labels, regression: regression, span: span, task: task)
                .write(to: staging.appendingPathComponent("config.json"))
            var tensors: [String: HostTensor] = [:]
            for name in parameters.names { tensors[name] = parameters.tensor(name)! }
            try SafetensorsWriter.write(tensors, metadata: ["format": "pt", "producer": BertcVersion.name],
                                        to: staging.appendingPathComponent("model.safetensors"))
            try fm.copyItem(at: vocab, to: staging.appendingPathComponent("vocab.txt"))
            try JSONSerialization.data(withJSONObject: ["do_lower_case": lowercase, "tokenizer_class": "BertTokenizer"],
                                       options: [.sortedKeys])
                .write(to: staging.appendingPathComponent("tokenizer_config.json"))
            try replace(destination, with: staging)
        } catch {
            try? fm.removeItem(at: staging)
            throw error
        }
    }

    /// Moves `staging` (beside `destination`) to `destination` atomically, replacing what was
    /// there: the old version stays in place until the new one is (see `AtomicReplace`).
    public static func replace(_ destination: URL, with staging: URL) throws {
        try AtomicReplace.publish(staging, to: destination, replacing: true)
    }

    static func configJSON(_ c: BertConfig, labels: [String]?, regression: Bool, span: Bool = false,
                           task: String?) throws -> Data {
        var object: [String: Any] = [
            "architectures": [span ? spanArchitecture : "BertForSequenceClassification"], "model_type": "bert",
            "vocab_size": c.vocabSize, "hidden_size": c.hiddenSize, "num_hidden_layers": c.numHiddenLayers,
            "num_attention_heads": c.numAttentionHeads, "intermediate_size": c.intermediateSize,
            "hidden_act": c.geluApproximation == .erf ? "gelu" : "gelu_new",
            "hidden_dropout_prob": c.hiddenDropoutProb, "attention_probs_dropout_prob": c.attentionProbsDropoutProb,
            "max_position_embeddings": c.maxPositionEmbeddings, "type_vocab_size": c.typeVocabSize,
            "initializer_range": c.initializerRange, "layer_norm_eps": c.layerNormEps,
            "pad_token_id": 0, "position_embedding_type": "absolute",
        ]
        if let task { object["finetuning_task"] = task }
        if span {
            // Hugging Face's question answering configs carry no labels.
        } else if regression {
            object["problem_type"] = "regression"
            object["num_labels"] = 1
        } else if let labels {
            object["id2label"] = Dictionary(uniqueKeysWithValues: labels.enumerated().map { (String($0.offset), $0.element) })
            object["label2id"] = Dictionary(uniqueKeysWithValues: labels.enumerated().map { ($0.element, $0.offset) })
            object["problem_type"] = "single_label_classification"
        }
        return try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
    }
}
