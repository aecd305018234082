import Foundation

/// Named model configs shipped in `graphs/` (bert-tiny, bert-mini, minilm-l6, bert-base), and
/// resolution of a CONFIG argument: a file, a model directory, or a preset name.
public enum Presets {
    public static let names = ["bert-tiny", "bert-mini", "minilm-l6", "bert-base"]

    /// The `graphs/` directory: `$BERTC_GRAPHS`, else found by walking up from the
    /// executable and from the current directory.
    public static func graphsDirectory() -> URL? {
        let fm = FileManager.default
        if let env = ProcessInfo.processInfo.environment["BERTC_GRAPHS"] { return URL(fileURLWithPath: env) }
        var starts = [URL(fileURLWithPath: fm.currentDirectoryPath)]
        starts.append(URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent())
        for start in starts {
            var dir = start.standardizedFileURL
            for _ in 0..<8 {
                let candidate = dir.appendingPathComponent("graphs")
                if fm.fileExists(atPath: candidate.appendingPathComponent("bert-tiny.json").path) { return candidate }
                dir = dir.deletingLastPathComponent()
            }
        }
        return nil
    }

    /// Resolves CONFIG: a JSON file, a directory holding `config.json`/`bert_config.json`, or a
    /// preset name.
    public static func resolve(_ spec: String) throws -> BertConfig {
        let fm = FileManager.default
        var isDir: ObjCBool = false
        if fm.fileExists(atPath: spec, isDirectory: &isDir) {
            let url = URL(fileURLWithPath: spec)
            if !isDir.boolValue { return try BertConfig.load(url) }
            for name in ["config.json", "bert_config.json"] {
                let f = url.appendingPathComponent(name)
                if fm.fileExists(atPath: f.path) { return try BertConfig.load(f) }
            }
            throw ModelError.notAModelDirectory(spec, "no config.json or bert_config.json")
        }
        guard names.contains(spec), let dir = graphsDirectory() else {
            throw ModelError.unknownPreset(spec, names)
        }
        return try BertConfig.load(dir.appendingPathComponent("\(spec).json"))
    }
}
