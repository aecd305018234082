import Foundation
import XCTest
@testable import BertText

/// The three truncation rules against their references: Hugging Face `tokenizers`
/// (`longest_first`), tf_text's `RoundRobinTrimmer` (`round_robin`, Model Garden's
/// BertPackInputs) and google-research/bert's `_truncate_seq_pair` (`pop_longer`).
final class TruncationTests: XCTestCase {
    private struct Golden: Decodable {
        var cases: [[Int]]
        var longest_first_hf: [[Int]]
        var pop_longer_google: [[Int]]
        var round_robin_tf_text: [[Int]]?
        var round_robin_packed: RoundRobinPacked?
    }

    private struct RoundRobinPacked: Decodable {
        var seq_len: Int
        var msr_first_pairs: [GoldenPackedRow]
    }

    func testKeptLengthsMatchReferences() throws {
        let golden = try TestFixtures.goldenJSON("truncation.json", as: Golden.self)
        let roundRobin = try XCTUnwrap(golden.round_robin_tf_text, "truncation.json lacks tf_text round-robin goldens")
        for (index, testCase) in golden.cases.enumerated() {
            let (first, second, sequenceLength) = (testCase[0], testCase[1], testCase[2])
            for (strategy, expected) in [(TruncationStrategy.longestFirst, golden.longest_first_hf[index]),
                                         (.popLonger, golden.pop_longer_google[index]),
                                         (.roundRobin, roundRobin[index])] {
                let kept = strategy.keptLengths(first: first, second: second, budget: sequenceLength - 3)
                XCTAssertEqual([kept.first, kept.second ?? -1], expected,
                               "\(strategy) a=\(first) b=\(second) seq=\(sequenceLength)")
            }
        }
    }

    /// The tie case where Hugging Face and google-research/bert disagree (documented on
    /// `TruncationStrategy.longestFirst`): both cut, odd budget, `a` not longer than `b`.
    func testLongestFirstTieCaseGivesTheExtraTokenToTheSecondSegment() {
        let hf = TruncationStrategy.longestFirst.keptLengths(first: 90, second: 100, budget: 125)
        let google = TruncationStrategy.popLonger.keptLengths(first: 90, second: 100, budget: 125)
        XCTAssertEqual([hf.first, hf.second], [62, 63])
        XCTAssertEqual([google.first, google.second], [63, 62])
    }

    /// MSR pairs packed at 32 with round-robin equal tf_text's RoundRobinTrimmer +
    /// combine_segments + pad_model_inputs.
    func testRoundRobinPackingMatchesTensorFlowText() throws {
        let golden = try TestFixtures.goldenJSON("truncation.json", as: Golden.self)
        let packed = try XCTUnwrap(golden.round_robin_packed, "truncation.json lacks tf_text round-robin goldens")
        let data = try TestFixtures.dataLocator()
        let tokenizer = BertTokenizer(vocabulary: try TestFixtures.vocabulary(), lowercase: true)
        let packer = try InputPacker(specialTokens: tokenizer.vocabulary.specialTokens,
                                     sequenceLength: packed.seq_len, truncation: .roundRobin)
        let rows = try MRPCProcessor().msrExamples(file: data.existingFile(MRPCProcessor.msrTrainFile), split: .train)
        for (row, expected) in zip(rows, packed.msr_first_pairs) {
            let example = row.example
            XCTAssertEqual(packer.pack(tokenizer.encode(example.textA), tokenizer.encode(example.textB ?? "")),
                           expected.expanded(to: packed.seq_len), example.guid)
        }
    }

    func testSingleSegmentIsCutToTheBudgetAndUnpaddedRowsKeepTheirLength() throws {
        let specials = Vocabulary.SpecialTokens(cls: 101, sep: 102, pad: 0, unk: 100, mask: 103)
        let padded = try InputPacker(specialTokens: specials, sequenceLength: 5)
        XCTAssertEqual(padded.pack([7, 8, 9, 10]).inputIDs, [101, 7, 8, 9, 102])
        let natural = try InputPacker(specialTokens: specials, sequenceLength: nil)
        let row = natural.pack([7, 8], [9])
        XCTAssertEqual(row.inputIDs, [101, 7, 8, 102, 9, 102])
        XCTAssertEqual(row.typeIDs, [0, 0, 0, 0, 1, 1])
        XCTAssertEqual(row.attentionMask, [1, 1, 1, 1, 1, 1])
        XCTAssertThrowsError(try InputPacker(specialTokens: specials, sequenceLength: 2))
    }
}
