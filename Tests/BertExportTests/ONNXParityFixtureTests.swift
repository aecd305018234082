// Writes the fixtures that tools/tests/test_onnx_parity.py and test_onnx_fusion.py run with
// ONNX Runtime: for each GELU form, a tiny BERT exported to `model.onnx`, its weights in HF
// layout (`weights.bin`, raw little-endian float32, and `weights.json` with each tensor's
// shape and element offset), and `config.json`.
//
// Where: `$BERTC_ONNX_PARITY_DIR` when set, else `<package>/.build/onnx-parity`. CI runs
// `swift test` before pytest, so the pytest finds the fixtures there; run alone, the pytest
// runs this test itself with `BERTC_ONNX_PARITY_DIR` pointing at a temporary directory.

import BertGraph
import Foundation
import XCTest
@testable import BertExport

final class ONNXParityFixtureTests: XCTestCase {
    /// Bumped when the fixture layout changes, so a pytest never reads a stale layout.
    static let fixtureVersion = 1

    static var fixtureDirectory: URL {
        if let dir = ProcessInfo.processInfo.environment["BERTC_ONNX_PARITY_DIR"], !dir.isEmpty {
            return URL(fileURLWithPath: dir)
        }
        let package = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return package.appendingPathComponent(".build/onnx-parity")
    }

    func testWriteParityFixtures() throws {
        let root = Self.fixtureDirectory
        var variants: [String] = []
        for gelu in ["erf", "tanh"] {
            var config = TinyBertConfig()
            config.gelu = gelu
            let graph = try TinyBert.graph(config)
            let weights = TinyBert.weights(for: graph, seed: gelu == "erf" ? 1 : 2)
            let dir = root.appendingPathComponent("tiny-bert-\(gelu)")
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            try ONNXExporter().write(graph: graph, weights: weights, to: dir.appendingPathComponent("model.onnx"))
            try writeWeights(weights, to: dir)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try encoder.encode(config).write(to: dir.appendingPathComponent("config.json"))
            variants.append(dir.lastPathComponent)
        }
        let manifest: [String: Any] = ["version": Self.fixtureVersion, "variants": variants]
        try JSONSerialization.data(withJSONObject: manifest, options: [.sortedKeys])
            .write(to: root.appendingPathComponent("manifest.json"), options: .atomic)
    }

    private func writeWeights(_ weights: [String: HostTensor], to dir: URL) throws {
        var blob = Data()
        var index: [String: [String: Any]] = [:]
        var offset = 0
        for name in weights.keys.sorted() {
            let t = weights[name]!
            let floats = try XCTUnwrap(t.floats)
            index[name] = ["shape": t.shape, "offset": offset]
            blob.append(ONNXGraphBuilder.littleEndianBytes(floats))
            offset += floats.count
        }
        try blob.write(to: dir.appendingPathComponent("weights.bin"))
        try JSONSerialization.data(withJSONObject: index, options: [.sortedKeys])
            .write(to: dir.appendingPathComponent("weights.json"))
    }
}
