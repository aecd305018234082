// The character classes BERT's text normalisation and pre-tokenisation are built on.
//
// They follow Hugging Face `tokenizers` (`normalizers/bert.rs`, `pre_tokenizers/bert.rs`), the
// reference the golden files come from. ASCII is decided here in code; other code points are
// looked up in `BertCharacterTables`, generated from `tokenizers` itself, because its Unicode
// tables are older than Swift's (they differ on some 650 code points). Where the rules differ
// from google-research/bert's `tokenization.py`, the difference is noted on the function.

/// Code-point classification used by `BasicTokenizer`.
enum BertCharacterClasses {
    /// Whether BERT treats `scalar` as whitespace: `\t`, `\n`, `\r`, space, and the other
    /// Unicode `White_Space` characters (Rust's `char::is_whitespace`).
    ///
    /// google-research/bert uses space separators (`Zs`) instead; the two differ only for
    /// U+2028 and U+2029 (whitespace here, ordinary characters there). The other `White_Space`
    /// characters outside `Zs` (`\v`, `\f`, U+0085) are controls, removed before this test.
    @inline(__always)
    static func isWhitespace(_ scalar: Unicode.Scalar) -> Bool {
        let value = scalar.value
        if value < 0x80 {
            return value == 0x20 || value == 0x09 || value == 0x0A || value == 0x0D
                || value == 0x0B || value == 0x0C
        }
        return contains(BertCharacterTables.whitespace, value)
    }

    /// Whether `scalar` is removed by `clean_text`: NUL, U+FFFD, and control, format and
    /// private-use characters (`Cc`, `Cf`, `Co`) except `\t`, `\n` and `\r`, which count as
    /// whitespace. Unassigned code points are kept, as `tokenizers` keeps them.
    @inline(__always)
    static func isRemovedByCleaning(_ scalar: Unicode.Scalar) -> Bool {
        let value = scalar.value
        if value < 0x80 {
            return (value < 0x20 && value != 0x09 && value != 0x0A && value != 0x0D) || value == 0x7F
        }
        return contains(BertCharacterTables.removed, value)
    }

    /// Whether `scalar` is split off as a word of its own: ASCII 33-47, 58-64, 91-96, 123-126
    /// (which includes symbols such as `$`, `+`, `^`) or Unicode punctuation (`P*`).
    @inline(__always)
    static func isPunctuation(_ scalar: Unicode.Scalar) -> Bool {
        let value = scalar.value
        if value < 0x80 { return isASCIIPunctuation(UInt8(truncatingIfNeeded: value)) }
        return contains(BertCharacterTables.punctuation, value)
    }

    /// Whether the ASCII byte `byte` is BERT punctuation (33-47, 58-64, 91-96, 123-126).
    @inline(__always)
    static func isASCIIPunctuation(_ byte: UInt8) -> Bool {
        (byte >= 33 && byte <= 47) || (byte >= 58 && byte <= 64)
            || (byte >= 91 && byte <= 96) || (byte >= 123 && byte <= 126)
    }

    /// Whether `scalar` is a CJK ideograph that gets spaces put around it: the CJK Unified
    /// Ideographs blocks and their extensions A-E and the compatibility ideographs (not
    /// Hiragana, Katakana or Hangul).
    ///
    /// These are google-research/bert's `_is_chinese_char` ranges as `tokenizers` copied them,
    /// with its one change: Extension E starts at U+2B920 there, not U+2B820, so U+2B820-U+2B91F
    /// are ordinary letters. We follow `tokenizers` (the golden is the arbiter).
    @inline(__always)
    static func isChineseCharacter(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x4E00...0x9FFF, 0x3400...0x4DBF, 0x20000...0x2A6DF, 0x2A700...0x2B73F,
             0x2B740...0x2B81F, 0x2B920...0x2CEAF, 0xF900...0xFAFF, 0x2F800...0x2FA1F:
            return true
        default:
            return false
        }
    }

    /// Whether `scalar` is a non-spacing mark (`Mn`), which accent stripping drops after NFD.
    @inline(__always)
    static func isNonspacingMark(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value >= 0x300 && contains(BertCharacterTables.nonspacingMarks, scalar.value)
    }

    /// Whether `value` falls in one of `ranges` (sorted, flattened inclusive [first, last] pairs).
    @inline(__always)
    private static func contains(_ ranges: [UInt32], _ value: UInt32) -> Bool {
        ranges.withUnsafeBufferPointer { ranges in
            // The first pair whose last >= value; then check its first.
            var low = 0, high = ranges.count / 2
            while low < high {
                let middle = (low + high) / 2
                if ranges[2 * middle + 1] < value { low = middle + 1 } else { high = middle }
            }
            return low < ranges.count / 2 && ranges[2 * low] <= value
        }
    }
}
