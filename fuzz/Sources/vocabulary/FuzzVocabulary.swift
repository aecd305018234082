// Fuzz target: a `vocab.txt` through Vocabulary, then WordPiece tokenization with it (cased and
// uncased) of fixed hard strings and of the input's own first bytes.

import BertText
import Foundation

let sentences = [
    "Hello, world! The quick brown fox jumps over the lazy dog.",
    "naïve café Zürich ÅÉÎÕÜ ß ﬁ 日本語の文 한국어 العربية עברית",
    "[CLS] [SEP] [PAD] [UNK] [MASK] ##ing unaffable 3.14 $42.50 e-mail",
    "\u{0}\u{7}\t\r\n\u{200B}\u{FEFF}\u{301}a\u{301} \u{1F600}\u{1F1EB}\u{1F1F7}",
]

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let data = start.map { Data(bytes: $0, count: count) } ?? Data()
    guard let vocabulary = try? Vocabulary(data: data, source: "vocab.txt") else { return 0 }
    let own = String(decoding: data.prefix(256), as: UTF8.self)
    for lowercase in [true, false] {
        let tokenizer = BertTokenizer(vocabulary: vocabulary, lowercase: lowercase)
        for text in sentences + [own] {
            for id in tokenizer.encode(text) { _ = vocabulary.token(id) }
        }
    }
    return 0
}
