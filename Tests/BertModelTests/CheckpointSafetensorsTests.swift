// SafetensorsReader / SafetensorsWriter: round trips, determinism, header validation, and the
// pretrained MiniLM-L6 file against the safetensors library's own listing.

import BertGraph
@testable import BertModel
import BertRuntime
import BertTestSupport
import Foundation
import XCTest

final class CheckpointSafetensorsTests: XCTestCase {
    // MARK: - Round trip and determinism

    func testWriteThenReadRoundTripsEveryDTypeAndMetadata() throws {
        let tensors: [String: HostTensor] = [
            "b.weight": HostTensor(shape: [2, 3], floats: [1, -2, 3.5, .pi, 0, -0]),
            "a.ids": HostTensor(shape: [3], int64s: [0, 1, Int64.max]),
            "c.small": HostTensor(shape: [2], int32s: [-7, 9]),
            "d.scalar": HostTensor(shape: [], floats: [42]),
            "e.empty": HostTensor(shape: [0, 4], floats: []),
        ]
        let url = temporaryFile("roundtrip.safetensors")
        try SafetensorsWriter.write(tensors, metadata: ["format": "pt", "note": "quote \" and \\"], to: url)
        let reader = try SafetensorsReader(url: url)
        XCTAssertEqual(reader.tensors.map(\.name), ["a.ids", "b.weight", "c.small", "d.scalar", "e.empty"])
        XCTAssertEqual(reader.metadata, ["format": "pt", "note": "quote \" and \\"])
        for (name, tensor) in tensors {
            XCTAssertEqual(try reader.read(name), tensor, name)
        }
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: url.deletingLastPathComponent().path)
            .filter { $0.contains(".tmp-") }
        XCTAssertEqual(leftovers, [], "the atomic write must not leave temporary files")
    }

    func testEncodingIsDeterministicAndAligned() {
        var first: [String: HostTensor] = [:], second: [String: HostTensor] = [:]
        let names = (0..<20).map { "t\($0)" }
        for name in names { first[name] = HostTensor(shape: [1], floats: [Float(name.count)]) }
        for name in names.reversed() { second[name] = HostTensor(shape: [1], floats: [Float(name.count)]) }
        let a = SafetensorsWriter.encode(first), b = SafetensorsWriter.encode(second)
        XCTAssertEqual(a, b)
        let headerLength = a.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }
        XCTAssertEqual(headerLength % 8, 0, "data section must start 8-byte aligned")
    }

    func testHalfAndBFloat16AreWidenedToFloat32() throws {
        // f16 1.0 = 0x3c00, -2.0 = 0xc000, smallest subnormal 0x0001; bf16 1.5 = 0x3fc0.
        let header = #"{"h":{"dtype":"F16","shape":[3],"data_offsets":[0,6]},"b":{"dtype":"BF16","shape":[1],"data_offsets":[6,8]}}"#
        let url = try writeRaw(header: header, data: [0x00, 0x3c, 0x00, 0xc0, 0x01, 0x00, 0xc0, 0x3f])
        let reader = try SafetensorsReader(url: url)
        XCTAssertEqual(try reader.read("h").floats, [1, -2, Float(sign: .plus, exponent: -24, significand: 1)])
        XCTAssertEqual(try reader.read("b").floats, [1.5])
    }

    // MARK: - Corrupt files

    func testTruncatedFileIsRejected() throws {
        let url = temporaryFile("truncated.safetensors")
        try SafetensorsWriter.write(["w": HostTensor(shape: [4, 4], floats: Array(repeating: 1, count: 16))], to: url)
        let bytes = try Data(contentsOf: url)
        try bytes.prefix(bytes.count - 10).write(to: url)
        assertThrows(try SafetensorsReader(url: url)) { error in
            guard case .truncated(let file, let detail) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(file, url.path)
            XCTAssertTrue(detail.contains("'w'"), detail)
        }
        try Data([1, 2, 3]).write(to: url)
        assertThrows(try SafetensorsReader(url: url)) { error in
            guard case .truncated = error else { return XCTFail("\(error)") }
        }
    }

    func testHeaderPointingPastTheEndIsRejected() throws {
        let url = try writeRaw(header: #"{"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}"#, data: [UInt8](repeating: 0, count: 8))
        assertThrows(try SafetensorsReader(url: url)) { error in
            guard case .truncated(_, let detail) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(detail.contains("ends at byte 16") && detail.contains("holds 8 bytes"), detail)
        }
    }

    func testHeaderLengthLargerThanTheFileIsRejected() throws {
        var bytes = Data()
        withUnsafeBytes(of: UInt64(1 << 40).littleEndian) { bytes.append(contentsOf: $0) }
        bytes.append(contentsOf: Array("{}".utf8))
        let url = temporaryFile("huge-header.safetensors")
        try bytes.write(to: url)
        assertThrows(try SafetensorsReader(url: url)) { error in
            guard case .malformedHeader(_, let detail) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(detail.contains("header length 1099511627776"), detail)
        }
    }

    func testGarbageJSONIsRejected() throws {
        for header in [#"{"w": {"dtype": "F32", "#, "not json at all", #"{"w":{"dtype":"F32","shape":"four","data_offsets":[0,16]}}"#] {
            let url = try writeRaw(header: header, data: [])
            assertThrows(try SafetensorsReader(url: url)) { error in
                guard case .malformedHeader(let file, _) = error else { return XCTFail("\(error)") }
                XCTAssertEqual(file, url.path)
            }
        }
    }

    func testSizeInconsistentWithShapeAndOverlapAreRejected() throws {
        let wrongSize = try writeRaw(header: #"{"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#, data: [UInt8](repeating: 0, count: 8))
        assertThrows(try SafetensorsReader(url: wrongSize)) { error in
            guard case .malformedTensor(_, "w", let detail) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(detail.contains("needs 12 bytes"), detail)
        }
        let overlap = try writeRaw(
            header: #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#,
            data: [UInt8](repeating: 0, count: 12))
        assertThrows(try SafetensorsReader(url: overlap)) { error in
            guard case .malformedTensor(_, "b", let detail) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(detail.contains("overlap"), detail)
        }
    }

    // MARK: - Pretrained MiniLM-L6

    func testMiniLMListingAndValuesMatchTheSafetensorsLibrary() throws {
        let url = try miniLMWeights()
        let golden = try GoldenListing.load("safetensors/minilm-l6-listing.json")
        let reader = try SafetensorsReader(url: url)
        XCTAssertEqual(reader.tensors.count, 104)
        XCTAssertEqual(reader.tensors.map(\.name), golden.tensors.map(\.name))
        for (info, expected) in zip(reader.tensors, golden.tensors) {
            XCTAssertEqual(info.shape, expected.shape, info.name)
            XCTAssertEqual(info.dtype, SafetensorsReader.dtype(named: expected.dtype), info.name)
        }
        for (name, first) in golden.first_values ?? [:] {
            let tensor = try reader.read(name)
            if let floats = tensor.floats {
                XCTAssertEqual(Array(floats.prefix(8)), first.map { Float($0) }, name)  // exact: both are the stored floats
            } else {
                XCTAssertEqual(tensor.int32s.map { Array($0.prefix(8)).map(Double.init) }, first, name)
            }
        }
    }
}

// MARK: - Support shared by the checkpoint tests

/// A golden listing written by tools/golden_*.py.
struct GoldenListing: Decodable {
    struct Tensor: Decodable {
        var name: String
        var dtype: String
        var shape: [Int]
        var offset: Int?
        var values: [Double]?
    }

    var tensors: [Tensor]
    var first_values: [String: [Double]]?

    static func load(_ relativePath: String) throws -> GoldenListing {
        try JSONDecoder().decode(GoldenListing.self, from: Data(contentsOf: goldenURL(relativePath)))
    }
}

/// `golden/<relativePath>` in this checkout.
func goldenURL(_ relativePath: String) -> URL {
    TestPaths.golden(relativePath)
}

/// The pretrained MiniLM-L6 weights from `tools/setup.sh model`, or a skip when absent.
func miniLMWeights() throws -> URL {
    guard let directory = TestPaths.installedPretrainedModel else {
        throw XCTSkip("MiniLM-L6 not installed; run tools/setup.sh model")
    }
    return directory.appendingPathComponent("model.safetensors")
}

/// A fresh path in a per-process temporary directory.
func temporaryFile(_ name: String) -> URL {
    let directory = FileManager.default.temporaryDirectory
        .appendingPathComponent("bertc-checkpoint-tests-\(ProcessInfo.processInfo.processIdentifier)")
    try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    let url = directory.appendingPathComponent(UUID().uuidString + "-" + name)
    return url
}

/// A safetensors file with the given header text and data bytes.
func writeRaw(header: String, data: [UInt8]) throws -> URL {
    var bytes = Data()
    withUnsafeBytes(of: UInt64(header.utf8.count).littleEndian) { bytes.append(contentsOf: $0) }
    bytes.append(contentsOf: Array(header.utf8))
    bytes.append(contentsOf: data)
    let url = temporaryFile("raw.safetensors")
    try bytes.write(to: url)
    return url
}

/// Asserts that `expression` throws a `CheckpointError` and hands it to `check`.
func assertThrows<T>(_ expression: @autoclosure () throws -> T, file: StaticString = #filePath, line: UInt = #line,
                     _ check: (CheckpointError) -> Void) {
    do {
        _ = try expression()
        XCTFail("expected a CheckpointError", file: file, line: line)
    } catch let error as CheckpointError {
        XCTAssertFalse(error.description.isEmpty)
        check(error)
    } catch {
        XCTFail("expected a CheckpointError, got \(error)", file: file, line: line)
    }
}
