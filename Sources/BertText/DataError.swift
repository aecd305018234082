/// Why a data set could not be found or read. Row errors name the file and the 1-based line.
public enum DataError: Error, CustomStringConvertible, Equatable {
    /// No candidate data root exists.
    case noDataRoot(tried: [String])
    /// A file the task needs is not under the data root.
    case missingFile(String)
    /// A file exists but could not be read.
    case unreadable(file: String, reason: String)
    /// A line of a file is not valid UTF-8.
    case notUTF8(file: String, line: Int)
    /// A line longer than any real data line, in bytes.
    case overlongLine(file: String, line: Int, bytes: Int, limit: Int)
    /// An explicitly named data root (`--data-dir`, `$BERTC_DATA`) that is not a directory.
    case dataRootMissing(path: String, source: String, reason: String)
    /// A row has the wrong number of tab-separated columns.
    case wrongColumnCount(file: String, line: Int, expected: ClosedRange<Int>, found: Int)
    /// A label is not one of the task's labels (or not a number, for regression).
    case badLabel(file: String, line: Int, value: String, expected: String)
    /// A split cannot be produced from this data root, with what to do about it.
    case splitUnavailable(task: String, split: String, reason: String)
    /// A file's contents contradict another's (such as dev ids absent from the training file).
    case inconsistent(file: String, reason: String)

    public var description: String {
        switch self {
        case let .noDataRoot(tried):
            return "no data directory found; tried (in order): \(tried.joined(separator: ", ")). "
                + "Pass --data-dir or set $\(DataLocator.environmentVariable)"
        case let .missingFile(path):
            return "missing data file \(path)"
        case let .unreadable(file, reason):
            return "cannot read \(file): \(reason)"
        case let .notUTF8(file, line):
            return "\(file):\(line): not valid UTF-8"
        case let .overlongLine(file, line, bytes, limit):
            return "\(file):\(line): a line of \(bytes) bytes, more than the \(limit)-byte limit for a data line"
        case let .dataRootMissing(path, source, reason):
            return "the data directory \(path) (from \(source)) \(reason); nothing else is searched when a data "
                + "directory is named"
        case let .wrongColumnCount(file, line, expected, found):
            let count = expected.count == 1 ? "\(expected.lowerBound)"
                : "\(expected.lowerBound) \(expected.count == 2 ? "or" : "to") \(expected.upperBound)"
            return "\(file):\(line): expected \(count) tab-separated columns, found \(found)"
        case let .badLabel(file, line, value, expected):
            return "\(file):\(line): bad label \"\(value)\" (expected \(expected))"
        case let .splitUnavailable(task, split, reason):
            return "\(task) has no \(split) split here: \(reason)"
        case let .inconsistent(file, reason):
            return "\(file): \(reason)"
        }
    }
}
