import Foundation

/// A WordPiece vocabulary read from a `vocab.txt`: one token per line, id = line index.
///
/// Lines are stripped of trailing whitespace (as Hugging Face `tokenizers` does). A token that
/// occurs twice is an error: Hugging Face would silently give it the later line's id, leaving
/// the earlier id unreachable.
public struct Vocabulary: Sendable {
    /// Token text by id.
    public let tokens: [String]
    /// The file the vocabulary was read from (for error messages), or a description.
    public let source: String
    /// Ids of the special tokens BERT packing needs.
    public let specialTokens: SpecialTokens
    /// Whole-word tokens (every token, keyed by its full text).
    let wordTable: ByteKeyTable
    /// Continuation tokens (`##xyz`), keyed by the text after `##`.
    let continuationTable: ByteKeyTable

    /// The ids of `[CLS]`, `[SEP]`, `[PAD]`, `[UNK]` and `[MASK]`.
    public struct SpecialTokens: Sendable, Equatable {
        public var cls: Int32
        public var sep: Int32
        public var pad: Int32
        public var unk: Int32
        public var mask: Int32
    }

    /// The number of tokens.
    public var count: Int { tokens.count }

    /// The largest `vocab.txt` read (BERT vocabularies are a few hundred kilobytes).
    public static let maximumFileSize = 64 << 20
    /// The longest token line, in bytes. WordPiece never matches a word of more than 100
    /// characters, so a longer line is not a token but a damaged file.
    public static let maximumTokenLength = 1024

    /// Reads `vocab.txt` at `path`.
    /// - Throws: `VocabularyError` naming the file (and line) when it cannot be read, is not
    ///   UTF-8, is empty, holds an overlong line or a token twice, or lacks a special token.
    public init(contentsOf path: String) throws {
        let data: Data
        do {
            data = try FileAccess.read(path, limit: Self.maximumFileSize, what: "a vocabulary")
        } catch {
            throw VocabularyError.unreadable(file: path, reason: FileAccess.reason(for: error))
        }
        try self.init(data: data, source: path)
    }

    /// Reads the bytes of a `vocab.txt`; `source` names the file in errors.
    /// - Throws: `VocabularyError` when a line is not UTF-8 or too long, the list is empty,
    ///   holds a token twice or lacks a special token.
    public init(data: Data, source: String) throws {
        var lines = [UInt8](data).split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        if lines.last?.isEmpty == true { lines.removeLast() }
        var tokens: [String] = []
        tokens.reserveCapacity(lines.count)
        for (index, line) in lines.enumerated() {
            guard line.count <= Self.maximumTokenLength else {
                throw VocabularyError.overlongLine(file: source, line: index + 1, bytes: line.count)
            }
            guard let text = String(validating: line, as: UTF8.self) else {
                throw VocabularyError.notUTF8(file: source, line: index + 1)
            }
            tokens.append(Self.trimmingTrailingWhitespace(text.unicodeScalars[...]))
        }
        try self.init(tokens: tokens, source: source)
    }

    /// `line` without trailing whitespace (Rust's `trim_end`, which also drops a `\r`).
    private static func trimmingTrailingWhitespace(_ line: Substring.UnicodeScalarView) -> String {
        var line = line
        while let last = line.last, BertCharacterClasses.isWhitespace(last) { line.removeLast() }
        return String(line)
    }

    /// Makes a vocabulary from tokens in id order.
    /// - Throws: `VocabularyError` when it is empty, holds a token twice, has more tokens than
    ///   an `Int32` id can number, or lacks a special token.
    public init(tokens: [String], source: String = "<in-memory vocabulary>") throws {
        guard !tokens.isEmpty else { throw VocabularyError.empty(file: source) }
        guard tokens.count <= Int(Int32.max) else { throw VocabularyError.tooManyTokens(file: source, count: tokens.count) }
        self.tokens = tokens
        self.source = source
        var words = ByteKeyTable(capacity: tokens.count)
        var continuations = ByteKeyTable(capacity: tokens.count)
        for (id, token) in tokens.enumerated() {
            if let earlier = Array(token.utf8).withUnsafeBufferPointer({ words.value(for: $0) }) {
                throw VocabularyError.duplicateToken(token, file: source, line: id + 1, firstLine: Int(earlier) + 1)
            }
            words.insert(token.utf8, value: Int32(id))
            // Bytes, not `hasPrefix`: "##" followed by a combining mark is not two `Character`s.
            if token.utf8.starts(with: "##".utf8) {
                continuations.insert(token.utf8.dropFirst(2), value: Int32(id))
            }
        }
        wordTable = words
        continuationTable = continuations
        func lookUp(_ name: String) throws -> Int32 {
            let found = Array(name.utf8).withUnsafeBufferPointer { words.value(for: $0) }
            guard let id = found else { throw VocabularyError.missingSpecialToken(name, file: source) }
            return id
        }
        specialTokens = SpecialTokens(cls: try lookUp("[CLS]"), sep: try lookUp("[SEP]"),
                                      pad: try lookUp("[PAD]"), unk: try lookUp("[UNK]"),
                                      mask: try lookUp("[MASK]"))
    }

    /// The id of `token`, or nil when it is not in the vocabulary.
    public func id(of token: String) -> Int32? {
        Array(token.utf8).withUnsafeBufferPointer { wordTable.value(for: $0) }
    }

    /// The text of token `id`, or nil when out of range.
    public func token(_ id: Int32) -> String? {
        tokens.indices.contains(Int(id)) ? tokens[Int(id)] : nil
    }
}

/// Why a vocabulary could not be loaded.
public enum VocabularyError: Error, CustomStringConvertible, Equatable {
    case unreadable(file: String, reason: String)
    case notUTF8(file: String, line: Int)
    case overlongLine(file: String, line: Int, bytes: Int)
    case empty(file: String)
    case duplicateToken(String, file: String, line: Int, firstLine: Int)
    case tooManyTokens(file: String, count: Int)
    case missingSpecialToken(String, file: String)

    public var description: String {
        switch self {
        case let .unreadable(file, reason):
            return "cannot read the vocabulary file \(file): \(reason)"
        case let .notUTF8(file, line):
            return "\(file):\(line): the vocabulary file is not valid UTF-8"
        case let .overlongLine(file, line, bytes):
            return "\(file):\(line): a vocabulary line of \(bytes) bytes; a token has at most "
                + "\(Vocabulary.maximumTokenLength) (is this a vocab.txt?)"
        case let .duplicateToken(token, file, line, firstLine):
            return "\(file):\(line): the token \"\(token)\" is already on line \(firstLine); "
                + "a vocabulary lists each token once"
        case let .tooManyTokens(file, count):
            return "the vocabulary file \(file) holds \(count) tokens, more than token ids can number"
        case let .empty(file):
            return "the vocabulary file \(file) holds no tokens"
        case let .missingSpecialToken(name, file):
            return "the vocabulary file \(file) has no \(name) token (BERT packing needs [CLS], [SEP], [PAD], [UNK] and [MASK])"
        }
    }
}
