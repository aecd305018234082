import BertGraph
import BertModel
import BertONNX
import BertTestSupport
import Foundation
import XCTest
@testable import BertBundle

/// The library functions behind `bertc export` and `bertc verify`, on the random bert-tiny
/// model directory and on the pretrained MiniLM-L6. Bundle comparisons require bitwise
/// equality (tolerance 0); ONNX Runtime comparisons max abs 1e-5 (`ONNXRuntimeRunner.tolerance`)
/// and are skipped when the project venv (tools/setup.sh venv) is absent.
final class BundleCommandTests: XCTestCase {
    private let fewPairs = Array(SamplePairs.builtIn.prefix(4))

    func testExportBundleThenVerifyAgainstTheModel() throws {
        let fixture = try BundleFixture.tiny(self)
        let out = try BundleFixture.temporaryDirectory(self).appendingPathComponent("exported")
        let report = try ModelExport.run(model: fixture.modelDirectory.path, format: .bundle, destination: out,
                                         pairs: (SamplePairs.builtIn, "built-in"))
        XCTAssertTrue(report.passed)
        XCTAssertEqual(report.maxAbsDiff, 0)
        XCTAssertEqual(report.identical, true)
        XCTAssertEqual(report.pairs, SamplePairs.builtIn.count)
        XCTAssertEqual(report.files.map { URL(fileURLWithPath: $0).lastPathComponent },
                       ["manifest.json", "graph.bertc", "vocab.txt", "weights.safetensors"])

        let verification = try BundleVerification.run(bundle: out, model: fixture.modelDirectory.path,
                                                       pairs: (SamplePairs.builtIn, "built-in"))
        XCTAssertTrue(verification.passed)
        XCTAssertEqual(verification.checks.map(\.against), ["model"])
        XCTAssertEqual(verification.checks[0].comparison.identical, true)
        XCTAssertTrue(verification.files.allSatisfy { $0.state == .ok })
    }

    /// A bundle of a different model fails verification (non-zero exit in the CLI).
    func testVerifyFailsAgainstADifferentModel() throws {
        let fixture = try BundleFixture.tiny(self)
        let bundle = try fixture.writeBundle(self)
        // The same architecture with one changed weight.
        let other = try BundleFixture.temporaryDirectory(self).appendingPathComponent("other")
        let parameters = fixture.predictor.parameters
        var bias = parameters.tensor("classifier.bias")!
        bias.storage = .float32(bias.floats!.map { $0 + 0.5 })
        try parameters.set("classifier.bias", bias)
        try ModelDirectory.save(to: other, config: fixture.predictor.config, labels: fixture.predictor.labels,
                                regression: false, task: "mrpc", parameters: parameters, vocab: BundleFixture.vocabulary,
                                lowercase: true)
        let report = try BundleVerification.run(bundle: bundle, model: other.path, pairs: (fewPairs, "built-in"))
        XCTAssertFalse(report.passed)
        XCTAssertEqual(report.checks[0].comparison.maxAbsDiff, 0.5, accuracy: 1e-5)
    }

    func testExportONNXAndVerifyWithONNXRuntime() throws {
        let fixture = try BundleFixture.tiny(self)
        let directory = try BundleFixture.temporaryDirectory(self)
        let onnx = directory.appendingPathComponent("model.onnx")
        let runner = BundleFixture.onnxRuntime
        let report = try ModelExport.run(model: fixture.modelDirectory.path, format: .onnx, destination: onnx,
                                         pairs: (fewPairs, "built-in"), onnxRuntime: .success(runner))
        XCTAssertTrue(FileManager.default.fileExists(atPath: onnx.path))
        XCTAssertTrue(report.passed, report.note ?? "")
        guard FileManager.default.isExecutableFile(atPath: runner.python.path) else {
            throw XCTSkip("ONNX Runtime not available (tools/setup.sh venv): \(report.note ?? "")")
        }
        let diff = try XCTUnwrap(report.maxAbsDiff)
        XCTAssertLessThanOrEqual(diff, ONNXRuntimeRunner.tolerance)

        let bundle = try fixture.writeBundle(self)
        let verification = try BundleVerification.run(bundle: bundle, onnx: onnx, pairs: (fewPairs, "built-in"),
                                                      onnxRuntime: .success(runner))
        XCTAssertTrue(verification.passed, "\(verification.checks)")
        print("ONNX Runtime vs bertc, random bert-tiny: max abs diff \(verification.checks[0].comparison.maxAbsDiff)")
    }

    /// An existing file is never replaced without `overwrite` (once, an ONNX export destroyed a
    /// model's own weights this way); with it, it is replaced by a complete, checked export.
    func testExportRefusesAnExistingFileUnlessOverwrite() throws {
        let fixture = try BundleFixture.tiny(self)
        let weights = fixture.modelDirectory.appendingPathComponent("model.safetensors")
        let before = try Data(contentsOf: weights)
        for format in ExportFormat.allCases {
            XCTAssertThrowsError(try ModelExport.run(model: fixture.modelDirectory.path, format: format, destination: weights,
                                                     pairs: (fewPairs, "built-in"))) {
                guard case BundleError.destinationExists(let path, _) = $0 else { return XCTFail("unexpected error \($0)") }
                XCTAssertEqual(path, weights.path)
            }
        }
        XCTAssertEqual(try Data(contentsOf: weights), before)

        let onnx = try BundleFixture.temporaryDirectory(self).appendingPathComponent("model.onnx")
        try Data("not a model".utf8).write(to: onnx)
        _ = try ModelExport.run(model: fixture.modelDirectory.path, format: .onnx, destination: onnx, overwrite: true,
                                pairs: (fewPairs, "built-in"))
        XCTAssertNoThrow(try ONNXRuntimeRunner.checkModel(onnx))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: onnx.deletingLastPathComponent().path),
                       ["model.onnx"])
    }

    /// A model with a NaN weight is refused at export, naming the tensor; nothing is written.
    func testExportRefusesNonFiniteWeights() throws {
        let fixture = try BundleFixture.tiny(self)
        let model = try BundleFixture.temporaryDirectory(self).appendingPathComponent("nan-model")
        let parameters = fixture.predictor.parameters
        var weight = parameters.tensor("bert.pooler.dense.bias")!
        weight.storage = .float32([.infinity] + weight.floats!.dropFirst())
        try parameters.set("bert.pooler.dense.bias", weight)
        try ModelDirectory.save(to: model, config: fixture.predictor.config, labels: fixture.predictor.labels,
                                regression: false, task: "mrpc", parameters: parameters, vocab: BundleFixture.vocabulary,
                                lowercase: true)
        let out = model.deletingLastPathComponent().appendingPathComponent("bundle")
        do {
            _ = try ModelExport.run(model: model.path, format: .bundle, destination: out, pairs: (fewPairs, "built-in"))
            XCTFail("a model with an infinite weight was exported")
        } catch BundleError.nonFiniteWeight(_, let tensor, let value) {
            XCTAssertEqual(tensor, "bert.pooler.dense.bias")
            XCTAssertEqual(value, .infinity)
        } catch {
            // Loading may refuse the weight first; it must name the tensor either way.
            XCTAssertTrue("\(error)".contains("bert.pooler.dense.bias"), "\(error)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: out.path))
    }

    /// NaN logits on both sides are bitwise identical, and still no reproduction.
    func testNonFiniteLogitsNeverPassAComparison() {
        let comparison = PredictionComparison([[.nan, 1]], [[.nan, 1]])
        XCTAssertTrue(comparison.identical)
        XCTAssertEqual(comparison.nonFinite, 2)
        XCTAssertFalse(comparison.passes(tolerance: 0))
        XCTAssertFalse(PredictionComparison([[.infinity]], [[1]]).passes(tolerance: 1e-5))
        XCTAssertTrue(PredictionComparison([[1]], [[1]]).passes(tolerance: 0))
    }

    /// The staging folder of an export killed before publishing is removed by the next export
    /// beside it; a live process's is left alone.
    func testStagingOfADeadProcessIsRemoved() throws {
        let fixture = try BundleFixture.tiny(self)
        let directory = try BundleFixture.temporaryDirectory(self)
        let out = directory.appendingPathComponent("bundle")
        let finished = Process()
        finished.executableURL = URL(fileURLWithPath: "/bin/true")
        try finished.run()
        finished.waitUntilExit()
        let dead = directory.appendingPathComponent(".bundle.partial-\(finished.processIdentifier)")
        let older = directory.appendingPathComponent(".bundle.partial-\(finished.processIdentifier)-12345")
        let live = directory.appendingPathComponent(".bundle.partial-1")  // init
        for leftover in [dead, older, live] {
            try FileManager.default.createDirectory(at: leftover, withIntermediateDirectories: true)
            try Data(count: 1000).write(to: leftover.appendingPathComponent("weights.safetensors"))
        }
        _ = try ModelExport.run(model: fixture.modelDirectory.path, format: .bundle, destination: out,
                                pairs: (fewPairs, "built-in"))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted(),
                       [".bundle.partial-1", "bundle"])
    }

    /// The pretrained MiniLM-L6 (no fine-tuned head: the head is initialised from seed 0 the
    /// same way on both sides) through a bundle on a handful of pairs.
    func testPretrainedMiniLMBundleIsBitwiseIdentical() throws {
        let model = try TestPaths.pretrainedModel()
        let directory = try ModelDirectory.open(model.path)
        let (predictor, _) = try Predictor.load(directory)
        let bundle = try BundleFixture.temporaryDirectory(self).appendingPathComponent("minilm")
        try BundleWriter.write(predictor, vocabulary: directory.vocabURL, to: bundle)
        let pairs = try BundleFixture.mrpcDevPairs(6)
        let comparison = PredictionComparison(try BundleModel(directory: bundle).serve(
            sentence1: pairs.map(\.0), sentence2: pairs.map { $0.1 ?? "" }).logits, try predictor.predict(pairs).logits)
        XCTAssertTrue(comparison.identical, "max abs diff \(comparison.maxAbsDiff)")

        let verification = try BundleVerification.run(bundle: bundle, model: model.path, pairs: (pairs, "MRPC dev"))
        XCTAssertTrue(verification.passed)
    }
}
