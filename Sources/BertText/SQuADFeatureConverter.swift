// SQuAD examples to model inputs, as google-research/bert's `convert_examples_to_features`
// (run_squad.py 296-473) does:
//   1. the question's WordPieces, cut to `maxQueryLength`;
//   2. each context word tokenised on its own (so a word maps to its pieces), and in training
//      the answer's pieces, narrowed by `_improve_answer_span` to the tokenised answer text;
//   3. windows ("doc spans") of at most `maxSeqLength - query - 3` pieces, each starting
//      `min(length, docStride)` after the previous, the last ending at the context's end;
//   4. per window `[CLS] question [SEP] span [SEP]` with its word map, its max-context flags
//      (`_check_is_max_context`) and, in training, the answer's positions or 0 and 0 when the
//      window does not hold it (or the question is impossible).
// Tokenisation is tokenization.py's FullTokenizer: BERT's basic tokenizer then WordPiece with
// words of more than 200 characters giving `[UNK]`.

/// One window of one question: a model input row and what maps it back to the context.
public struct SQuADFeature: Sendable, Equatable {
    /// The index of the question in the list converted.
    public var exampleIndex: Int
    /// The index of this window among the question's windows.
    public var docSpanIndex: Int
    /// `[CLS]`, the question's pieces, `[SEP]`, the window's context pieces, `[SEP]` (no padding).
    public var tokens: [String]
    /// [maxSeqLength]: the tokens' ids, then `[PAD]` (0).
    public var inputIDs: [Int32]
    /// [maxSeqLength]: 1 for the tokens, 0 for padding.
    public var inputMask: [Int32]
    /// [maxSeqLength]: 0 for `[CLS]`, the question and its `[SEP]`; 1 for the context and the
    /// last `[SEP]`; 0 for padding.
    public var segmentIDs: [Int32]
    /// The positions of the window's context pieces in `tokens`.
    public var contextPositions: Range<Int>
    /// The context word of each position in `contextPositions` (run_squad.py's
    /// `token_to_orig_map`, indexed from `contextPositions.lowerBound`).
    public var tokenToOrigMap: [Int]
    /// Whether this window is the one where each position in `contextPositions` has the most
    /// context (`token_is_max_context`, indexed the same way).
    public var tokenIsMaxContext: [Bool]
    /// In training: the answer's first and last positions, 0 and 0 when this window does not
    /// hold it or the question is impossible. Nil in evaluation.
    public var startPosition: Int?
    public var endPosition: Int?
    /// In training, whether the question is impossible (v2.0); false in evaluation.
    public var isImpossible: Bool

    /// The context word at `position` of `tokens`, or nil for a question or special token.
    public func originalWord(atPosition position: Int) -> Int? {
        contextPositions.contains(position) ? tokenToOrigMap[position - contextPositions.lowerBound] : nil
    }
}

/// Converts SQuAD examples into features with run_squad.py's windows.
public struct SQuADFeatureConverter: Sendable {
    /// The `unique_id` of the first feature; each next feature counts up by one.
    public static let firstUniqueID = 1_000_000_000

    public let vocabulary: Vocabulary
    public let basic: BasicTokenizer
    public let wordPiece: WordPieceTokenizer
    public let maxSeqLength: Int
    public let docStride: Int
    public let maxQueryLength: Int

    /// - Parameters:
    ///   - lowercase: true for uncased models.
    ///   - maxSeqLength, docStride, maxQueryLength: run_squad.py's flags (384, 128, 64).
    /// - Throws: `SQuADError.badSettings` when a window could hold no context piece or the
    ///   stride is not positive.
    public init(vocabulary: Vocabulary, lowercase: Bool, maxSeqLength: Int = 384, docStride: Int = 128,
                maxQueryLength: Int = 64) throws {
        guard maxQueryLength >= 0, maxSeqLength - maxQueryLength - 3 >= 1 else {
            throw SQuADError.badSettings("max_seq_length \(maxSeqLength) leaves no room for the context after a "
                                         + "question of \(maxQueryLength) pieces, [CLS] and two [SEP]")
        }
        guard docStride >= 1 else { throw SQuADError.badSettings("doc_stride must be positive, not \(docStride)") }
        self.vocabulary = vocabulary
        basic = BasicTokenizer(lowercase: lowercase)
        wordPiece = WordPieceTokenizer(vocabulary: vocabulary, maxCharactersPerWord: 200)
        self.maxSeqLength = maxSeqLength
        self.docStride = docStride
        self.maxQueryLength = maxQueryLength
    }

    /// The features of `examples` in order (the feature at index i has unique id
    /// `firstUniqueID + i`).
    /// - Parameter isTraining: set the answer positions (examples must be read for training).
    public func features(of examples: [SQuADExample], isTraining: Bool) -> [SQuADFeature] {
        var features: [SQuADFeature] = []
        features.reserveCapacity(examples.count + examples.count / 16)
        var cached: (paragraph: Int, context: ContextPieces)?
        for (index, example) in examples.enumerated() {
            let context: ContextPieces
            // A file's questions share their paragraph's pieces; an example made from strings
            // (paragraph -1) shares nothing.
            if let cached, example.paragraphIndex >= 0, cached.paragraph == example.paragraphIndex,
               cached.context.wordCount == example.contextWords.count {
                context = cached.context
            } else {
                context = pieces(ofWords: example.contextWords)
                cached = (example.paragraphIndex, context)
            }
            features += self.features(of: example, exampleIndex: index, context: context, isTraining: isTraining)
        }
        return features
    }

    /// The features of one example.
    public func features(of example: SQuADExample, exampleIndex: Int, isTraining: Bool) -> [SQuADFeature] {
        features(of: example, exampleIndex: exampleIndex, context: pieces(ofWords: example.contextWords),
                 isTraining: isTraining)
    }

    /// The WordPiece ids of `text` (the full tokenizer).
    public func encode(_ text: String) -> [Int32] {
        var ids: [Int32] = []
        let wordPiece = self.wordPiece
        basic.forEachWord(in: text) { wordPiece.appendPieces(of: $0, to: &ids) }
        return ids
    }

    // MARK: - Conversion

    /// A context's pieces and the word of each.
    struct ContextPieces {
        var ids: [Int32] = []
        /// `tok_to_orig_index`.
        var wordOfPiece: [Int] = []
        /// `orig_to_tok_index`.
        var firstPieceOfWord: [Int] = []
        var wordCount: Int { firstPieceOfWord.count }
    }

    func pieces(ofWords words: [String]) -> ContextPieces {
        var context = ContextPieces()
        context.firstPieceOfWord.reserveCapacity(words.count)
        // Locals, so that the closure does not copy (retain and release) the whole converter
        // for every word.
        let basic = self.basic, wordPiece = self.wordPiece
        for (index, word) in words.enumerated() {
            context.firstPieceOfWord.append(context.ids.count)
            let before = context.ids.count
            basic.forEachWord(in: word) { wordPiece.appendPieces(of: $0, to: &context.ids) }
            context.wordOfPiece += repeatElement(index, count: context.ids.count - before)
        }
        return context
    }

    private func features(of example: SQuADExample, exampleIndex: Int, context: ContextPieces,
                          isTraining: Bool) -> [SQuADFeature] {
        let query = Array(encode(example.question).prefix(maxQueryLength))
        let impossible = isTraining && example.isImpossible
        var answer: (start: Int, end: Int)?
        if isTraining && !impossible, let trained = example.trainingAnswer {
            let start = context.firstPieceOfWord[trained.firstWord]
            // A word may give no piece: the end is the next word's first piece minus one.
            let end = trained.lastWord < context.wordCount - 1
                ? context.firstPieceOfWord[trained.lastWord + 1] - 1 : context.ids.count - 1
            answer = improveAnswerSpan(context.ids, start: start, end: end, answerText: trained.text)
        }
        let spans = docSpans(pieceCount: context.ids.count, queryCount: query.count)
        let special = vocabulary.specialTokens
        var features: [SQuADFeature] = []
        for (spanIndex, span) in spans.enumerated() {
            var ids: [Int32] = [special.cls] + query + [special.sep]
            let contextStart = ids.count
            ids += context.ids[span]
            ids.append(special.sep)
            let length = ids.count
            let padding = maxSeqLength - length
            let tokens = ids.map { vocabulary.tokens[Int($0)] }
            var segments = [Int32](repeating: 0, count: contextStart)
            segments += repeatElement(1, count: length - contextStart)
            segments += repeatElement(0, count: padding)
            var feature = SQuADFeature(
                exampleIndex: exampleIndex, docSpanIndex: spanIndex, tokens: tokens,
                inputIDs: ids + repeatElement(0, count: padding),  // the original pads with 0, not [PAD]'s id
                inputMask: [Int32](repeating: 1, count: length) + repeatElement(0, count: padding),
                segmentIDs: segments, contextPositions: contextStart..<(contextStart + span.count),
                tokenToOrigMap: Array(context.wordOfPiece[span]),
                tokenIsMaxContext: span.map { isMaxContext(spans, spanIndex: spanIndex, piece: $0) },
                startPosition: nil, endPosition: nil, isImpossible: impossible)
            if impossible {
                feature.startPosition = 0
                feature.endPosition = 0
            } else if let answer {
                let inside = answer.start >= span.lowerBound && answer.end <= span.upperBound - 1
                feature.startPosition = inside ? answer.start - span.lowerBound + contextStart : 0
                feature.endPosition = inside ? answer.end - span.lowerBound + contextStart : 0
            }
            features.append(feature)
        }
        return features
    }

    /// The windows over `pieceCount` context pieces, as ranges of piece indices.
    func docSpans(pieceCount: Int, queryCount: Int) -> [Range<Int>] {
        let maxTokensForDoc = maxSeqLength - queryCount - 3
        var spans: [Range<Int>] = []
        var start = 0
        while start < pieceCount {
            let length = min(pieceCount - start, maxTokensForDoc)
            spans.append(start..<(start + length))
            if start + length == pieceCount { break }
            start += min(length, docStride)
        }
        return spans
    }

    /// `_improve_answer_span`: the first sub-span (starts left to right, ends right to left)
    /// whose pieces are exactly the tokenised answer text; else the span unchanged. Pieces hold
    /// no spaces and vocabulary tokens are unique, so comparing ids is comparing the original's
    /// space-joined strings. `end` is `start - 1` when the answer's words give no piece.
    func improveAnswerSpan(_ pieces: [Int32], start: Int, end: Int, answerText: String) -> (start: Int, end: Int) {
        let answer = encode(answerText)
        if start <= end {
            for newStart in start...end {
                for newEnd in stride(from: end, through: newStart, by: -1)
                where newEnd - newStart + 1 == answer.count && pieces[newStart...newEnd].elementsEqual(answer) {
                    return (newStart, newEnd)
                }
            }
        }
        return (start, end)
    }

    /// `_check_is_max_context`: whether window `spanIndex` is the first of the windows holding
    /// `piece` with the highest score, min(left, right context) + 0.01 x window length.
    func isMaxContext(_ spans: [Range<Int>], spanIndex: Int, piece: Int) -> Bool {
        var bestScore = -Double.infinity  // every score is positive
        var bestSpan = -1
        for (index, span) in spans.enumerated() where span.contains(piece) {
            let left = piece - span.lowerBound, right = span.upperBound - 1 - piece
            let score = Double(min(left, right)) + 0.01 * Double(span.count)
            if score > bestScore {  // strict: the earliest window wins a tie
                bestScore = score
                bestSpan = index
            }
        }
        return bestSpan == spanIndex
    }
}
