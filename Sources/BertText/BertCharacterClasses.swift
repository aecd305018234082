// The character classes BERT's text normalisation and pre-tokenisation are built on.
//
// They follow Hugging Face `tokenizers` (`normalizers/bert.rs`, `pre_tokenizers/bert.rs`), which is
// the reference the golden files are generated with. Where it differs from google-research/bert's
// `tokenization.py`, the difference is noted on the function.

/// Code-point classification used by `BertNormalizer` and `BertPreTokenizer`.
enum BertCharacterClasses {
    /// Whether BERT treats `scalar` as whitespace: `\t`, `\n`, `\r`, or the Unicode `White_Space`
    /// property (Rust's `char::is_whitespace`).
    ///
    /// google-research/bert uses space separators (`Zs`) instead; the two differ only for
    /// U+2028 and U+2029 (whitespace here, ordinary characters there). The other `White_Space`
    /// characters outside `Zs` (`\v`, `\f`, U+0085) are controls and are removed before this
    /// test is made.
    @inline(__always)
    static func isWhitespace(_ scalar: Unicode.Scalar) -> Bool {
        let value = scalar.value
        if value < 0x80 {
            return value == 0x20 || value == 0x09 || value == 0x0A || value == 0x0D
                || value == 0x0B || value == 0x0C
        }
        return scalar.properties.isWhitespace
    }

    /// Whether `scalar` is removed by `clean_text`: NUL, U+FFFD, and every "other" character
    /// (`Cc`, `Cf`, `Cs`, `Co`, `Cn`) except `\t`, `\n` and `\r`, which count as whitespace.
    @inline(__always)
    static func isRemovedByCleaning(_ scalar: Unicode.Scalar) -> Bool {
        let value = scalar.value
        if value < 0x80 {
            return (value < 0x20 && value != 0x09 && value != 0x0A && value != 0x0D) || value == 0x7F
        }
        if value == 0xFFFD { return true }
        switch scalar.properties.generalCategory {
        case .control, .format, .surrogate, .privateUse, .unassigned:
            return true
        default:
            return false
        }
    }

    /// Whether `scalar` is split off as a token of its own: ASCII 33-47, 58-64, 91-96, 123-126
    /// (which includes symbols such as `$`, `+`, `^`) or any Unicode punctuation category `P*`.
    @inline(__always)
    static func isPunctuation(_ scalar: Unicode.Scalar) -> Bool {
        let value = scalar.value
        if value < 0x80 { return isASCIIPunctuation(UInt8(truncatingIfNeeded: value)) }
        switch scalar.properties.generalCategory {
        case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation,
             .initialPunctuation, .finalPunctuation, .otherPunctuation:
            return true
        default:
            return false
        }
    }

    /// Whether the ASCII byte `byte` is BERT punctuation (33-47, 58-64, 91-96, 123-126).
    @inline(__always)
    static func isASCIIPunctuation(_ byte: UInt8) -> Bool {
        (byte >= 33 && byte <= 47) || (byte >= 58 && byte <= 64)
            || (byte >= 91 && byte <= 96) || (byte >= 123 && byte <= 126)
    }

    /// Whether `scalar` is a CJK ideograph that gets spaces put around it: the exact ranges of
    /// google-research/bert's `_is_chinese_char` (the CJK Unified Ideographs blocks and their
    /// extensions A-E and the compatibility ideographs; not Hiragana, Katakana or Hangul).
    @inline(__always)
    static func isChineseCharacter(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x4E00...0x9FFF, 0x3400...0x4DBF, 0x20000...0x2A6DF, 0x2A700...0x2B73F,
             0x2B740...0x2B81F, 0x2B820...0x2CEAF, 0xF900...0xFAFF, 0x2F800...0x2FA1F:
            return true
        default:
            return false
        }
    }

    /// Whether `scalar` is a non-spacing mark (`Mn`), which accent stripping drops after NFD.
    @inline(__always)
    static func isNonspacingMark(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value >= 0x300 && scalar.properties.generalCategory == .nonspacingMark
    }
}
