// Where the tests find the repository, its golden files and the pretrained model (a module of
// its own so that every test target spells these paths once).

import Foundation

public enum TestPaths {
    /// The repository root (two levels above this file's folder).
    public static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    public static func golden(_ path: String) -> URL { root.appendingPathComponent("golden/\(path)") }

    /// The shared fixtures: `$BERTC_FIXTURES`, else `../shared/fixtures` beside the repository.
    public static func fixture(_ path: String) -> URL {
        let fixtures = ProcessInfo.processInfo.environment["BERTC_FIXTURES"].map { URL(fileURLWithPath: $0) }
            ?? root.deletingLastPathComponent().appendingPathComponent("shared/fixtures")
        return fixtures.appendingPathComponent(path)
    }

    /// The shared data root: `$BERTC_DATA`, else `../shared/data` beside the repository.
    public static var data: URL {
        ProcessInfo.processInfo.environment["BERTC_DATA"].map { URL(fileURLWithPath: $0) }
            ?? root.deletingLastPathComponent().appendingPathComponent("shared/data")
    }

    /// Where `tools/setup.sh model` installs the pretrained MiniLM-L6:
    /// `$BERTC_MODEL_CACHE/minilm-l6`, by default under `~/.cache/bertc/models`.
    public static var pretrainedModelDirectory: URL {
        let cache = ProcessInfo.processInfo.environment["BERTC_MODEL_CACHE"].map { URL(fileURLWithPath: $0) }
            ?? FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache/bertc/models")
        return cache.appendingPathComponent("minilm-l6")
    }

    /// The pretrained model's directory when it is installed, else nil.
    public static var installedPretrainedModel: URL? {
        let directory = pretrainedModelDirectory
        let weights = directory.appendingPathComponent("model.safetensors")
        return FileManager.default.fileExists(atPath: weights.path) ? directory : nil
    }

    /// The pretrained model's directory.
    /// - Throws: `MissingPretrainedModel` when it is not installed, which fails the test.
    public static func pretrainedModel() throws -> URL {
        guard let directory = installedPretrainedModel else { throw MissingPretrainedModel() }
        return directory
    }
}

/// The pretrained model is not installed where the tests look for it.
public struct MissingPretrainedModel: Error, CustomStringConvertible {
    public init() {}

    public var description: String {
        "the pretrained model is missing at \(TestPaths.pretrainedModelDirectory.path): run tools/setup.sh model"
    }
}
