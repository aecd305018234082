import Foundation

/// A tab-separated text file as GLUE and the MSR corpus write them: UTF-8 (a byte-order mark is
/// skipped), lines ended by `\n` (a trailing `\r` is dropped), fields split on `\t`, no quoting
/// (a `"` is an ordinary character).
public struct TabSeparatedFile: Sendable {
    /// One line of the file.
    public struct Row: Sendable {
        /// 1-based line number in the file (the header, when present, is line 1).
        public var line: Int
        /// The fields, in column order.
        public var fields: [String]
    }

    /// The path the file was read from.
    public let path: String
    /// The rows after the header (or all rows when there is no header).
    public let rows: [Row]

    /// Reads the file at `path`.
    /// - Parameters:
    ///   - hasHeader: whether the first line is a header to skip.
    ///   - columnCount: the number of fields every row must have.
    /// - Throws: `DataError` naming the file (and the line for a row with the wrong column count).
    public init(path: String, hasHeader: Bool, columnCount: Int) throws {
        try self.init(path: path, hasHeader: hasHeader, columnCounts: columnCount...columnCount)
    }

    /// Reads the file at `path`, whose rows may have any number of fields in `columnCounts`.
    /// - Throws: `DataError` naming the file (and the line for a row with the wrong column count).
    public init(path: String, hasHeader: Bool, columnCounts: ClosedRange<Int>) throws {
        let data: Data
        do {
            data = try FileAccess.read(path, limit: Self.maximumFileSize, what: "a data file")
        } catch {
            guard FileManager.default.fileExists(atPath: path) else { throw DataError.missingFile(path) }
            throw DataError.unreadable(file: path, reason: FileAccess.reason(for: error))
        }
        var bytes = [UInt8](data)
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes.removeFirst(3) }
        var lines = bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        if lines.last?.isEmpty == true { lines.removeLast() }
        var rows: [Row] = []
        rows.reserveCapacity(lines.count)
        for (index, line) in lines.enumerated() {
            guard line.count <= Self.maximumLineLength else {
                throw DataError.overlongLine(file: path, line: index + 1, bytes: line.count, limit: Self.maximumLineLength)
            }
            guard let text = String(validating: line, as: UTF8.self) else {
                throw DataError.notUTF8(file: path, line: index + 1)
            }
            if hasHeader && index == 0 { continue }
            let content = text.utf8.last == UInt8(ascii: "\r") ? text.utf8.dropLast() : text.utf8[...]
            let fields = content.split(separator: UInt8(ascii: "\t"), omittingEmptySubsequences: false)
                .map { String(Substring($0)) }
            guard columnCounts.contains(fields.count) else {
                throw DataError.wrongColumnCount(file: path, line: index + 1, expected: columnCounts,
                                                 found: fields.count)
            }
            rows.append(Row(line: index + 1, fields: fields))
        }
        self.path = path
        self.rows = rows
    }

    /// The largest data file read (GLUE's largest, MNLI's train.tsv, is about 80 MB).
    public static let maximumFileSize = 1 << 30
    /// The longest line, in bytes (a GLUE line is at most a few kilobytes).
    public static let maximumLineLength = 1 << 20
}
