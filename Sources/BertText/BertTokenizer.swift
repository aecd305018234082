/// BERT's full tokenizer: basic tokenisation (normalise, split into words) then WordPiece.
///
/// Matches Hugging Face `tokenizers`' `BertWordPieceTokenizer` with `lowercase` set the same way
/// (and `strip_accents` following `lowercase`), checked by the golden files in `golden/tokenizer/`.
public struct BertTokenizer: Sendable {
    /// Normalisation and word splitting.
    public let basic: BasicTokenizer
    /// Sub-word splitting.
    public let wordPiece: WordPieceTokenizer

    /// The vocabulary tokens are looked up in.
    public var vocabulary: Vocabulary { wordPiece.vocabulary }

    /// - Parameters:
    ///   - vocabulary: the WordPiece vocabulary.
    ///   - lowercase: true for uncased models (lower-case and strip accents), false for cased.
    public init(vocabulary: Vocabulary, lowercase: Bool) {
        basic = BasicTokenizer(lowercase: lowercase)
        wordPiece = WordPieceTokenizer(vocabulary: vocabulary)
    }

    /// Reads the vocabulary from `vocabularyFile` (a `vocab.txt`).
    /// - Throws: `VocabularyError` naming the file.
    public init(vocabularyFile: String, lowercase: Bool) throws {
        self.init(vocabulary: try Vocabulary(contentsOf: vocabularyFile), lowercase: lowercase)
    }

    /// The token ids of `text`, without special tokens.
    public func encode(_ text: String) -> [Int32] {
        var ids: [Int32] = []
        ids.reserveCapacity(text.utf8.count / 3 + 4)
        encode(text, appendingTo: &ids)
        return ids
    }

    /// Appends the token ids of `text` (without special tokens) to `ids`.
    public func encode(_ text: String, appendingTo ids: inout [Int32]) {
        basic.forEachWord(in: text) { wordPiece.appendPieces(of: $0, to: &ids) }
    }

    /// The tokens of `text` as vocabulary strings (`##` marks continuations), without special
    /// tokens.
    public func tokenize(_ text: String) -> [String] {
        encode(text).map { vocabulary.tokens[Int($0)] }
    }
}
