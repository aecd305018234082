// A WordPiece span back to the original text, as run_squad.py does (842-848 and
// `get_final_text`, 927-1020):
//   1. the span's pieces joined by spaces, " ##" then "##" removed, whitespace collapsed: the
//      normalised prediction (lower-cased and accent-stripped for uncased models);
//   2. the original words the span touches joined by single spaces, re-tokenised by the basic
//      tokenizer and joined by spaces; the prediction is looked for in that;
//   3. both strings without their spaces must have the same length, and are then taken to
//      correspond character by character, which carries the prediction's first and last
//      characters back onto the original words;
//   4. when any step fails, the answer is all of the original words.
// Strings are compared and indexed by Unicode scalars, as Python indexes code points.
// The answer is a substring of the original words joined by single spaces, so its first and
// last characters lie in words; their offsets in the context follow from the words' starts.

extension SQuADPostprocessor {
    /// The answer text of a span and its offsets in the context.
    func finalText(of candidate: Candidate, feature: SQuADFeature,
                   example: SQuADExample) -> (text: String, characters: Range<Int>?) {
        guard let firstWord = feature.originalWord(atPosition: candidate.start),
              let lastWord = feature.originalWord(atPosition: candidate.end),
              firstWord <= lastWord, lastWord < example.contextWords.count else { return ("", nil) }
        let prediction = Self.detokenized(feature.tokens[candidate.start...candidate.end])

        // The original words joined by single spaces, and where each begins in that string.
        var original: [Unicode.Scalar] = []
        var wordOffsets: [Int] = []
        for word in example.contextWords[firstWord...lastWord] {
            if !original.isEmpty { original.append(" ") }
            wordOffsets.append(original.count)
            original += word.unicodeScalars
        }
        let span = projection(of: prediction, onto: original)
        guard !span.isEmpty else { return ("", nil) }

        // A character's offset in the context: its word's start plus its offset in the word.
        func contextOffset(_ position: Int) -> Int? {
            guard let word = wordOffsets.lastIndex(where: { $0 <= position }),
                  example.contextWordStarts.indices.contains(firstWord + word) else { return nil }
            return example.contextWordStarts[firstWord + word] + position - wordOffsets[word]
        }
        var text = String.UnicodeScalarView()
        text.append(contentsOf: original[span])
        guard let first = contextOffset(span.lowerBound), let last = contextOffset(span.upperBound - 1) else {
            return (String(text), nil)
        }
        return (String(text), first..<(last + 1))
    }

    /// run_squad.py 842-848: the pieces joined by spaces, word-piece markers removed and
    /// whitespace collapsed.
    static func detokenized(_ tokens: ArraySlice<String>) -> [Unicode.Scalar] {
        var bytes = Array(tokens.joined(separator: " ").utf8)
        bytes = replacingAll(Array(" ##".utf8), in: bytes)
        bytes = replacingAll(Array("##".utf8), in: bytes)
        let collapsed = SQuADReader.pythonWhitespaceSplit(String(decoding: bytes, as: UTF8.self)).joined(separator: " ")
        return Array(collapsed.unicodeScalars)
    }

    /// Python's `text.replace(pattern, "")` on UTF-8 bytes (an ASCII pattern never matches
    /// inside a multi-byte character).
    private static func replacingAll(_ pattern: [UInt8], in bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var index = 0
        while index < bytes.count {
            if bytes[index] == pattern[0], index + pattern.count <= bytes.count,
               bytes[index..<(index + pattern.count)].elementsEqual(pattern) {
                index += pattern.count
            } else {
                out.append(bytes[index])
                index += 1
            }
        }
        return out
    }

    /// `get_final_text`: the range of `original` that `prediction` stands for; all of
    /// `original` when the alignment fails.
    func projection(of prediction: [Unicode.Scalar], onto original: [Unicode.Scalar]) -> Range<Int> {
        let whole = 0..<original.count
        var retokenized: [Unicode.Scalar] = []
        for word in basic.words(in: String(String.UnicodeScalarView(original))) {
            if !retokenized.isEmpty { retokenized.append(" ") }
            retokenized += word.unicodeScalars
        }
        guard let start = Self.firstIndex(of: prediction, in: retokenized) else { return whole }
        let end = start + prediction.count - 1

        // Positions of the characters that are not spaces (`_strip_spaces`).
        let originalKept = original.indices.filter { original[$0] != " " }
        let retokenizedKept = retokenized.indices.filter { retokenized[$0] != " " }
        guard originalKept.count == retokenizedKept.count else { return whole }
        var keptIndex = [Int](repeating: -1, count: retokenized.count)
        for (kept, position) in retokenizedKept.enumerated() { keptIndex[position] = kept }

        guard keptIndex.indices.contains(start), keptIndex[start] >= 0,
              keptIndex.indices.contains(end), keptIndex[end] >= 0 else { return whole }
        let first = originalKept[keptIndex[start]], last = originalKept[keptIndex[end]]
        // Python's slice [first:last + 1] is empty when last < first.
        return first..<max(first, last + 1)
    }

    /// Python's `str.find`: the first position of `needle` in `haystack` (0 for an empty needle).
    static func firstIndex(of needle: [Unicode.Scalar], in haystack: [Unicode.Scalar]) -> Int? {
        guard needle.count <= haystack.count else { return nil }
        guard let head = needle.first else { return 0 }
        for start in 0...(haystack.count - needle.count)
        where haystack[start] == head && haystack[start..<(start + needle.count)].elementsEqual(needle) {
            return start
        }
        return nil
    }
}
