import Foundation
import XCTest
@testable import BertText

/// Paths and readers shared by the BertText tests.
enum TestFixtures {
    /// The package root (two levels above this file's directory).
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().path

    /// `golden/tokenizer/<name>`.
    static func goldenPath(_ name: String) -> String {
        packageRoot + "/golden/tokenizer/" + name
    }

    /// The data root, searched from the package root. Throws (failing the test loudly) when no
    /// data root exists: CI has `../shared/data`.
    static func dataLocator() throws -> DataLocator {
        try DataLocator(currentDirectory: packageRoot)
    }

    /// The uncased BERT vocabulary from the data root.
    static func vocabulary() throws -> Vocabulary {
        try Vocabulary(contentsOf: try dataLocator().existingFile("vocab-bert-base-uncased.txt"))
    }

    /// A JSON file under `golden/tokenizer/`.
    static func goldenJSON<T: Decodable>(_ name: String, as type: T.Type) throws -> T {
        try JSONDecoder().decode(T.self, from: Data(contentsOf: URL(fileURLWithPath: goldenPath(name))))
    }

    /// A temporary directory removed when the test ends.
    static func temporaryDirectory(_ test: XCTestCase) throws -> URL {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("bertc-text-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        test.addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
    }
}

/// A padded row as the golden files store it: ids and type ids up to `length`, then padding.
struct GoldenPackedRow: Decodable {
    var input_ids: [Int32]
    var token_type_ids: String
    var length: Int

    /// The full padded row (`[PAD]` = 0, type 0, mask 0 after `length`).
    func expanded(to sequenceLength: Int) -> PackedInput {
        let padding = sequenceLength - length
        return PackedInput(
            inputIDs: input_ids + [Int32](repeating: 0, count: padding),
            typeIDs: token_type_ids.utf8.map { Int32($0 - UInt8(ascii: "0")) } + [Int32](repeating: 0, count: padding),
            attentionMask: [Int32](repeating: 1, count: length) + [Int32](repeating: 0, count: padding))
    }
}
