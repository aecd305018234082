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
        guard FileManager.default.fileExists(atPath: path) else { throw DataError.missingFile(path) }
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw DataError.unreadable(file: path, reason: error.localizedDescription)
        }
        guard var text = String(validating: data, as: UTF8.self) else { throw DataError.notUTF8(file: path) }
        if text.unicodeScalars.first == "\u{FEFF}" { text.unicodeScalars.removeFirst() }
        var lines = text.utf8.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        if lines.last?.isEmpty == true { lines.removeLast() }
        var rows: [Row] = []
        rows.reserveCapacity(lines.count)
        for (index, line) in lines.enumerated() where !(hasHeader && index == 0) {
            let content = line.last == UInt8(ascii: "\r") ? line.dropLast() : line
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
}
