import Foundation

// BERT's "basic" tokenisation: normalise the text and split it into words.
//
// Stages, in the order of Hugging Face `tokenizers`' BertNormalizer and BertPreTokenizer:
//   1. clean: drop NUL, U+FFFD and control/format/unassigned characters; whitespace becomes ' '
//   2. put spaces around CJK ideographs
//   3. uncased only: NFD, then drop non-spacing marks (accent stripping)
//   4. uncased only: lower-case (full Unicode mapping, one character at a time)
//   5. split on whitespace (dropped) and on punctuation (each kept as a word of its own)
//
// Text that is all ASCII (the common case) takes a byte loop that does all five stages at once;
// other text goes through Unicode scalars, and through Foundation's NFD only when it holds a
// character that can decompose (U+00C0 and above).
// Lower-casing and NFD agree with `tokenizers` for every scalar (UncasedNormalizationTests).

/// Normalises text and splits it into words, handing each word to a callback as UTF-8 bytes.
public struct BasicTokenizer: Sendable {
    /// Whether to lower-case and strip accents (uncased models) or leave the text as is (cased).
    public let lowercase: Bool

    /// - Parameter lowercase: true for uncased models (lower-case and strip accents).
    public init(lowercase: Bool) {
        self.lowercase = lowercase
    }

    /// Calls `body` with the UTF-8 bytes of each word of `text`, in order. The buffer is only
    /// valid during the call.
    public func forEachWord(in text: String, _ body: (UnsafeBufferPointer<UInt8>) -> Void) {
        var text = text
        let isASCII = text.withUTF8 { utf8 in utf8.allSatisfy { $0 < 0x80 } }
        var word: [UInt8] = []
        word.reserveCapacity(64)
        if isASCII {
            text.withUTF8 { forEachASCIIWord(in: $0, word: &word, body) }
        } else {
            forEachUnicodeWord(in: text, word: &word, body)
        }
    }

    /// The words of `text` as strings (for display and tests; the tokenizer uses `forEachWord`).
    public func words(in text: String) -> [String] {
        var words: [String] = []
        forEachWord(in: text) { words.append(String(decoding: $0, as: UTF8.self)) }
        return words
    }

    // MARK: - ASCII

    /// All five stages for ASCII text, one byte at a time.
    private func forEachASCIIWord(in utf8: UnsafeBufferPointer<UInt8>, word: inout [UInt8],
                                  _ body: (UnsafeBufferPointer<UInt8>) -> Void) {
        for byte in utf8 {
            if byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D {
                flush(&word, body)
            } else if byte < 0x20 || byte == 0x7F {
                continue  // a control character is removed, joining its neighbours
            } else if BertCharacterClasses.isASCIIPunctuation(byte) {
                flush(&word, body)
                withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 1) { single in
                    single[0] = byte
                    body(UnsafeBufferPointer(single))
                }
            } else if lowercase && byte >= 0x41 && byte <= 0x5A {
                word.append(byte | 0x20)
            } else {
                word.append(byte)
            }
        }
        flush(&word, body)
    }

    // MARK: - Unicode

    /// The five stages for text with non-ASCII characters, on Unicode scalars.
    private func forEachUnicodeWord(in text: String, word: inout [UInt8],
                                    _ body: (UnsafeBufferPointer<UInt8>) -> Void) {
        var cleaned = String.UnicodeScalarView()
        var mayDecompose = false
        for scalar in text.unicodeScalars {
            if BertCharacterClasses.isRemovedByCleaning(scalar) { continue }
            if BertCharacterClasses.isWhitespace(scalar) {
                cleaned.append(" ")
            } else if BertCharacterClasses.isChineseCharacter(scalar) {
                cleaned.append(" ")
                cleaned.append(scalar)
                cleaned.append(" ")
            } else {
                mayDecompose = mayDecompose || scalar.value >= 0xC0
                cleaned.append(scalar)
            }
        }
        if !lowercase {
            splitWords(cleaned, word: &word, body)
            return
        }
        let decomposed = mayDecompose
            ? String(cleaned).decomposedStringWithCanonicalMapping.unicodeScalars : cleaned
        var lowered = String.UnicodeScalarView()
        for scalar in decomposed {
            if scalar.value < 0x80 {
                let value = scalar.value
                lowered.append(value >= 0x41 && value <= 0x5A ? Unicode.Scalar(UInt8(value | 0x20)) : scalar)
            } else if !BertCharacterClasses.isNonspacingMark(scalar) {
                lowered.append(contentsOf: scalar.properties.lowercaseMapping.unicodeScalars)
            }
        }
        splitWords(lowered, word: &word, body)
    }

    /// Stage 5 on normalised scalars: split on whitespace and punctuation.
    private func splitWords(_ scalars: String.UnicodeScalarView, word: inout [UInt8],
                            _ body: (UnsafeBufferPointer<UInt8>) -> Void) {
        for scalar in scalars {
            if BertCharacterClasses.isWhitespace(scalar) {
                flush(&word, body)
            } else if BertCharacterClasses.isPunctuation(scalar) {
                flush(&word, body)
                UTF8.encode(scalar) { word.append($0) }
                flush(&word, body)
            } else {
                UTF8.encode(scalar) { word.append($0) }
            }
        }
        flush(&word, body)
    }

    /// Hands a non-empty `word` to `body` and empties it.
    @inline(__always)
    private func flush(_ word: inout [UInt8], _ body: (UnsafeBufferPointer<UInt8>) -> Void) {
        if word.isEmpty { return }
        word.withUnsafeBufferPointer(body)
        word.removeAll(keepingCapacity: true)
    }
}
