import Foundation
import XCTest
@testable import BertTraining

final class LengthBatcherTests: XCTestCase {
    /// Lengths spread like MRPC's: 20-103 tokens, most around 50.
    private let lengths = (0..<1000).map { i in 20 + (i * 37 % 41) + (i * 53 % 43) }

    func testTrainingBatchesCoverEveryExampleOnceAreFullAndSeeded() {
        let batcher = LengthBatcher(buckets: Array(stride(from: 8, through: 128, by: 8)), batchSize: 32, seed: 3,
                                    groupBatches: 10)
        let e0 = batcher.batches(lengths: lengths, epoch: 0)
        XCTAssertEqual(e0.flatMap(\.indices).sorted(), Array(0..<1000))
        XCTAssertEqual(e0.filter { $0.indices.count != 32 }.map(\.indices.count), [1000 % 32], "only one short batch")
        for b in e0 {
            let longest = b.indices.map { lengths[$0] }.max()!
            XCTAssertEqual(b.sequenceLength, batcher.bucket(for: longest), "padded to the bucket of its longest member")
        }
        XCTAssertEqual(e0, batcher.batches(lengths: lengths, epoch: 0))
        XCTAssertNotEqual(e0, batcher.batches(lengths: lengths, epoch: 1))
        XCTAssertNotEqual(e0, LengthBatcher(buckets: batcher.buckets, batchSize: 32, seed: 4, groupBatches: 10)
            .batches(lengths: lengths, epoch: 0))
    }

    func testSortedGroupsPadLessThanShuffledBatches() {
        func padded(groupBatches: Int) -> Int {
            LengthBatcher(buckets: Array(stride(from: 8, through: 128, by: 8)), batchSize: 32, seed: 1, groupBatches: groupBatches)
                .batches(lengths: lengths, epoch: 0).reduce(0) { $0 + $1.sequenceLength * $1.indices.count }
        }
        let tokens = lengths.reduce(0, +)
        let sorted = padded(groupBatches: 50), shuffled = padded(groupBatches: 1)
        XCTAssertLessThan(sorted, shuffled)
        // Within 8 tokens per example of the real lengths (the bucket width), plus the cost
        // of a group's batches that straddle buckets.
        XCTAssertLessThan(Double(sorted - tokens) / Double(lengths.count), 8)
    }

    func testGroupsMixExamplesFromAcrossTheEpoch() {
        // Shuffling happens before grouping: a batch's members are not neighbours in the set.
        let batches = LengthBatcher(buckets: [128], batchSize: 32, seed: 5, groupBatches: 50).batches(lengths: lengths, epoch: 0)
        let spread = batches.map { b in b.indices.max()! - b.indices.min()! }
        XCTAssertGreaterThan(spread.min()!, 500)
    }

    func testWithoutGroupsEachBucketIsCutOnItsOwn() throws {
        let batcher = LengthBatcher(buckets: [32, 64, 96, 128], batchSize: 32, seed: 3, groupBatches: 0)
        let batches = batcher.batches(lengths: lengths, epoch: 0)
        XCTAssertEqual(batches.flatMap(\.indices).sorted(), Array(0..<1000))
        for b in batches {
            XCTAssertTrue(b.indices.allSatisfy { batcher.bucket(for: lengths[$0]) == b.sequenceLength })
        }
        let buckets = Set(lengths.map(batcher.bucket(for:)))
        XCTAssertEqual(batches.filter { $0.indices.count < 32 }.count, buckets.count, "one short batch per bucket")
        XCTAssertNotEqual(batches, batcher.batches(lengths: lengths, epoch: 1))

        let options = try JSONDecoder().decode(TrainingOptions.self, from: Data(#"{"group_batches": 0}"#.utf8))
        XCTAssertEqual(options.groupBatches, 0)
        XCTAssertEqual(try JSONDecoder().decode(TrainingOptions.self, from: Data("{}".utf8)).groupBatches, 0, "groups are opt-in")
        XCTAssertEqual(try JSONDecoder().decode(TrainingOptions.self, from: Data(#"{"group_batches": 50}"#.utf8)).groupBatches, 50)
        XCTAssertThrowsError(try JSONDecoder().decode(TrainingOptions.self, from: Data(#"{"group_batches": -1}"#.utf8))) {
            XCTAssertTrue("\($0)".contains("group_batches"), "\($0)")
        }
        XCTAssertEqual(try JSONDecoder().decode(TrainingOptions.self, from: Data("{}".utf8)).packTokens, 64, "packed by default")
        XCTAssertEqual(try JSONDecoder().decode(TrainingOptions.self, from: Data(#"{"pack_tokens": 0}"#.utf8)).packTokens, 0)
        XCTAssertThrowsError(try JSONDecoder().decode(TrainingOptions.self, from: Data(#"{"pack_tokens": -1}"#.utf8))) {
            XCTAssertTrue("\($0)".contains("pack_tokens"), "\($0)")
        }
    }

    func testEvaluationKeepsOrderWithinBuckets() {
        let batcher = LengthBatcher(buckets: [32, 64, 96, 128], batchSize: 32, seed: 3)
        let batches = batcher.batches(lengths: lengths, epoch: 0, shuffle: false)
        XCTAssertEqual(batches.flatMap(\.indices).sorted(), Array(0..<1000))
        XCTAssertEqual(batches.map(\.sequenceLength), batches.map(\.sequenceLength).sorted())
        for b in batches {
            XCTAssertEqual(b.indices, b.indices.sorted())
            XCTAssertTrue(b.indices.allSatisfy { batcher.bucket(for: lengths[$0]) == b.sequenceLength })
        }
    }
}
