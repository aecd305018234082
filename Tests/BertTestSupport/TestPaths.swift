import Foundation
import XCTest

/// Where tests find the repository, the shared data and the pretrained model.
enum TestPaths {
    /// The repository root (two levels above this file's folder).
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    static func golden(_ path: String) -> URL { root.appendingPathComponent("golden/\(path)") }

    /// The pretrained MiniLM-L6 that `tools/setup.sh model` installs; fails the test when absent.
    static func pretrainedModel() throws -> URL {
        let cache = ProcessInfo.processInfo.environment["BERTC_MODEL_CACHE"]
            .map { URL(fileURLWithPath: $0) }
            ?? FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache/bertc/models")
        let dir = cache.appendingPathComponent("minilm-l6")
        guard FileManager.default.fileExists(atPath: dir.appendingPathComponent("model.safetensors").path) else {
            XCTFail("the pretrained model is missing at \(dir.path): run tools/setup.sh model")
            throw CocoaError(.fileNoSuchFile)
        }
        return dir
    }
}
