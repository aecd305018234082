import Foundation
import XCTest
@testable import BertText

/// Exact agreement with Hugging Face `tokenizers` (goldens by tools/golden_tokenizer.py).
final class TokenizerGoldenTests: XCTestCase {
    /// Every pair of the MSR training file, packed at 128 with `longest_first`, equals
    /// BertWordPieceTokenizer(lowercase=True) exactly.
    func testMSRTrainingPairsMatchHuggingFace() throws {
        let data = try TestFixtures.dataLocator()
        let tokenizer = BertTokenizer(vocabulary: try TestFixtures.vocabulary(), lowercase: true)
        let packer = try InputPacker(specialTokens: tokenizer.vocabulary.specialTokens, sequenceLength: 128,
                                     truncation: .longestFirst)
        let rows = try MRPCProcessor().msrExamples(file: data.existingFile(MRPCProcessor.msrTrainFile), split: .train)
        let golden = try String(contentsOfFile: TestFixtures.goldenPath("msr_train_uncased_128.jsonl"), encoding: .utf8)
            .split(separator: "\n")
        XCTAssertEqual(rows.count, 4076)
        XCTAssertEqual(golden.count, rows.count)
        var mismatches = 0
        for (row, line) in zip(rows, golden) {
            let expected = try JSONDecoder().decode(GoldenPackedRow.self, from: Data(line.utf8)).expanded(to: 128)
            let example = row.example
            let packed = packer.pack(tokenizer.encode(example.textA), tokenizer.encode(example.textB ?? ""))
            if packed != expected {
                mismatches += 1
                if mismatches <= 5 {
                    XCTFail("\(example.guid): \(example.textA) | \(example.textB ?? "")\n got \(packed.inputIDs)\nwant \(expected.inputIDs)")
                }
            }
        }
        XCTAssertEqual(mismatches, 0)
    }

    private struct HardStrings: Decodable {
        var seq_len: Int
        var strings: [HardString]
    }

    private struct HardString: Decodable {
        var text: String
        var pair_with: String
        var uncased: Expected
        var cased: Expected
    }

    private struct Expected: Decodable {
        var tokens: [String]
        var ids: [Int32]
        var single_128: GoldenPackedRow
        var pair_128: GoldenPackedRow
        var pair_16: GoldenPackedRow
    }

    /// Accents, CJK, emoji, controls, zero-width characters, long words, punctuation runs,
    /// empty strings, odd spaces, mixed scripts and combining marks, cased and uncased, unpacked
    /// and packed.
    func testHardStringsMatchHuggingFace() throws {
        let golden = try TestFixtures.goldenJSON("hard_strings.json", as: HardStrings.self)
        let vocabulary = try TestFixtures.vocabulary()
        XCTAssertGreaterThan(golden.strings.count, 30)
        for (lowercase, name) in [(true, "uncased"), (false, "cased")] {
            let tokenizer = BertTokenizer(vocabulary: vocabulary, lowercase: lowercase)
            let packer128 = try InputPacker(specialTokens: vocabulary.specialTokens, sequenceLength: 128)
            let packer16 = try InputPacker(specialTokens: vocabulary.specialTokens, sequenceLength: 16)
            for item in golden.strings {
                let expected = lowercase ? item.uncased : item.cased
                let context = "\(name) \(item.text.debugDescription)"
                let ids = tokenizer.encode(item.text)
                XCTAssertEqual(ids, expected.ids, context)
                XCTAssertEqual(tokenizer.tokenize(item.text), expected.tokens, context)
                let other = tokenizer.encode(item.pair_with)
                XCTAssertEqual(packer128.pack(ids), expected.single_128.expanded(to: 128), context)
                XCTAssertEqual(packer128.pack(ids, other), expected.pair_128.expanded(to: 128), context)
                XCTAssertEqual(packer16.pack(ids, other), expected.pair_16.expanded(to: 16), context)
            }
        }
    }
}
