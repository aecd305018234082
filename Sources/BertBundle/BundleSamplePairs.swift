// The sentence pairs that `bertc export` and `bertc verify` run a model and its export on:
// a TSV file given with `--input`, else the first MRPC dev pairs when the shared data is
// found, else a few built-in pairs.

import BertText
import Foundation

/// Sentence pairs for parity checks; `second` is nil for single sentences.
public enum SamplePairs {
    /// Built-in pairs: paraphrases and not, short and long, one single sentence, accents and
    /// punctuation, so that truncation and bucketing are exercised too.
    public static let builtIn: [(String, String?)] = [
        ("The cat sat on the mat.", "A cat was sitting on the mat."),
        ("He said the meeting would start at noon.", "The meeting was cancelled because of the storm."),
        ("Amrozi accused his brother, whom he called \"the witness\", of deliberately distorting his evidence.",
         "Referring to him as only \"the witness\", Amrozi accused his brother of deliberately distorting his evidence."),
        ("Stocks rose sharply on Tuesday after the central bank cut interest rates.", nil),
        ("Café owners in Zürich protested the new rules.", "Cafe owners in Zurich protested against the new regulations."),
        ("Yes.", "No."),
        (String(repeating: "a very long sentence that will need truncation ", count: 20),
         String(repeating: "and another long one that goes on and on ", count: 20)),
        ("The company's shares closed at $42.50, up 3.1%.", "Shares of the company ended the day 3.1% higher at $42.50."),
    ]

    /// The first `limit` MRPC dev pairs (the MSR files' dev split) when the data root is found.
    public static func mrpcDev(limit: Int, data: DataLocator? = nil) -> [(String, String?)]? {
        guard let data = data ?? (try? DataLocator()),
              let examples = try? MRPCProcessor().examples(.dev, in: data) else { return nil }
        return examples.prefix(limit).map { ($0.textA, $0.textB) }
    }

    /// `--input FILE.tsv`, else the first `limit` MRPC dev pairs (all of them when there are
    /// fewer), else the built-in pairs.
    public static func resolve(input: String?, limit: Int = 64) throws -> (pairs: [(String, String?)], source: String) {
        if let input { return (try read(tsv: input), input) }
        if let pairs = mrpcDev(limit: limit), !pairs.isEmpty {
            return (pairs, pairs.count < limit ? "all \(pairs.count) MRPC dev pairs" : "first \(pairs.count) MRPC dev pairs")
        }
        return (builtIn, "\(builtIn.count) built-in pairs")
    }

    /// Reads pairs from a tab-separated file. With a header naming `sentence1` and `sentence2`
    /// (or GLUE's `#1 String` and `#2 String`) those columns are used, so GLUE's MRPC
    /// `dev.tsv` works as is; without one, every line is `sentence1` or `sentence1<TAB>sentence2`
    /// (the format `bertc predict --input` reads).
    /// - Throws: `DataError` naming the file (and line) when it is missing or malformed.
    public static func read(tsv path: String) throws -> [(String, String?)] {
        let header = try firstLineFields(path)
        for (a, b) in [("sentence1", "sentence2"), ("#1 String", "#2 String")] {
            if let i = header.firstIndex(of: a), let j = header.firstIndex(of: b) {
                let table = try TabSeparatedFile(path: path, hasHeader: true, columnCount: header.count)
                return table.rows.map { ($0.fields[i], $0.fields[j]) }
            }
        }
        let table = try TabSeparatedFile(path: path, hasHeader: false, columnCounts: 1...2)
        return table.rows.map { ($0.fields[0], $0.fields.count > 1 ? $0.fields[1] : nil) }
    }

    /// The fields of the first line (byte-order mark and `\r` removed).
    private static func firstLineFields(_ path: String) throws -> [String] {
        // Checked first: opening a FIFO would block until someone writes to it.
        do { _ = try FileAccess.regularFileSize(path) } catch {
            guard FileManager.default.fileExists(atPath: path) else { throw DataError.missingFile(path) }
            throw DataError.unreadable(file: path, reason: FileAccess.reason(for: error))
        }
        guard let handle = FileHandle(forReadingAtPath: path) else { throw DataError.missingFile(path) }
        defer { try? handle.close() }
        let head = (try? handle.read(upToCount: 1 << 16)) ?? Data()
        var line = String(decoding: head.split(separator: 0x0A, maxSplits: 1, omittingEmptySubsequences: false).first ?? Data(),
                          as: UTF8.self)
        if line.unicodeScalars.first == "\u{FEFF}" { line.unicodeScalars.removeFirst() }
        if line.hasSuffix("\r") { line.removeLast() }
        return line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
    }
}

/// How far two predictions of the same pairs are apart.
public struct PredictionComparison: Codable, Equatable, Sendable {
    /// Largest |a - b| over all logits (0 when bitwise identical; infinity when shapes differ).
    public var maxAbsDiff: Float
    /// Every logit has the same bit pattern.
    public var identical: Bool
    /// Pairs whose class ids differ.
    public var differingClasses: Int
    public var pairs: Int
    /// Logits (of either side) that are NaN or infinite; bitwise identical NaNs are still
    /// no reproduction of a model.
    public var nonFinite: Int

    enum CodingKeys: String, CodingKey {
        case maxAbsDiff = "max_abs_diff", identical, differingClasses = "differing_classes", pairs
        case nonFinite = "non_finite"
    }

    /// Every logit is finite on both sides and they differ by at most `tolerance` (bitwise
    /// identical when `tolerance` is 0).
    public func passes(tolerance: Float) -> Bool {
        nonFinite == 0 && maxAbsDiff.isFinite && (tolerance == 0 ? identical : maxAbsDiff <= tolerance)
    }

    /// Compares logits element by element.
    public init(_ a: [[Float]], _ b: [[Float]]) {
        pairs = a.count
        nonFinite = (a + b).reduce(0) { $0 + $1.filter { !$0.isFinite }.count }
        let sameShape = a.count == b.count && zip(a, b).allSatisfy { $0.count == $1.count }
        guard sameShape else {
            maxAbsDiff = .infinity
            identical = false
            differingClasses = max(a.count, b.count)
            return
        }
        var worst: Float = 0
        var same = true
        var differing = 0
        for (rowA, rowB) in zip(a, b) {
            for (x, y) in zip(rowA, rowB) {
                same = same && x.bitPattern == y.bitPattern
                worst = max(worst, abs(x - y).isNaN ? .infinity : abs(x - y))
            }
            if argmax(rowA) != argmax(rowB) { differing += 1 }
        }
        maxAbsDiff = worst
        identical = same
        differingClasses = differing
    }
}

private func argmax(_ row: [Float]) -> Int { row.indices.max { row[$0] < row[$1] } ?? 0 }
