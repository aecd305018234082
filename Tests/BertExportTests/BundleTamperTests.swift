import BertGraph
import BertModel
import Foundation
import XCTest
@testable import BertExport

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
        var tensors: [String: BertGraph.HostTensor] = [:]
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
