import Foundation
import XCTest
@testable import BertText

/// Every Unicode scalar is classified as Hugging Face `tokenizers` classifies it (golden by
/// tools/gen_character_tables.py, which asks `tokenizers` about every code point).
final class CharacterClassTests: XCTestCase {
    /// Each class as inclusive [first, last] ranges of code points.
    private struct Golden: Decodable {
        var removed, whitespace, punctuation, mark: [[UInt32]]
    }

    func testEveryScalarMatchesHuggingFace() throws {
        let golden = try TestFixtures.goldenJSON("character_classes.json", as: Golden.self)
        var expected = [UInt8](repeating: 0, count: 0x110000)
        for (code, ranges) in [(1, golden.removed), (2, golden.whitespace), (3, golden.punctuation), (4, golden.mark)] {
            for range in ranges { for value in range[0]...range[1] { expected[Int(value)] = UInt8(code) } }
        }
        var mismatches: [String] = []
        for value in UInt32(0)..<0x110000 {
            guard let scalar = Unicode.Scalar(value) else { continue }
            let actual: UInt8
            if BertCharacterClasses.isRemovedByCleaning(scalar) {
                actual = 1
            } else if BertCharacterClasses.isWhitespace(scalar) {
                actual = 2
            } else if BertCharacterClasses.isPunctuation(scalar) {
                actual = 3
            } else if BertCharacterClasses.isNonspacingMark(scalar) {
                actual = 4
            } else {
                actual = 0
            }
            if actual != expected[Int(value)] && mismatches.count < 20 {
                mismatches.append("U+\(String(value, radix: 16, uppercase: true)): \(actual) != \(expected[Int(value)])")
            }
        }
        XCTAssertEqual(mismatches, [], "classes: 1 removed, 2 whitespace, 3 punctuation, 4 mark")
    }
}

/// Lower-casing, NFD and accent stripping of every non-ASCII scalar, end to end through the
/// uncased `BasicTokenizer` (golden by tools/gen_character_tables.py).
final class UncasedNormalizationTests: XCTestCase {
    private struct Golden: Decodable {
        /// Ranges of scalars `c` for which "a" + c + "b" splits into ["a", c, "b"].
        var isolated: [[UInt32]]
        /// [scalar, words] for every other scalar whose "a" + c + "b" is not one word.
        var changed: [Changed]
    }

    private struct Changed: Decodable {
        var scalar: UInt32
        var words: [String]

        init(from decoder: Decoder) throws {
            var container = try decoder.unkeyedContainer()
            scalar = try container.decode(UInt32.self)
            words = try container.decode([String].self)
        }
    }

    private struct Classes: Decodable {
        var removed: [[UInt32]]
    }

    func testEveryNonASCIIScalarNormalizesAsHuggingFace() throws {
        let golden = try TestFixtures.goldenJSON("uncased_words.json", as: Golden.self)
        let classes = try TestFixtures.goldenJSON("character_classes.json", as: Classes.self)
        var kind = [UInt8](repeating: 0, count: 0x110000)  // 1 removed, 2 isolated
        for range in classes.removed { for value in range[0]...range[1] { kind[Int(value)] = 1 } }
        for range in golden.isolated { for value in range[0]...range[1] { kind[Int(value)] = 2 } }
        var changed: [UInt32: [String]] = [:]
        for entry in golden.changed { changed[entry.scalar] = entry.words }
        let basic = BasicTokenizer(lowercase: true)
        var mismatches: [String] = []
        for value in UInt32(0x80)..<0x110000 where kind[Int(value)] != 1 {
            guard let scalar = Unicode.Scalar(value) else { continue }
            let character = String(scalar)
            let expected = changed[value] ?? (kind[Int(value)] == 2 ? ["a", character, "b"] : ["a" + character + "b"])
            let words = basic.words(in: "a" + character + "b")
            if words != expected && mismatches.count < 20 {
                mismatches.append("U+\(String(value, radix: 16, uppercase: true)): \(words) != \(expected)")
            }
        }
        XCTAssertEqual(mismatches, [])
    }
}
