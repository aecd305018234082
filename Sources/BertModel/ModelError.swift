/// Errors of model set-up: configs, model directories, presets. Each names the file.
public enum ModelError: Error, CustomStringConvertible, Equatable {
    case unreadable(String, String)
    case badConfig(String, String)
    case notAModelDirectory(String, String)
    case unknownPreset(String, [String])
    /// A batch or sequence length too large for the model or for this machine's memory.
    case tooLarge(String)

    public var description: String {
        switch self {
        case .unreadable(let file, let why): return "cannot read \(file): \(why)"
        case .badConfig(let file, let why): return "bad model config \(file): \(why)"
        case .notAModelDirectory(let dir, let why): return "\(dir) is not a model directory: \(why)"
        case .unknownPreset(let name, let known):
            return "unknown config \"\(name)\": not a file and not a preset (\(known.joined(separator: ", ")))"
        case .tooLarge(let why): return why
        }
    }
}
