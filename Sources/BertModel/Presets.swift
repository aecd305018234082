import Foundation

/// Named model configs shipped in the repository's `graphs/` (bert-tiny, bert-mini, minilm-l6,
/// bert-base), and resolution of a CONFIG argument: a file, a model directory, or a preset name.
public enum Presets {
    public static let names = ["bert-tiny", "bert-mini", "minilm-l6", "bert-base"]

    /// Resolves CONFIG: a JSON file, a directory holding `config.json`/`bert_config.json`, or a
    /// preset name, read from `graphs` (the directory holding `<preset>.json`; the caller
    /// finds it, since a library does not search for the repository's files).
    public static func resolve(_ spec: String, graphs: URL?) throws -> BertConfig {
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
        guard names.contains(spec), let dir = graphs else {
            throw ModelError.unknownPreset(spec, names)
        }
        return try BertConfig.load(dir.appendingPathComponent("\(spec).json"))
    }
}
