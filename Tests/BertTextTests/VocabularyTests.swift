import Foundation
import XCTest
@testable import BertText

final class VocabularyTests: XCTestCase {
    func testUncasedVocabularyIdsAndSpecialTokens() throws {
        let vocabulary = try TestFixtures.vocabulary()
        XCTAssertEqual(vocabulary.count, 30522)
        XCTAssertEqual(vocabulary.specialTokens,
                       Vocabulary.SpecialTokens(cls: 101, sep: 102, pad: 0, unk: 100, mask: 103))
        XCTAssertEqual(vocabulary.id(of: "the"), 1996)
        XCTAssertEqual(vocabulary.token(1996), "the")
        XCTAssertNil(vocabulary.id(of: "not-a-token"))
    }

    func testMissingSpecialTokenAndUnreadableFileNameTheFile() throws {
        let directory = try TestFixtures.temporaryDirectory(self)
        let file = directory.appendingPathComponent("vocab.txt").path
        try "[PAD]\n[UNK]\n[CLS]\n[SEP]\nthe\n".write(toFile: file, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try Vocabulary(contentsOf: file)) { error in
            XCTAssertEqual(error as? VocabularyError, .missingSpecialToken("[MASK]", file: file))
            XCTAssertTrue("\(error)".contains(file))
        }
        let missing = directory.appendingPathComponent("absent.txt").path
        XCTAssertThrowsError(try Vocabulary(contentsOf: missing)) { error in
            XCTAssertTrue("\(error)".contains(missing), "\(error)")
        }
    }

    func testWordPieceSplitsGreedilyAndLongWordsAreUnknown() throws {
        let vocabulary = try Vocabulary(tokens: ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]",
                                                 "un", "##aff", "##able", "##a", "a"])
        let tokenizer = BertTokenizer(vocabulary: vocabulary, lowercase: true)
        XCTAssertEqual(tokenizer.tokenize("UnAffable"), ["un", "##aff", "##able"])
        XCTAssertEqual(tokenizer.tokenize("unx"), ["[UNK]"])
        XCTAssertEqual(tokenizer.tokenize(String(repeating: "a", count: 100)).count, 100)
        XCTAssertEqual(tokenizer.tokenize(String(repeating: "a", count: 101)), ["[UNK]"])
    }
}
