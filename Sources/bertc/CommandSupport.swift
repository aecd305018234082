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

/// Reads sentence pairs from a TSV file: one or two text columns per line, no header.
func readPairs(_ path: String) throws -> [(String, String?)] {
    guard let data = FileManager.default.contents(atPath: path) else {
        throw ValidationError("cannot read \(path)")
    }
    guard let text = String(data: data, encoding: .utf8) else { throw ValidationError("\(path) is not UTF-8 text") }
    var pairs: [(String, String?)] = []
    for (i, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
        let row = line.hasSuffix("\r") ? line.dropLast() : line
        if row.isEmpty { continue }
        let columns = row.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
        guard columns.count == 1 || columns.count == 2 else {
            throw ValidationError("\(path):\(i + 1): expected 1 or 2 tab-separated columns, found \(columns.count)")
        }
        pairs.append((columns[0], columns.count == 2 ? columns[1] : nil))
    }
    guard !pairs.isEmpty else { throw ValidationError("\(path) holds no sentences") }
    return pairs
}

/// Parses "32,64,96,128".
func parseBuckets(_ text: String) throws -> [Int] {
    let values = text.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
    guard !values.isEmpty, values.allSatisfy({ ($0 ?? 0) > 0 }) else {
        throw ValidationError("--buckets takes positive lengths separated by commas, e.g. 32,64,96,128")
    }
    return values.map { $0! }
}
