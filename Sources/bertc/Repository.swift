// The repository bertc runs from or was built in, for the files it ships beside the binary:
// the preset configs and task recipes in `graphs/`, and `tools/ort_run.py`. Only the command
// line looks for them; the libraries take the locations as arguments.

import Foundation

enum Repository {
    /// The nearest directory holding `relativePath`, searching up (at most eight levels) from
    /// the current directory, the executable and this source file, in that order.
    static func root(containing relativePath: String) -> URL? {
        let fm = FileManager.default
        let starts = [URL(fileURLWithPath: fm.currentDirectoryPath),
                      URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent(),
                      URL(fileURLWithPath: #filePath).deletingLastPathComponent()]
        for start in starts {
            var directory = start.standardizedFileURL
            for _ in 0..<8 {
                if fm.fileExists(atPath: directory.appendingPathComponent(relativePath).path) { return directory }
                directory = directory.deletingLastPathComponent()
            }
        }
        return nil
    }

    /// The `graphs/` directory: `$BERTC_GRAPHS`, else the repository's.
    static func graphs(environment: [String: String] = ProcessInfo.processInfo.environment) -> URL? {
        if let path = environment["BERTC_GRAPHS"], !path.isEmpty { return URL(fileURLWithPath: path) }
        return root(containing: "graphs/bert-tiny.json")?.appendingPathComponent("graphs")
    }
}
