import BertGraph
import BertModel
import Foundation
import XCTest
@testable import BertExport

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
        let report = try ModelExport.run(model: fixture.modelDirectory.path, format: .onnx, destination: onnx,
                                         pairs: (fewPairs, "built-in"))
        XCTAssertTrue(FileManager.default.fileExists(atPath: onnx.path))
        XCTAssertTrue(report.passed, report.note ?? "")
        guard (try? ONNXRuntimeRunner()) != nil else {
            throw XCTSkip("ONNX Runtime not available (tools/setup.sh venv): \(report.note ?? "")")
        }
        let diff = try XCTUnwrap(report.maxAbsDiff)
        XCTAssertLessThanOrEqual(diff, ONNXRuntimeRunner.tolerance)

        let bundle = try fixture.writeBundle(self)
        let verification = try BundleVerification.run(bundle: bundle, onnx: onnx, pairs: (fewPairs, "built-in"))
        XCTAssertTrue(verification.passed, "\(verification.checks)")
        print("ONNX Runtime vs bertc, random bert-tiny: max abs diff \(verification.checks[0].comparison.maxAbsDiff)")
    }

    /// The pretrained MiniLM-L6 (no fine-tuned head: the head is initialised from seed 0 the
    /// same way on both sides) through a bundle on a handful of pairs.
    func testPretrainedMiniLMBundleIsBitwiseIdentical() throws {
        let model = try Self.pretrainedModel()
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

    /// The MiniLM-L6 that `tools/setup.sh model` installs; fails the test when absent.
    static func pretrainedModel() throws -> URL {
        let cache = ProcessInfo.processInfo.environment["BERTC_MODEL_CACHE"].map { URL(fileURLWithPath: $0) }
            ?? FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache/bertc/models")
        let directory = cache.appendingPathComponent("minilm-l6")
        guard FileManager.default.fileExists(atPath: directory.appendingPathComponent("model.safetensors").path) else {
            XCTFail("the pretrained model is missing at \(directory.path): run tools/setup.sh model")
            throw CocoaError(.fileNoSuchFile)
        }
        return directory
    }
}
