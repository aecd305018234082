// TFCheckpointReader against checkpoints written and read by real TensorFlow: the BERT-Mini
// index fixture (index only) and the tiny golden checkpoint (index + data, values dumped by
// tf.train.load_checkpoint); plus the corrupt-file errors.

import BertGraph
import BertTestSupport
@testable import BertModel
import Foundation
import XCTest

final class CheckpointTFTests: XCTestCase {
    static let fixtureIndex = TestPaths.fixture("tf-bundle-index/bert_model.ckpt.index")
    static let tinyPrefix = goldenURL("tf-checkpoint/tiny_bert.ckpt")

    // MARK: - BERT-Mini index

    func testBertMiniIndexListsWhatTensorFlowLists() throws {
        guard FileManager.default.fileExists(atPath: Self.fixtureIndex.path) else {
            throw XCTSkip("fixture \(Self.fixtureIndex.path) not present")
        }
        let golden = try GoldenListing.load("tf-checkpoint/bert-mini-index-listing.json")
        let reader = try TFCheckpointReader(url: Self.fixtureIndex)
        XCTAssertEqual(reader.tensors.count, 78)
        XCTAssertEqual(reader.tensors.map(\.name), golden.tensors.map(\.name))
        XCTAssertEqual(reader.tensors.map(\.shape), golden.tensors.map(\.shape))
        XCTAssertTrue(golden.tensors.allSatisfy { $0.dtype == "float32" })
        XCTAssertTrue(reader.tensors.allSatisfy { $0.dtype == .float32 })
        XCTAssertEqual(reader.tensors.first { $0.name == "bert/encoder/layer_0/attention/self/query/kernel" }?.shape, [256, 256])

        // TF's Python API does not expose offsets; check them structurally: one shard, each size
        // is 4 bytes per element, and sorted by offset the entries tile the shard from 0.
        XCTAssertEqual(reader.shardCount, 1)
        var end = 0
        for entry in reader.entries.values.sorted(by: { $0.offset < $1.offset }) {
            XCTAssertEqual(entry.shardID, 0)
            XCTAssertEqual(entry.offset, end)
            XCTAssertEqual(entry.size, 4 * entry.shape.reduce(1, *))
            XCTAssertEqual(entry.sliceCount, 0)
            end += entry.size
        }
        let goldenElements = golden.tensors.reduce(0) { $0 + $1.shape.reduce(1, *) }
        XCTAssertEqual(end, 4 * goldenElements)
        // 11,170,560 encoder parameters + 97,340 in the cls/ pretraining heads.
        XCTAssertEqual(goldenElements, 11_267_900)

        assertThrows(try reader.read("bert/pooler/dense/bias")) { error in
            XCTAssertEqual(error, .missingShard(file: reader.path, shard: "bert_model.ckpt.data-00000-of-00001"))
        }
    }

    // MARK: - Tiny checkpoint written by TensorFlow

    func testTinyCheckpointValuesAreBitForBitWhatTensorFlowReads() throws {
        let golden = try GoldenListing.load("tf-checkpoint/tiny_bert.json")
        let blob = try Data(contentsOf: goldenURL("tf-checkpoint/tiny_bert_values.bin"))
        let reader = try TFCheckpointReader(prefix: Self.tinyPrefix)
        XCTAssertEqual(reader.tensors.map(\.name), golden.tensors.map(\.name))
        for expected in golden.tensors {
            let tensor = try reader.read(expected.name)
            XCTAssertEqual(tensor.shape, expected.shape, expected.name)
            if let offset = expected.offset, offset >= 0 {
                let count = expected.shape.reduce(1, *)
                let bits = blob.subdata(in: offset..<(offset + 4 * count)).withUnsafeBytes { raw in
                    (0..<count).map { raw.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self) }
                }
                XCTAssertEqual(tensor.floats?.map(\.bitPattern), bits, expected.name)
            } else {
                XCTAssertEqual(expected.dtype, "int64")
                XCTAssertEqual(tensor.dtype, .int64)
                XCTAssertEqual(tensor.int32s.map { $0.map(Double.init) }, expected.values, expected.name)
            }
        }
    }

    func testOpeningByDirectoryIndexOrPrefixFindsTheSameCheckpoint() throws {
        let byPrefix = try TFCheckpointReader(url: Self.tinyPrefix)
        let byIndex = try TFCheckpointReader(url: URL(fileURLWithPath: Self.tinyPrefix.path + ".index"))
        let byDirectory = try TFCheckpointReader(url: Self.tinyPrefix.deletingLastPathComponent())
        XCTAssertEqual(byPrefix.path, byIndex.path)
        XCTAssertEqual(byPrefix.path, byDirectory.path)
        XCTAssertEqual(try CheckpointFormat.detect(at: Self.tinyPrefix), .tfCheckpoint)
    }

    func testCRC32CMatchesTheStandardCheckValue() {
        XCTAssertEqual(CRC32C.checksum(Array("123456789".utf8)), 0xE306_9283)
        XCTAssertEqual(CRC32C.checksum([UInt8](repeating: 0, count: 32)), 0x8A91_36AA)
    }

    // MARK: - Corrupt checkpoints

    func testTruncatedIndexIsRejected() throws {
        let prefix = try copyOfTinyCheckpoint()
        let index = URL(fileURLWithPath: prefix.path + ".index")
        let bytes = try Data(contentsOf: index)
        try bytes.prefix(30).write(to: index)
        assertThrows(try TFCheckpointReader(prefix: prefix)) { error in
            guard case .truncated(let file, _) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(file, index.path)
        }
        try bytes.prefix(bytes.count - 7).write(to: index)
        assertThrows(try TFCheckpointReader(prefix: prefix)) { error in
            XCTAssertTrue(error.description.contains("truncated"), error.description)
        }
    }

    func testBadMagicIsRejected() throws {
        let prefix = try copyOfTinyCheckpoint()
        let index = URL(fileURLWithPath: prefix.path + ".index")
        var bytes = try Data(contentsOf: index)
        bytes[bytes.count - 1] ^= 0xff
        try bytes.write(to: index)
        assertThrows(try TFCheckpointReader(prefix: prefix)) { error in
            guard case .malformedHeader(_, let detail) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(detail.contains("bad table magic"), detail)
        }
    }

    func testCorruptIndexBlockFailsItsChecksum() throws {
        let prefix = try copyOfTinyCheckpoint()
        let index = URL(fileURLWithPath: prefix.path + ".index")
        var bytes = try Data(contentsOf: index)
        bytes[10] ^= 0x01  // inside the first data block
        try bytes.write(to: index)
        assertThrows(try TFCheckpointReader(prefix: prefix)) { error in
            guard case .checksumMismatch(_, let what, _, _) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(what.contains("data block"), what)
        }
    }

    func testFlippedByteInDataFailsTheTensorChecksum() throws {
        let prefix = try copyOfTinyCheckpoint()
        let reader = try TFCheckpointReader(prefix: prefix)
        let name = "bert/encoder/layer_1/intermediate/dense/kernel"
        let entry = try XCTUnwrap(reader.entries[name])
        let shard = reader.shardURL(0)
        var bytes = try Data(contentsOf: shard)
        bytes[entry.offset + 5] ^= 0x10
        try bytes.write(to: shard)
        let fresh = try TFCheckpointReader(prefix: prefix)
        XCTAssertNoThrow(try fresh.read("bert/encoder/layer_1/intermediate/dense/bias"))
        assertThrows(try fresh.read(name)) { error in
            guard case .checksumMismatch(let file, let what, _, _) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(file, shard.path)
            XCTAssertTrue(what.contains(name), what)
        }
    }

    func testMissingDataShardIsReportedByName() throws {
        let prefix = try copyOfTinyCheckpoint()
        let reader = try TFCheckpointReader(prefix: prefix)
        try FileManager.default.removeItem(at: reader.shardURL(0))
        assertThrows(try reader.read("output_bias")) { error in
            XCTAssertEqual(error, .missingShard(file: reader.path, shard: "tiny_bert.ckpt.data-00000-of-00001"))
            XCTAssertTrue(error.description.contains("tiny_bert.ckpt.data-00000-of-00001"))
        }
    }

    /// The golden checkpoint copied into a fresh directory, so tests can damage it.
    private func copyOfTinyCheckpoint() throws -> URL {
        let directory = temporaryFile("tf")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        for suffix in [".index", ".data-00000-of-00001"] {
            try FileManager.default.copyItem(atPath: Self.tinyPrefix.path + suffix,
                                             toPath: directory.appendingPathComponent("tiny_bert.ckpt" + suffix).path)
        }
        return directory.appendingPathComponent("tiny_bert.ckpt")
    }
}
