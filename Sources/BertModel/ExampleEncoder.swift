import BertText

/// Tokenizes and packs sentence pairs into unpadded `EncodedExample`s no longer than
/// `maxLength` tokens (batches pad them later to their bucket's length).
public struct ExampleEncoder: Sendable {
    public let tokenizer: BertTokenizer
    public let maxLength: Int
    private let packer: InputPacker

    public init(tokenizer: BertTokenizer, maxLength: Int, truncation: TruncationStrategy = .longestFirst) throws {
        self.tokenizer = tokenizer
        self.maxLength = maxLength
        packer = try InputPacker(specialTokens: tokenizer.vocabulary.specialTokens, sequenceLength: maxLength,
                                 truncation: truncation)
    }

    /// `[CLS] a [SEP] b [SEP]` (or `[CLS] a [SEP]`), truncated to `maxLength`, unpadded.
    public func encode(_ a: String, _ b: String?, label: Float = 0) -> EncodedExample {
        let packed = packer.pack(tokenizer.encode(a), b.map { tokenizer.encode($0) })
        let n = packed.attentionMask.reduce(0) { $0 + Int($1) }
        return EncodedExample(tokenIDs: Array(packed.inputIDs.prefix(n)), typeIDs: Array(packed.typeIDs.prefix(n)), label: label)
    }
}
