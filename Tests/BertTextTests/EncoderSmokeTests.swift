import XCTest
@testable import BertText

final class EncoderSmokeTests: XCTestCase {
    /// The packer's layout: [CLS] a [SEP] b [SEP] with type ids 0...0 1...1 and no padding
    /// when no sequence length is given.
    func testPairLayoutWithoutPadding() throws {
        let special = Vocabulary.SpecialTokens(cls: 101, sep: 102, pad: 0, unk: 100, mask: 103)
        let packed = try InputPacker(specialTokens: special, sequenceLength: nil).pack([7, 8], [9])
        XCTAssertEqual(packed.inputIDs, [101, 7, 8, 102, 9, 102])
        XCTAssertEqual(packed.typeIDs, [0, 0, 0, 0, 1, 1])
        XCTAssertEqual(packed.attentionMask, [1, 1, 1, 1, 1, 1])
    }
}
