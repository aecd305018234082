import ArgumentParser
import BertModel
import BertText
import Foundation

/// `--data-dir`, shared by the commands that read task data.
struct DataOptions: ParsableArguments {
    @Option(help: "Data root (laid out like GLUE/SQuAD); else $BERTC_DATA, ../shared/data, ./data.")
    var dataDir: String?

    func locator() throws -> DataLocator { try DataLocator(explicitRoot: dataDir) }
}

/// `--json`, shared by every command that reports: one JSON object on stdout instead of text
/// (progress still goes to stderr).
struct ReportOptions: ParsableArguments {
    @Flag(help: "Print one JSON object on stdout instead of text.")
    var json = false
}

/// A model config and the batch it is sized for, shared by `compile` and `bench`.
struct WorkloadOptions: ParsableArguments {
    @Argument(help: "A preset (\(Presets.names.joined(separator: ", "))), a config JSON file or a model directory.")
    var config: String
    @Option(help: "Batch size.") var batch: Int = 32
    @Option(help: "Sequence length.") var seq: Int = 128

    /// The config of `source` (a preset, config file or model directory; default: the
    /// argument), checked to hold `--seq` positions and the workload to fit `memoryLimit`.
    func resolve(_ source: String? = nil, training: Bool, memoryLimit: Int = BertConfig.memoryLimit) throws -> BertConfig {
        let source = source ?? config
        let bertConfig = try Presets.resolve(source, graphs: Repository.graphs())
        guard seq <= bertConfig.maxPositionEmbeddings else {
            throw ValidationError("--seq \(seq) exceeds max_position_embeddings \(bertConfig.maxPositionEmbeddings)")
        }
        try bertConfig.checkWorkload(batch: batch, sequenceLength: seq, training: training, source: source,
                                     memoryLimit: memoryLimit)
        return bertConfig
    }
}

/// Prints `value` as one JSON object on stdout.
func printJSON<T: Encodable>(_ value: T) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
    FileHandle.standardOutput.write(try encoder.encode(value) + Data("\n".utf8))
}

/// A progress or status line on stderr.
func note(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}

/// Parses "32,64,96,128".
func parseBuckets(_ text: String) throws -> [Int] {
    let values = text.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
    guard !values.isEmpty, values.allSatisfy({ ($0 ?? 0) > 0 }) else {
        throw ValidationError("--buckets takes positive lengths separated by commas, e.g. 32,64,96,128")
    }
    return values.map { $0! }
}
