/// One model input row: token ids, segment (token type) ids and attention mask, each
/// `[seq]` long.
public struct PackedInput: Equatable, Sendable {
    /// `[CLS] a [SEP]` or `[CLS] a [SEP] b [SEP]`, then `[PAD]`s.
    public var inputIDs: [Int32]
    /// 0 for `[CLS]`, `a` and its `[SEP]`; 1 for `b` and its `[SEP]`; 0 for padding.
    public var typeIDs: [Int32]
    /// 1 for real tokens, 0 for padding.
    public var attentionMask: [Int32]

    public init(inputIDs: [Int32], typeIDs: [Int32], attentionMask: [Int32]) {
        self.inputIDs = inputIDs
        self.typeIDs = typeIDs
        self.attentionMask = attentionMask
    }
}

/// Packs one or two token segments into BERT's input layout, truncating and padding to a
/// fixed sequence length (or leaving the natural length).
public struct InputPacker: Sendable {
    /// The special token ids used (`[CLS]`, `[SEP]`, `[PAD]`).
    public let specialTokens: Vocabulary.SpecialTokens
    /// The longest row (a million tokens, far beyond any BERT's position embeddings), so that a
    /// mistyped length is an error instead of an allocation abort.
    public static let maximumSequenceLength = 1 << 20

    /// The padded length of every row, or nil for no truncation and no padding.
    public let sequenceLength: Int?
    /// How a segment or pair too long for `sequenceLength` is cut.
    public let truncation: TruncationStrategy

    /// - Parameters:
    ///   - specialTokens: ids of `[CLS]`, `[SEP]` and `[PAD]`.
    ///   - sequenceLength: the row length (at least 3, room for the special tokens of a pair),
    ///     or nil to keep each row's natural length.
    ///   - truncation: how to cut a pair that does not fit.
    /// - Throws: `PackingError` when `sequenceLength` < 3 or above `maximumSequenceLength`.
    public init(specialTokens: Vocabulary.SpecialTokens, sequenceLength: Int?,
                truncation: TruncationStrategy = .longestFirst) throws {
        if let sequenceLength, sequenceLength < 3 {
            throw PackingError.sequenceLengthTooShort(sequenceLength)
        }
        if let sequenceLength, sequenceLength > Self.maximumSequenceLength {
            throw PackingError.sequenceLengthTooLong(sequenceLength)
        }
        self.specialTokens = specialTokens
        self.sequenceLength = sequenceLength
        self.truncation = truncation
    }

    /// Packs `first` (and `second` when given) into one row.
    /// - Parameters:
    ///   - first: token ids of the first segment, without special tokens.
    ///   - second: token ids of the second segment, or nil for a single sentence.
    public func pack(_ first: [Int32], _ second: [Int32]? = nil) -> PackedInput {
        let specials = second == nil ? 2 : 3
        var keepFirst = first.count
        var keepSecond = second?.count ?? 0
        if let sequenceLength {
            let kept = truncation.keptLengths(first: first.count, second: second?.count,
                                              budget: sequenceLength - specials)
            keepFirst = kept.first
            keepSecond = kept.second ?? 0
        }
        let natural = keepFirst + keepSecond + specials
        let length = sequenceLength ?? natural
        var ids = [Int32](repeating: specialTokens.pad, count: length)
        var types = [Int32](repeating: 0, count: length)
        var mask = [Int32](repeating: 0, count: length)
        ids[0] = specialTokens.cls
        for index in 0..<keepFirst { ids[1 + index] = first[index] }
        ids[1 + keepFirst] = specialTokens.sep
        if let second {
            let offset = 2 + keepFirst
            for index in 0..<keepSecond { ids[offset + index] = second[index] }
            ids[offset + keepSecond] = specialTokens.sep
            for index in offset..<natural { types[index] = 1 }
        }
        for index in 0..<natural { mask[index] = 1 }
        return PackedInput(inputIDs: ids, typeIDs: types, attentionMask: mask)
    }
}

/// Why an input packer could not be made.
public enum PackingError: Error, CustomStringConvertible, Equatable {
    case sequenceLengthTooShort(Int)
    case sequenceLengthTooLong(Int)

    public var description: String {
        switch self {
        case let .sequenceLengthTooShort(length):
            return "sequence length \(length) is too short: it must be at least 3 to hold [CLS] a [SEP] b [SEP]"
        case let .sequenceLengthTooLong(length):
            return "sequence length \(length) is longer than the \(InputPacker.maximumSequenceLength) tokens bertc packs"
        }
    }
}
