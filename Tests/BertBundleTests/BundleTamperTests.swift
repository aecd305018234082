import BertGraph
import BertModel
import BertRuntime
import BertText
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import XCTest
@testable import BertBundle

/// A damaged or tampered bundle is refused with an error naming the file, never loaded and
/// never a crash.
final class BundleTamperTests: XCTestCase {
    private var bundle: URL!

    override func setUpWithError() throws {
        bundle = try BundleFixture.tiny(self).writeBundle(self)
    }

    private func url(_ name: String) -> URL { bundle.appendingPathComponent(name) }

    /// Loads the bundle and returns the error it must throw.
    private func loadError(file: StaticString = #filePath, line: UInt = #line) -> BundleError? {
        do {
            _ = try BundleModel(directory: bundle)
            XCTFail("the damaged bundle loaded", file: file, line: line)
            return nil
        } catch let error as BundleError {
            return error
        } catch {
            XCTFail("expected a BundleError, got \(error)", file: file, line: line)
            return nil
        }
    }

    func testOneChangedWeightByteIsAChecksumError() throws {
        let weights = url("weights.safetensors")
        var bytes = try Data(contentsOf: weights)
        bytes[bytes.count - 3] ^= 0x01
        try bytes.write(to: weights)
        guard case .checksumMismatch(let file, _, _)? = loadError() else { return XCTFail("not a checksum error") }
        XCTAssertEqual(file, weights.path)
        XCTAssertTrue(loadError()!.description.contains("weights.safetensors"), loadError()!.description)
        XCTAssertFalse(try BundleInspection(directory: bundle).intact)
    }

    func testTruncatedFileIsASizeError() throws {
        let graph = url("graph.bertc")
        let bytes = try Data(contentsOf: graph)
        try bytes.prefix(bytes.count / 2).write(to: graph)
        XCTAssertEqual(loadError(), .sizeMismatch(file: graph.path, expected: bytes.count, found: bytes.count / 2))
    }

    func testMissingFileIsNamed() throws {
        try FileManager.default.removeItem(at: url("vocab.txt"))
        XCTAssertEqual(loadError(), .missingFile(file: url("vocab.txt").path))
        try FileManager.default.removeItem(at: url("manifest.json"))
        XCTAssertEqual(loadError(), .missingFile(file: url("manifest.json").path))
    }

    func testEditedManifestChecksumIsRefused() throws {
        try editManifest { manifest in
            var entry = manifest.files[0]
            entry.sha256 = String(repeating: "0", count: 64)
            manifest.files[0] = entry
        }
        guard case .checksumMismatch(let file, let expected, _)? = loadError() else { return XCTFail("not a checksum error") }
        XCTAssertEqual(file, url("graph.bertc").path)
        XCTAssertEqual(expected, String(repeating: "0", count: 64))
    }

    func testUnknownVersionIsRefusedBeforeAnythingElse() throws {
        try editManifestJSON { $0["format_version"] = 2 }
        XCTAssertEqual(loadError(), .unsupportedVersion(file: url("manifest.json").path, found: 2, supported: [1]))
    }

    func testMalformedManifestIsABadManifestError() throws {
        try Data("{\"format\": \"bertc-bundle\", ".utf8).write(to: url("manifest.json"))
        guard case .badManifest(let file, _)? = loadError() else { return XCTFail("not a manifest error") }
        XCTAssertEqual(file, url("manifest.json").path)
        try editManifestJSONFromScratch { $0["format"] = "something-else"; $0["format_version"] = 1 }
        guard case .badManifest(_, let reason)? = loadError() else { return XCTFail("not a manifest error") }
        XCTAssertTrue(reason.contains("something-else"), reason)
    }

    func testPathsOutsideTheBundleAreRefused() throws {
        try editManifest { $0.files[0].path = "../graph.bertc" }
        guard case .badManifest(_, let reason)? = loadError() else { return XCTFail("not a manifest error") }
        XCTAssertTrue(reason.contains("plain file name"), reason)
    }

    /// The manifest is not checksummed; a config edited to no longer describe the graph is
    /// still refused.
    func testManifestConfigThatDoesNotDescribeTheGraphIsRefused() throws {
        try editManifest { $0.model.config.numHiddenLayers = 3 }
        guard case .badManifest(let file, let reason)? = loadError() else { return XCTFail("not a manifest error") }
        XCTAssertEqual(file, url("manifest.json").path)
        XCTAssertTrue(reason.contains("bert.encoder.layer.2."), reason)
    }

    /// A graph that parses but is no classifier, with its checksum updated to match: refused
    /// by the graph check, not by the checksum.
    func testConsistentlyRewrittenWrongGraphIsRefused() throws {
        let text = try String(contentsOf: url("graph.bertc"), encoding: .utf8)
            .replacingOccurrences(of: "output logits =", with: "output scores =")
        try rewrite("graph.bertc", Data(text.utf8))
        guard case .badGraph(let file, let reason)? = loadError() else { return XCTFail("not a graph error") }
        XCTAssertEqual(file, url("graph.bertc").path)
        XCTAssertTrue(reason.contains("no logits output"), reason)

        try rewrite("graph.bertc", Data("graph g {\n  nonsense\n".utf8))
        guard case .badGraph(_, let parse)? = loadError() else { return XCTFail("not a graph error") }
        XCTAssertTrue(parse.contains("line"), parse)
    }

    /// Weights with a tensor missing, with the checksum updated: refused naming the tensor.
    func testWeightsMissingATensorAreRefused() throws {
        let reader = try BertModel.SafetensorsReader(url: url("weights.safetensors"))
        var tensors: [String: BertRuntime.HostTensor] = [:]
        for info in reader.tensors where info.name != "classifier.bias" { tensors[info.name] = try reader.read(info.name) }
        try rewrite("weights.safetensors", BertModel.SafetensorsWriter.encode(tensors))
        guard case .weightMismatch(let file, let reason)? = loadError() else { return XCTFail("not a weight error") }
        XCTAssertEqual(file, url("weights.safetensors").path)
        XCTAssertTrue(reason.contains("classifier.bias"), reason)
    }

    /// A vocabulary with more tokens than word embeddings would index outside the table: refused.
    func testVocabularyLargerThanTheEmbeddingsIsRefused() throws {
        var vocabulary = try Data(contentsOf: url("vocab.txt"))
        vocabulary.append(contentsOf: Array("[extra_token]\n".utf8))
        try rewrite("vocab.txt", vocabulary)
        guard case .weightMismatch(_, let reason)? = loadError() else { return XCTFail("not a weight error") }
        XCTAssertTrue(reason.contains("30523 tokens"), reason)
    }

    // MARK: - Content a checksum cannot vouch for

    /// `select`'s index out of range, with the checksums recomputed: refused by the graph
    /// verifier (a fixed dim: naming the line, the node and the shapes) or by the loader (along
    /// `seq`, against the smallest bucket), before anything runs.
    func testSelectIndexOutOfRangeIsAGraphError() throws {
        let text = try String(contentsOf: url("graph.bertc"), encoding: .utf8)
        XCTAssertTrue(text.contains("select[axis=1, index=0]"))
        try rewrite("graph.bertc", Data(text.replacingOccurrences(of: "select[axis=1, index=0]",
                                                                 with: "select[axis=2, index=128]").utf8))
        guard case .badGraph(let file, let reason)? = loadError() else { return XCTFail("not a graph error") }
        XCTAssertEqual(file, url("graph.bertc").path)
        for phrase in ["line ", "(select)", "index 128 out of range", "[batch, seq, 128]"] {
            XCTAssertTrue(reason.contains(phrase), reason)
        }
        // Along seq: the smallest bucket is 32, so index 31 is in range and 32 is not.
        for (index, refused) in [(32, true), (31, false)] {
            try rewrite("graph.bertc", Data(text.replacingOccurrences(of: "select[axis=1, index=0]",
                                                                     with: "select[axis=1, index=\(index)]").utf8))
            guard refused else { XCTAssertNoThrow(try BundleModel(directory: bundle)); continue }
            guard case .badGraph(_, let reason)? = loadError() else { return XCTFail("not a graph error") }
            XCTAssertTrue(reason.contains("index 32 along seq is not below 32"), reason)
        }
    }

    /// Other attributes checked against their inputs: heads, axes, shapes.
    func testHostileAttributesAreGraphErrors() throws {
        let text = try String(contentsOf: url("graph.bertc"), encoding: .utf8)
        let edits = [("attention[heads=2,", "attention[heads=0,", "multiple of 0 heads"),
                     ("attention[heads=2,", "attention[heads=3,", "multiple of 3 heads"),
                     ("select[axis=1, index=0]", "select[axis=5, index=0]", "axis 5 out of range")]
        for (from, to, phrase) in edits {
            XCTAssertTrue(text.contains(from), from)
            try rewrite("graph.bertc", Data(text.replacingOccurrences(of: from, with: to).utf8))
            guard case .badGraph(_, let reason)? = loadError() else { return XCTFail("not a graph error: \(to)") }
            XCTAssertTrue(reason.contains(phrase), reason)
        }
    }

    /// The manifest's model config is validated field by field, with limits.
    func testInvalidModelConfigIsRefused() throws {
        let edits: [(String, Any, String)] = [
            ("num_attention_heads", 0, "num_attention_heads must be positive, got 0"),
            ("num_hidden_layers", -3, "num_hidden_layers must be positive, got -3"),
            ("num_attention_heads", 3, "hidden_size 128 is not a multiple of num_attention_heads 3"),
            ("hidden_size", 1 << 40, "more than the 2147483648 elements"),
            ("num_hidden_layers", 1 << 40, "num_hidden_layers 1099511627776 is more than 1024"),
            ("layer_norm_eps", -1, "layer_norm_eps must be a positive finite number"),
            ("hidden_dropout_prob", 1.5, "hidden_dropout_prob must be in [0, 1)"),
        ]
        let original = try Data(contentsOf: url("manifest.json"))
        for (key, value, phrase) in edits {
            try original.write(to: url("manifest.json"))
            try editManifestJSON { object in
                var model = object["model"] as! [String: Any]
                var config = model["config"] as! [String: Any]
                config[key] = value
                model["config"] = config
                object["model"] = model
            }
            guard case .badManifest(let file, let reason)? = loadError() else { return XCTFail("not a manifest error: \(key)") }
            XCTAssertEqual(file, url("manifest.json").path)
            XCTAssertTrue(reason.hasPrefix("model.config: ") && reason.contains(phrase), reason)
            XCTAssertThrowsError(try BundleInspection(directory: bundle), key)
        }
    }

    /// The serving signature must be the classifier signature of the manifest's labels.
    func testSignatureThatContradictsTheLabelsIsRefused() throws {
        try editManifest { $0.signatures["serving_default"] = BundleManifest.servingSignature(labelCount: 5) }
        guard case .badManifest(_, let reason)? = loadError() else { return XCTFail("not a manifest error") }
        XCTAssertTrue(reason.contains("signature serving_default outputs"), reason)
        try editManifest { $0.signatures = [:] }
        guard case .badManifest(_, let missing)? = loadError() else { return XCTFail("not a manifest error") }
        XCTAssertTrue(missing.contains("no \"serving_default\" signature"), missing)
    }

    /// A NaN weight with its checksum updated: refused, naming the tensor.
    func testNonFiniteWeightIsRefused() throws {
        let reader = try BertModel.SafetensorsReader(url: url("weights.safetensors"))
        var tensors: [String: BertRuntime.HostTensor] = [:]
        for info in reader.tensors { tensors[info.name] = try reader.read(info.name) }
        var bias = tensors["classifier.bias"]!
        bias.storage = .float32([.nan] + bias.floats!.dropFirst())
        tensors["classifier.bias"] = bias
        try rewrite("weights.safetensors", BertModel.SafetensorsWriter.encode(tensors))
        guard case .nonFiniteWeight(let file, let tensor, _)? = loadError() else { return XCTFail("not a NaN error") }
        XCTAssertEqual(file, url("weights.safetensors").path)
        XCTAssertEqual(tensor, "classifier.bias")
    }

    // MARK: - Files that are not regular files

    /// A FIFO, a link to /dev/zero and a link to an identical file outside the bundle: each
    /// refused without being opened (a FIFO would block a reader, /dev/zero never ends).
    func testOnlyRegularFilesAreRead() throws {
        let fm = FileManager.default
        let outside = bundle.deletingLastPathComponent().appendingPathComponent("outside-vocab.txt")
        try fm.copyItem(at: url("vocab.txt"), to: outside)
        let cases: [(String, () throws -> Void, String)] = [
            ("vocab.txt", { XCTAssertEqual(mkfifo(self.url("vocab.txt").path, 0o600), 0) }, "a FIFO"),
            ("graph.bertc", { try fm.createSymbolicLink(atPath: self.url("graph.bertc").path, withDestinationPath: "/dev/zero") },
             "a symbolic link"),
            ("vocab.txt", { try fm.createSymbolicLink(at: self.url("vocab.txt"), withDestinationURL: outside) }, "a symbolic link"),
            ("manifest.json", { XCTAssertEqual(mkfifo(self.url("manifest.json").path, 0o600), 0) }, "a FIFO"),
        ]
        for (name, make, kind) in cases {
            let saved = try Data(contentsOf: url(name))
            try fm.removeItem(at: url(name))
            try make()
            XCTAssertEqual(loadError(), .notRegularFile(file: url(name).path, kind: kind))
            if name == "manifest.json" {
                XCTAssertThrowsError(try BundleInspection(directory: bundle))
            } else {
                let inspection = try BundleInspection(directory: bundle)
                XCTAssertFalse(inspection.intact)
                XCTAssertEqual(inspection.damage, .notRegularFile(file: url(name).path, kind: kind))
            }
            try fm.removeItem(at: url(name))
            try saved.write(to: url(name))
        }
        XCTAssertNoThrow(try BundleModel(directory: bundle))
    }

    /// `verify` with neither a model nor an ONNX file still loads and runs the bundle.
    func testVerifyAloneRunsTheBundle() throws {
        let pairs = Array(SamplePairs.builtIn.prefix(3))
        let report = try BundleVerification.run(bundle: bundle, pairs: (pairs, "built-in"))
        XCTAssertTrue(report.passed)
        XCTAssertTrue(report.checks.isEmpty)
        try editManifest { $0.model.config.numAttentionHeads = 0 }
        XCTAssertThrowsError(try BundleVerification.run(bundle: bundle, pairs: (pairs, "built-in")))
    }

    // MARK: - Editing

    /// Replaces a file and updates its manifest entry so only deeper checks can catch it.
    private func rewrite(_ name: String, _ data: Data) throws {
        try data.write(to: url(name))
        try editManifest { manifest in
            let i = manifest.files.firstIndex { $0.path == name }!
            manifest.files[i].bytes = data.count
            manifest.files[i].sha256 = SHA256Digest.hex(of: data)
        }
    }

    private func editManifest(_ edit: (inout BundleManifest) -> Void) throws {
        var manifest = try JSONDecoder().decode(BundleManifest.self, from: Data(contentsOf: url("manifest.json")))
        edit(&manifest)
        try manifest.encoded().write(to: url("manifest.json"))
    }

    private func editManifestJSON(_ edit: (inout [String: Any]) -> Void) throws {
        var object = try JSONSerialization.jsonObject(with: Data(contentsOf: url("manifest.json"))) as! [String: Any]
        edit(&object)
        try JSONSerialization.data(withJSONObject: object).write(to: url("manifest.json"))
    }

    private func editManifestJSONFromScratch(_ edit: (inout [String: Any]) -> Void) throws {
        var object: [String: Any] = [:]
        edit(&object)
        try JSONSerialization.data(withJSONObject: object).write(to: url("manifest.json"))
    }
}
