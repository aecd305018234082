// CheckpointListing (what `bertc inspect` prints) and how readers hold their files.

import BertGraph
@testable import BertModel
import BertRuntime
import Foundation
import XCTest

final class CheckpointListingTests: XCTestCase {
    func testListingOfTheTinyTFCheckpointAndItsJSON() throws {
        let listing = try CheckpointListing(url: CheckpointTFTests.tinyPrefix.deletingLastPathComponent())
        let golden = try GoldenListing.load("tf-checkpoint/tiny_bert.json")
        XCTAssertEqual(listing.format, .tfCheckpoint)
        XCTAssertEqual(listing.tensors.map(\.name), golden.tensors.map(\.name))
        let floats = golden.tensors.filter { $0.dtype == "float32" }.reduce(0) { $0 + $1.shape.reduce(1, *) }
        XCTAssertEqual(listing.parameters, floats, "global_step (int64) is not a parameter")

        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: encoder.encode(listing)) as? [String: Any])
        XCTAssertEqual(Set(object.keys), ["format", "tensors", "parameters"])
        XCTAssertEqual(object["format"] as? String, "tf_checkpoint")
        let first = try XCTUnwrap((object["tensors"] as? [[String: Any]])?.first)
        XCTAssertEqual(first["name"] as? String, "bert/embeddings/LayerNorm/beta")
        XCTAssertEqual(first["dtype"] as? String, "f32")
        XCTAssertEqual(first["shape"] as? [Int], [16])
    }

    func testListingOfMiniLMCountsFloatParametersOnly() throws {
        let listing = try CheckpointListing(url: try miniLMWeights())
        XCTAssertEqual(listing.format, .safetensors)
        XCTAssertEqual(listing.tensors.count, 104)
        XCTAssertEqual(listing.parameters, 22_713_216)
    }

    #if os(Linux)
    func testSafetensorsReaderMapsTheFileInsteadOfReadingIt() throws {
        let url = try miniLMWeights()
        let reader = try SafetensorsReader(url: url)
        let maps = try String(contentsOfFile: "/proc/self/maps", encoding: .utf8)
        XCTAssertTrue(maps.contains(url.resolvingSymlinksInPath().path), "model.safetensors is not memory-mapped")
        withExtendedLifetime(reader) {}
    }
    #endif

    func testFailedWriteLeavesTheExistingFileAlone() throws {
        let url = temporaryFile("keep.safetensors")
        let good: [String: HostTensor] = ["w": HostTensor(shape: [2], floats: [1, 2])]
        try SafetensorsWriter.write(good, to: url)
        let missingDirectory = url.deletingLastPathComponent().appendingPathComponent("no-such-dir/out.safetensors")
        assertThrows(try SafetensorsWriter.write(good, to: missingDirectory)) { error in
            guard case .writeFailed(let file, _) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(file, missingDirectory.path)
        }
        try SafetensorsWriter.write(["w": HostTensor(shape: [1], floats: [9])], to: url)
        XCTAssertEqual(try SafetensorsReader(url: url).read("w").floats, [9], "rename replaces the old file")
    }
}
