/// bertc's name and version: what `bertc --version` prints and what the files bertc writes
/// record as their producer (ONNX `producer_name`/`producer_version`, a bundle's
/// `created_by`, the `producer` of a safetensors header).
public enum BertcVersion {
    public static let name = "bertc"
    /// Semantic version of the command line and the formats it writes.
    public static let string = "0.1.0"
}
