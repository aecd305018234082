import Foundation

/// Finds the data root: the directory laid out like the shared data (`glue/MRPC/...`,
/// `squad/...`, `vocab-bert-base-uncased.txt`).
///
/// A directory the user names is used as is: `--data-dir`, else `$BERTC_DATA`. When it does
/// not exist that is an error, never a fall-back to another directory (which would report
/// metrics on other data). Only when neither is given are `../shared/data` and `./data`,
/// relative to the current directory, searched; the first that exists wins.
public struct DataLocator: Sendable {
    /// The environment variable naming a data root.
    public static let environmentVariable = "BERTC_DATA"

    /// The data root in use.
    public let root: String

    /// Uses `root` as the data root, without searching.
    public init(root: String) {
        self.root = root
    }

    /// Uses the named data root, or searches the default ones.
    /// - Parameters:
    ///   - explicitRoot: a directory given on the command line; used as is.
    ///   - environment: the process environment (for `$BERTC_DATA`, used as is when set).
    ///   - currentDirectory: the directory relative candidates are resolved against.
    /// - Throws: `DataError.dataRootMissing` when the named directory is not one;
    ///   `DataError.noDataRoot` listing the default candidates when none exists.
    public init(explicitRoot: String? = nil,
                environment: [String: String] = ProcessInfo.processInfo.environment,
                currentDirectory: String = FileManager.default.currentDirectoryPath) throws {
        let named: (path: String, source: String)? = explicitRoot.map { ($0, "--data-dir") }
            ?? environment[Self.environmentVariable].flatMap { $0.isEmpty ? nil : ($0, "$\(Self.environmentVariable)") }
        if let named {
            let base = URL(fileURLWithPath: currentDirectory, isDirectory: true)
            let path = URL(fileURLWithPath: named.path, relativeTo: base).standardizedFileURL.path
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
                throw DataError.dataRootMissing(path: named.path, source: named.source, reason: "does not exist")
            }
            guard isDirectory.boolValue else {
                throw DataError.dataRootMissing(path: named.path, source: named.source, reason: "is a file, not a directory")
            }
            root = path
            return
        }
        let candidates = Self.candidates(explicitRoot: nil, environment: environment, currentDirectory: currentDirectory)
        guard let found = candidates.first(where: Self.isDirectory) else {
            throw DataError.noDataRoot(tried: candidates)
        }
        root = found
    }

    /// The candidate roots in search order; the first (when named) is the only one used.
    public static func candidates(explicitRoot: String?, environment: [String: String],
                                  currentDirectory: String) -> [String] {
        let base = URL(fileURLWithPath: currentDirectory, isDirectory: true)
        if let explicitRoot { return [explicitRoot] }
        if let fromEnvironment = environment[environmentVariable], !fromEnvironment.isEmpty { return [fromEnvironment] }
        return [base.appendingPathComponent("../shared/data").standardizedFileURL.path,
                base.appendingPathComponent("data").standardizedFileURL.path]
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
