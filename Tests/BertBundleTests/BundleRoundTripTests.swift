import BertGraph
import BertModel
import BertONNX
import BertRuntime
import BertText
import BertTestSupport
import Foundation
import XCTest
@testable import BertBundle

/// Writing and reloading bundles: the reloaded bundle's logits are bitwise identical to the
/// in-memory model's (tolerance 0) on 40 MRPC dev pairs, the manifest says what DESIGN.md
/// requires, and replacing a bundle is atomic and safe.
final class BundleRoundTripTests: XCTestCase {
    func testReloadedBundleIsBitwiseIdentical() throws {
        let fixture = try BundleFixture.tiny(self)
        let pairs = try BundleFixture.mrpcDevPairs(40)
        let expected = try fixture.predictor.predict(pairs)
        let bundle = try fixture.writeBundle(self)

        let loaded = try BundleModel(directory: bundle)
        let served = try loaded.serve(sentence1: pairs.map(\.0), sentence2: pairs.map { $0.1 ?? "" })
        let comparison = PredictionComparison(served.logits, expected.logits)
        XCTAssertTrue(comparison.identical, "max abs diff \(comparison.maxAbsDiff)")
        XCTAssertEqual(comparison.maxAbsDiff, 0)
        XCTAssertEqual(served.classIDs, expected.classIDs)
        XCTAssertEqual(served.classes, expected.classes)
        XCTAssertEqual(served.logits.count, 40)
        XCTAssertEqual(loaded.predictor.buckets, fixture.predictor.buckets)
        XCTAssertEqual(loaded.predictor.graph, fixture.predictor.graph, "the graph must survive print/parse exactly")

        // The library entry point the predict command uses. Logits depend on the batch a pair
        // is in (its padded length), so compare with the model on the same five pairs.
        let five = Array(pairs.prefix(5))
        XCTAssertEqual(try BundlePrediction.run(bundle: bundle, pairs: five).logits, try fixture.predictor.predict(five).logits)
    }

    /// A bundle written before a fusion existed (its graph.bertc holds the unfused ops) is
    /// fused on load: it runs the model's graph, with the same bits.
    func testUnfusedGraphIsFusedOnLoad() throws {
        let fixture = try BundleFixture.tiny(self)
        let config = try BertConfig.load(BundleFixture.root.appendingPathComponent("graphs/bert-tiny.json"))
        let unfused = try ModelCompiler.exportGraph(config, head: .classification(labels: 2))
        XCTAssertTrue(unfused.nodes.contains { $0.op.name == "batch_matmul" })
        let file = try BundleFixture.temporaryDirectory(self).appendingPathComponent("graph.bertc")
        try GraphPrinter.render(unfused).write(to: file, atomically: true, encoding: .utf8)
        let loaded = try BundleModel.readGraph(file, labelCount: 2)
        XCTAssertEqual(loaded.nodes.filter { $0.op.name == "attention" }.count, config.numHiddenLayers)
        XCTAssertEqual(GraphPrinter.render(loaded), GraphPrinter.render(fixture.predictor.graph))
    }

    func testManifestDescribesTheSignatureAndFiles() throws {
        let fixture = try BundleFixture.tiny(self)
        let bundle = try fixture.writeBundle(self)
        let manifest = try BundleModel(directory: bundle).manifest
        XCTAssertEqual(manifest.format, "bertc-bundle")
        XCTAssertEqual(manifest.formatVersion, 1)
        XCTAssertEqual(manifest.createdBy, "bertc")
        XCTAssertEqual(manifest.labels, ["not_equivalent", "equivalent"])
        let signature = try XCTUnwrap(manifest.signatures["serving_default"])
        XCTAssertEqual(signature.inputs.map(\.name), ["sentence1", "sentence2"])
        XCTAssertEqual(signature.inputs.map(\.dtype), ["string", "string"])
        XCTAssertEqual(signature.outputs.map(\.name), ["logits", "class_id", "class"])
        XCTAssertEqual(signature.outputs.map(\.dtype), ["float32", "int64", "string"])
        XCTAssertEqual(signature.outputs[0].shape, [.symbol("batch"), .fixed(2)])
        XCTAssertEqual(signature.outputs[1].shape, [.symbol("batch")])
        XCTAssertEqual(manifest.tokenizer.lowercase, true)
        XCTAssertEqual(manifest.tokenizer.maxSeqLength, 128)
        XCTAssertEqual(manifest.tokenizer.truncation, "longest_first")
        XCTAssertEqual(manifest.tokenizer.bucketLengths, [32, 64, 96, 128])
        XCTAssertEqual(manifest.model.config, fixture.predictor.config)
        XCTAssertEqual(manifest.files.map(\.path), ["graph.bertc", "vocab.txt", "weights.safetensors"])
        for file in manifest.files {
            let url = bundle.appendingPathComponent(file.path)
            XCTAssertEqual(file.sha256, try SHA256Digest.hex(ofFile: url))
            XCTAssertEqual(file.bytes, try Data(contentsOf: url).count)
        }
        XCTAssertEqual(try Data(contentsOf: bundle.appendingPathComponent("vocab.txt")),
                       try Data(contentsOf: BundleFixture.vocabulary))
        let inspection = try BundleInspection(directory: bundle)
        XCTAssertTrue(inspection.intact)
        XCTAssertTrue(inspection.text.contains("signature serving_default:"), inspection.text)
    }

    /// Without `overwrite` an existing bundle is refused; with it, it is replaced whole.
    func testRewritingReplacesTheBundleAndLeavesNoStagingBehind() throws {
        let fixture = try BundleFixture.tiny(self)
        let bundle = try fixture.writeBundle(self)
        try Data("stale".utf8).write(to: bundle.appendingPathComponent("leftover.txt"))
        XCTAssertThrowsError(try BundleWriter.write(fixture.predictor, vocabulary: BundleFixture.vocabulary, to: bundle)) {
            guard case BundleError.destinationExists = $0 else { return XCTFail("unexpected error \($0)") }
        }
        XCTAssertTrue(FileManager.default.fileExists(atPath: bundle.appendingPathComponent("leftover.txt").path))
        try BundleWriter.write(fixture.predictor, vocabulary: BundleFixture.vocabulary, to: bundle, overwrite: true)
        XCTAssertFalse(FileManager.default.fileExists(atPath: bundle.appendingPathComponent("leftover.txt").path))
        XCTAssertNoThrow(try BundleModel(directory: bundle))
        let siblings = try FileManager.default.contentsOfDirectory(atPath: bundle.deletingLastPathComponent().path)
        XCTAssertEqual(siblings, [bundle.lastPathComponent], "staging or old directories left behind: \(siblings)")
    }

    /// Export's read-back check runs on the staged bundle; when it throws, the bundle already
    /// at the destination is left exactly as it was and the staging directory is removed.
    func testAFailedCheckLeavesTheOldBundleInPlace() throws {
        struct Refused: Error {}
        let fixture = try BundleFixture.tiny(self)
        let bundle = try fixture.writeBundle(self)
        let marker = bundle.appendingPathComponent("marker.txt")
        try Data("old bundle".utf8).write(to: marker)
        var checked = false
        XCTAssertThrowsError(try BundleWriter.write(fixture.predictor, vocabulary: BundleFixture.vocabulary, to: bundle,
                                                    overwrite: true) {
            XCTAssertNoThrow(try BundleModel(directory: $0), "the staged bundle is complete when checked")
            checked = true
            throw Refused()
        }) { XCTAssertTrue($0 is Refused) }
        XCTAssertTrue(checked)
        XCTAssertEqual(try String(contentsOf: marker, encoding: .utf8), "old bundle")
        let siblings = try FileManager.default.contentsOfDirectory(atPath: bundle.deletingLastPathComponent().path)
        XCTAssertEqual(siblings, [bundle.lastPathComponent])
    }

    func testRefusesToReplaceSomethingThatIsNotABundle() throws {
        let fixture = try BundleFixture.tiny(self)
        let directory = try BundleFixture.temporaryDirectory(self)
        let precious = directory.appendingPathComponent("notes.txt")
        try Data("keep me".utf8).write(to: precious)
        XCTAssertThrowsError(try BundleWriter.write(fixture.predictor, vocabulary: BundleFixture.vocabulary, to: directory,
                                                    overwrite: true)) {
            guard case BundleError.notABundle = $0 else { return XCTFail("unexpected error \($0)") }
        }
        XCTAssertEqual(try String(contentsOf: precious, encoding: .utf8), "keep me")
    }

    func testServeRejectsMismatchedInputs() throws {
        let loaded = try BundleModel(directory: try BundleFixture.tiny(self).writeBundle(self))
        XCTAssertThrowsError(try loaded.serve(sentence1: ["a", "b"], sentence2: ["c"])) {
            XCTAssertEqual($0 as? BundleError, .badInput(reason: "sentence1 has 2 entries but sentence2 has 1"))
        }
        let single = try loaded.serve(sentence1: ["just one sentence"], sentence2: nil)
        XCTAssertEqual(single.logits.count, 1)
        XCTAssertEqual(single.logits[0].count, 2)
    }

    func testSamplePairsReadGLUEAndPlainTSV() throws {
        XCTAssertEqual(try BundleFixture.mrpcDevPairs(3).count, 3)
        let url = try BundleFixture.temporaryDirectory(self).appendingPathComponent("pairs.tsv")
        try Data("first a\tfirst b\nsecond a\tsecond b\n".utf8).write(to: url)
        let pairs = try SamplePairs.read(tsv: url.path)
        XCTAssertEqual(pairs.map(\.0), ["first a", "second a"])
        XCTAssertEqual(pairs.map(\.1), ["first b", "second b"])
        try Data("sentence1\tsentence2\tlabel\nx\ty\t1\n".utf8).write(to: url)
        let headed = try SamplePairs.read(tsv: url.path)
        XCTAssertEqual(headed.count, 1)
        XCTAssertEqual(headed[0].1, "y")
    }
}

// MARK: - Fixture

/// The random bert-tiny of golden/forward (weights written by tools/golden_forward.py),
/// saved as a model directory with the bert-base-uncased vocabulary and MRPC label names,
/// and loaded as a `Predictor`.
struct BundleFixture {
    static let root = TestPaths.root
    static let data = TestPaths.data
    static let vocabulary = data.appendingPathComponent("vocab-bert-base-uncased.txt")
    /// The repository's ONNX Runtime runner: the project venv's Python (or `$BERTC_PYTHON`).
    static let onnxRuntime = ONNXRuntimeRunner(
        python: ProcessInfo.processInfo.environment["BERTC_PYTHON"].map { URL(fileURLWithPath: $0) }
            ?? root.appendingPathComponent(".venv/bin/python"),
        script: root.appendingPathComponent("tools/ort_run.py"))

    let modelDirectory: URL
    let predictor: Predictor

    static func tiny(_ test: XCTestCase) throws -> BundleFixture {
        let config = try BertConfig.load(root.appendingPathComponent("graphs/bert-tiny.json"))
        let weights = try SafetensorsReader(url: root.appendingPathComponent("golden/forward/bert-tiny-random.weights.safetensors"))
        let graph = try BertBuilder.build(config, head: .classification(labels: 2), options: .inference)
        let parameters = try ParameterStore.matching(graph)
        for name in parameters.names { try parameters.set(name, try weights.read(name)) }
        let model = try temporaryDirectory(test).appendingPathComponent("bert-tiny-random")
        try ModelDirectory.save(to: model, config: config, labels: ["not_equivalent", "equivalent"], regression: false,
                                task: "mrpc", parameters: parameters, vocab: vocabulary, lowercase: true)
        let (predictor, _) = try Predictor.load(ModelDirectory.open(model.path))
        return BundleFixture(modelDirectory: model, predictor: predictor)
    }

    /// Writes the bundle into a fresh temporary directory and returns its path.
    func writeBundle(_ test: XCTestCase) throws -> URL {
        let bundle = try Self.temporaryDirectory(test).appendingPathComponent("bundle")
        try BundleWriter.write(predictor, vocabulary: Self.vocabulary, to: bundle)
        return bundle
    }

    /// The first `n` pairs of GLUE's MRPC dev.tsv.
    static func mrpcDevPairs(_ n: Int) throws -> [(String, String?)] {
        Array(try SamplePairs.read(tsv: data.appendingPathComponent("glue/MRPC/dev.tsv").path).prefix(n))
    }

    /// A new empty directory, removed when `test` ends.
    static func temporaryDirectory(_ test: XCTestCase) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("bertc-bundle-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        test.addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
    }
}
