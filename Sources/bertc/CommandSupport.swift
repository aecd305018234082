import ArgumentParser
import BertText
import Foundation

/// `--data-dir`, shared by the commands that read task data.
struct DataOptions: ParsableArguments {
    @Option(help: "Data root (laid out like GLUE/SQuAD); else $BERTC_DATA, ../shared/data, ./data.")
    var dataDir: String?

    func locator() throws -> DataLocator { try DataLocator(explicitRoot: dataDir) }
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
