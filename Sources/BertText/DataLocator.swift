import Foundation

/// Finds the data root: the directory laid out like the shared data (`glue/MRPC/...`,
/// `squad/...`, `vocab-bert-base-uncased.txt`).
///
/// Candidates, in order: an explicit directory (`--data-dir`), `$BERTC_DATA`, then
/// `../shared/data` and `./data` relative to the current directory. The first that exists wins.
public struct DataLocator: Sendable {
    /// The environment variable naming a data root.
    public static let environmentVariable = "BERTC_DATA"

    /// The data root in use.
    public let root: String

    /// Uses `root` as the data root, without searching.
    public init(root: String) {
        self.root = root
    }

    /// Searches the candidate directories.
    /// - Parameters:
    ///   - explicitRoot: a directory given on the command line, tried first.
    ///   - environment: the process environment (for `$BERTC_DATA`).
    ///   - currentDirectory: the directory relative candidates are resolved against.
    /// - Throws: `DataError.noDataRoot` listing every candidate tried.
    public init(explicitRoot: String? = nil,
                environment: [String: String] = ProcessInfo.processInfo.environment,
                currentDirectory: String = FileManager.default.currentDirectoryPath) throws {
        let candidates = Self.candidates(explicitRoot: explicitRoot, environment: environment,
                                         currentDirectory: currentDirectory)
        guard let found = candidates.first(where: Self.isDirectory) else {
            throw DataError.noDataRoot(tried: candidates)
        }
        root = found
    }

    /// The candidate roots in search order.
    public static func candidates(explicitRoot: String?, environment: [String: String],
                                  currentDirectory: String) -> [String] {
        let base = URL(fileURLWithPath: currentDirectory, isDirectory: true)
        var candidates: [String] = []
        if let explicitRoot { candidates.append(explicitRoot) }
        if let fromEnvironment = environment[environmentVariable], !fromEnvironment.isEmpty {
            candidates.append(fromEnvironment)
        }
        candidates.append(base.appendingPathComponent("../shared/data").standardizedFileURL.path)
        candidates.append(base.appendingPathComponent("data").standardizedFileURL.path)
        return candidates
    }

    /// The path of `relativePath` (e.g. `glue/MRPC/dev.tsv`) under the root, whether or not it
    /// exists.
    public func path(_ relativePath: String) -> String {
        URL(fileURLWithPath: root, isDirectory: true).appendingPathComponent(relativePath).path
    }

    /// Whether `relativePath` names an existing file under the root.
    public func fileExists(_ relativePath: String) -> Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: path(relativePath), isDirectory: &isDirectory)
            && !isDirectory.boolValue
    }

    /// The path of the existing file `relativePath` under the root.
    /// - Throws: `DataError.missingFile` naming the full path.
    public func existingFile(_ relativePath: String) throws -> String {
        guard fileExists(relativePath) else { throw DataError.missingFile(path(relativePath)) }
        return path(relativePath)
    }

    private static func isDirectory(_ path: String) -> Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && isDirectory.boolValue
    }
}
