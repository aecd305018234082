/// WordPiece: splits one word into vocabulary pieces, greedy longest-match-first, with `##`
/// marking pieces that continue a word.
///
/// Works on UTF-8 bytes and only cuts at character boundaries. A word longer than
/// `maxCharactersPerWord` Unicode scalars, or one that cannot be covered by pieces, becomes a
/// single `[UNK]` (as in google-research/bert and Hugging Face `tokenizers`).
public struct WordPieceTokenizer: Sendable {
    /// The vocabulary pieces are looked up in.
    public let vocabulary: Vocabulary
    /// Words longer than this many Unicode scalars become `[UNK]`.
    public let maxCharactersPerWord: Int

    public init(vocabulary: Vocabulary, maxCharactersPerWord: Int = 100) {
        self.vocabulary = vocabulary
        self.maxCharactersPerWord = maxCharactersPerWord
    }

    /// Appends the ids of the pieces of `word` (UTF-8 bytes, non-empty) to `ids`.
    public func appendPieces(of word: UnsafeBufferPointer<UInt8>, to ids: inout [Int32]) {
        let unknown = vocabulary.specialTokens.unk
        var characters = 0
        for byte in word where byte & 0xC0 != 0x80 { characters += 1 }
        if characters > maxCharactersPerWord {
            ids.append(unknown)
            return
        }
        let firstPiece = ids.count
        let count = word.count
        var start = 0
        while start < count {
            let table = start == 0 ? vocabulary.wordTable : vocabulary.continuationTable
            // No piece is longer than the table's longest key: start the search there.
            var end = min(count, start + table.longestKeyLength)
            while end < count && word[end] & 0xC0 == 0x80 { end -= 1 }
            var match: Int32?
            while end > start {
                match = table.value(for: UnsafeBufferPointer(rebasing: word[start..<end]))
                if match != nil { break }
                end -= 1
                while end > start && word[end] & 0xC0 == 0x80 { end -= 1 }
            }
            guard let id = match else {
                ids.removeSubrange(firstPiece...)
                ids.append(unknown)
                return
            }
            ids.append(id)
            start = end
        }
    }
}
