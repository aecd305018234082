// Hostile checkpoints, configs and model directories: the files of Tests/Malformed/readers
// (made by tools/make_malformed_readers.py, with valid checksums) must be refused with an error
// naming the file and the tensor or field, before anything is allocated from their numbers.

import BertGraph
@testable import BertModel
import BertTestSupport
import Foundation
import XCTest

final class HostileModelFileTests: XCTestCase {
    static let corpus = TestPaths.root.appendingPathComponent("Tests/Malformed/readers")
    /// The corpus model: vocab 64, hidden 16, 2 layers, 32 positions, MRPC's 2 labels.
    static let tiny = BertSizes(layers: 2, hidden: 16, intermediate: 32, vocab: 64, maxPositions: 32, typeVocab: 2, labels: 2)
    static let bias = "bert/pooler/dense/bias"

    // MARK: - TensorFlow indexes

    func testHostileDimsAndOffsetsAreRefusedWhenTheIndexOpens() throws {
        let cases = [("dims-2p40", "2^63 elements"), ("dim-near-2p63", "more than 2^63 bytes"),
                     ("offset-near-2p63", "overflows"), ("size-2p62", "index records 4611686018427387904")]
        for (name, detail) in cases {
            let index = Self.corpus.appendingPathComponent("tf/\(name).index")
            assertThrows(try TFCheckpointReader(url: index)) { error in
                guard case .malformedTensor(let file, let tensor, let message) = error else { return XCTFail("\(name): \(error)") }
                XCTAssertEqual(file, index.path, name)
                XCTAssertEqual(tensor, Self.bias, name)
                XCTAssertTrue(message.contains(detail), "\(name): \(message)")
            }
        }
    }

    func testEntriesAreCheckedAgainstTheShardWhenItIsThere() throws {
        let hostile = Self.corpus.appendingPathComponent("tf/dim-2p40-size-matches.index")
        // Without its shard the index can still be listed: 2^40 elements fit an Int.
        XCTAssertEqual(try TFCheckpointReader(url: hostile).tensors.first { $0.name == Self.bias }?.elementCount, 1 << 40)
        let prefix = try modelCopy(index: "dim-2p40-size-matches").appendingPathComponent("bert_model.ckpt")
        assertThrows(try TFCheckpointReader(prefix: prefix)) { error in
            guard case .truncated(let file, let detail) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(file.hasSuffix("bert_model.ckpt.data-00000-of-00001"), file)
            XCTAssertTrue(detail.contains(Self.bias), detail)
        }
    }

    func testDataBlocksMustNotOverlap() {
        assertThrows(try TFCheckpointReader(url: Self.corpus.appendingPathComponent("tf/block-listed-twice.index"))) { error in
            XCTAssertTrue(error.description.contains("overlaps the previous data block"), error.description)
        }
    }

    // MARK: - Non-finite weights

    func testLoadingRefusesNaNAndInfinityNamingTheTensor() throws {
        let nan = try modelCopy(index: "nan-weights")
        assertThrows(try CheckpointLoader.load(from: nan, parameters: Self.tiny.parameters, seed: 0)) { error in
            guard case .nonFinite(let file, let tensor, let index, let value) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(file.hasSuffix("bert_model.ckpt.index"), file)
            XCTAssertEqual(tensor, Self.bias)
            XCTAssertEqual(index, 0)
            XCTAssertTrue(value.isNaN)
        }
        let inf = Self.corpus.appendingPathComponent("st/model-inf.safetensors")
        assertThrows(try CheckpointLoader.load(from: inf, parameters: Self.tiny.parameters, seed: 0)) { error in
            guard case .nonFinite(_, let tensor, _, let value) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(tensor, "bert.encoder.layer.1.output.dense.weight")
            XCTAssertEqual(value, -.infinity)
        }
        let good = Self.corpus.appendingPathComponent("st-model/model.safetensors")
        XCTAssertNoThrow(try CheckpointLoader.load(from: good, parameters: Self.tiny.parameters, seed: 0))
    }

    // MARK: - Configs

    func testParameterCountMatchesBertBase() {
        let base = BertConfig(hiddenSize: 768, numHiddenLayers: 12, numAttentionHeads: 12, intermediateSize: 3072)
        XCTAssertEqual(base.parameterCount, 109_482_240)  // Hugging Face's BertModel
        var huge = base
        huge.hiddenSize = 1 << 40
        XCTAssertNil(huge.parameterCount)
    }

    func testConfigsWithImpossibleOrHugeSizesAreRefused() throws {
        let cases = [("hidden-2p40", "hidden_size"), ("vocab-2p62", "vocab_size"), ("positions-1e12", "max_position_embeddings"),
                     ("heads-zero", "num_attention_heads"), ("layers-negative", "num_hidden_layers"),
                     ("heads-not-dividing", "not a multiple"), ("dropout-one", "hidden_dropout_prob"),
                     ("eps-zero", "layer_norm_eps"), ("act-unknown", "hidden_act")]
        for (name, field) in cases {
            let url = Self.corpus.appendingPathComponent("config/\(name).json")
            XCTAssertThrowsError(try BertConfig.load(url), name) { error in
                guard case .badConfig(let file, let message)? = error as? ModelError else { return XCTFail("\(name): \(error)") }
                XCTAssertEqual(file, url.path)
                XCTAssertTrue(message.contains(field), "\(name): \(message)")
            }
        }
        var config = try BertConfig.load(Self.corpus.appendingPathComponent("st-model/config.json"))
        config.layerNormEps = .infinity
        XCTAssertThrowsError(try config.validate(source: "x.json"))
    }

    func testWorkloadChecksSequenceLengthAndMemory() throws {
        let config = try BertConfig.load(Self.corpus.appendingPathComponent("st-model/config.json"))
        XCTAssertNoThrow(try config.checkWorkload(batch: 32, sequenceLength: 32, training: true, source: "m"))
        XCTAssertThrowsError(try config.checkWorkload(batch: 1, sequenceLength: 100_000, training: false, source: "m")) { error in
            XCTAssertTrue("\(error)".contains("max_position_embeddings 32"), "\(error)")
        }
        XCTAssertThrowsError(try config.checkWorkload(batch: 1 << 40, sequenceLength: 32, training: false, source: "m")) { error in
            XCTAssertTrue("\(error)".contains("memory"), "\(error)")
        }
        XCTAssertNoThrow(try config.checkWorkload(batch: 1 << 30, sequenceLength: 32, training: false, source: "m", memoryLimit: .max))
        XCTAssertThrowsError(try config.checkWorkload(batch: 1 << 60, sequenceLength: 32, training: false, source: "m",
                                                      memoryLimit: .max))
    }

    // MARK: - Model directories

    func testModelDirectoryChecksLabelsTokenizerConfigAndVocabularySize() throws {
        let cases = [("config/label2id-mismatch.json", "config.json", "label2id"),
                     ("config/num-labels-mismatch.json", "config.json", "num_labels"),
                     ("config/id2label-gap.json", "config.json", "id2label"),
                     ("config/tokenizer-lowercase-string.json", "tokenizer_config.json", "do_lower_case"),
                     ("vocab/larger-than-config.txt", "vocab.txt", "vocab_size")]
        for (source, target, words) in cases {
            let directory = try copyOfModel("st-model")
            let file = directory.appendingPathComponent(target)
            try? FileManager.default.removeItem(at: file)
            try FileManager.default.copyItem(at: Self.corpus.appendingPathComponent(source), to: file)
            XCTAssertThrowsError(try ModelDirectory.open(directory.path), source) { error in
                XCTAssertTrue("\(error)".contains(target) && "\(error)".contains(words), "\(source): \(error)")
            }
        }
        let good = try ModelDirectory.open(Self.corpus.appendingPathComponent("st-model").path)
        XCTAssertEqual(good.labels, ["0", "1"])
        XCTAssertTrue(good.lowercase)
    }

    // MARK: - Helpers

    /// A copy of the corpus's TensorFlow model with `tf/<index>.index` as its index.
    private func modelCopy(index: String) throws -> URL {
        let directory = try copyOfModel("tf-model")
        let target = directory.appendingPathComponent("bert_model.ckpt.index")
        try FileManager.default.removeItem(at: target)
        try FileManager.default.copyItem(at: Self.corpus.appendingPathComponent("tf/\(index).index"), to: target)
        return directory
    }

    private func copyOfModel(_ name: String) throws -> URL {
        let directory = temporaryFile(name)
        try FileManager.default.copyItem(at: Self.corpus.appendingPathComponent(name), to: directory)
        addTeardownBlock { try? FileManager.default.removeItem(at: directory) }
        return directory
    }
}
