// Damaged and hostile vocabularies, data files and paths: each is an error naming the file and
// line in plain words, never a hang on a FIFO or a Foundation "error 256".

import Foundation
import XCTest
@testable import BertText

final class HostileFileTests: XCTestCase {
    private let specials = "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\n"

    // MARK: - Vocabularies

    func testDuplicateTokenNamesBothLines() throws {
        let file = try write("vocab.txt", specials + "the\na\nthe\n")
        XCTAssertThrowsError(try Vocabulary(contentsOf: file)) { error in
            XCTAssertEqual(error as? VocabularyError, .duplicateToken("the", file: file, line: 8, firstLine: 6))
            XCTAssertTrue("\(error)".contains("\(file):8"), "\(error)")
        }
    }

    func testOverlongLineAndInvalidUTF8NameTheLine() throws {
        let long = try write("long.txt", specials + String(repeating: "x", count: 2000) + "\n")
        XCTAssertThrowsError(try Vocabulary(contentsOf: long)) { error in
            XCTAssertEqual(error as? VocabularyError, .overlongLine(file: long, line: 6, bytes: 2000))
        }
        let path = try TestFixtures.temporaryDirectory(self).appendingPathComponent("latin1.txt")
        try (Data(specials.utf8) + Data([0x63, 0x61, 0x66, 0xE9, 0x0A])).write(to: path)
        XCTAssertThrowsError(try Vocabulary(contentsOf: path.path)) { error in
            XCTAssertEqual(error as? VocabularyError, .notUTF8(file: path.path, line: 6))
        }
    }

    func testDirectoryAndFIFOAreRefusedInPlainWords() throws {
        let directory = try TestFixtures.temporaryDirectory(self)
        XCTAssertThrowsError(try Vocabulary(contentsOf: directory.path)) { error in
            XCTAssertTrue("\(error)".contains("is a directory"), "\(error)")
            XCTAssertFalse("\(error)".contains("NSCocoaErrorDomain"), "\(error)")
        }
        let fifo = directory.appendingPathComponent("fifo").path
        XCTAssertEqual(mkfifo(fifo, 0o600), 0)
        XCTAssertThrowsError(try Vocabulary(contentsOf: fifo)) { error in
            XCTAssertTrue("\(error)".contains("FIFO"), "\(error)")
        }
    }

    func testFoundationFileErrorsBecomePlainWords() throws {
        let directory = try TestFixtures.temporaryDirectory(self)
        do {
            _ = try Data(contentsOf: directory)
            XCTFail("reading a directory succeeded")
        } catch {
            XCTAssertFalse(FileAccess.reason(for: error).contains("NSCocoaErrorDomain"), FileAccess.reason(for: error))
        }
        do {
            try Data("x".utf8).write(to: directory.appendingPathComponent("absent/file.txt"))
            XCTFail("writing into a missing directory succeeded")
        } catch {
            XCTAssertEqual(FileAccess.reason(for: error), "no such file or directory")
        }
        XCTAssertEqual(FileAccess.reason(for: CocoaError(.fileWriteVolumeReadOnly)), "read-only file system")
    }

    // MARK: - Data files

    func testDataFileLinesAreCheckedForUTF8AndLength() throws {
        let directory = try TestFixtures.temporaryDirectory(self)
        let bad = directory.appendingPathComponent("bad.tsv")
        try (Data("a\tb\nc\t".utf8) + Data([0xFF]) + Data("\n".utf8)).write(to: bad)
        XCTAssertThrowsError(try TabSeparatedFile(path: bad.path, hasHeader: false, columnCount: 2)) { error in
            XCTAssertEqual(error as? DataError, .notUTF8(file: bad.path, line: 2))
        }
        let long = try write("long.tsv", "a\tb\n" + String(repeating: "y", count: TabSeparatedFile.maximumLineLength + 1) + "\n")
        XCTAssertThrowsError(try TabSeparatedFile(path: long, hasHeader: false, columnCount: 2)) { error in
            XCTAssertEqual(error as? DataError, .overlongLine(file: long, line: 2, bytes: TabSeparatedFile.maximumLineLength + 1,
                                                             limit: TabSeparatedFile.maximumLineLength))
        }
        let withMark = try write("bom.tsv", "\u{FEFF}h1\th2\r\nx\ty\r\n")
        let table = try TabSeparatedFile(path: withMark, hasHeader: true, columnCount: 2)
        XCTAssertEqual(table.rows.map(\.fields), [["x", "y"]])
        XCTAssertThrowsError(try TabSeparatedFile(path: directory.appendingPathComponent("none.tsv").path,
                                                  hasHeader: false, columnCount: 2)) { error in
            guard case .missingFile? = error as? DataError else { return XCTFail("\(error)") }
        }
    }

    func testPackingLengthHasALimit() throws {
        let tokens = Vocabulary.SpecialTokens(cls: 2, sep: 3, pad: 0, unk: 1, mask: 4)
        XCTAssertThrowsError(try InputPacker(specialTokens: tokens, sequenceLength: 100_000_000_000)) { error in
            XCTAssertEqual(error as? PackingError, .sequenceLengthTooLong(100_000_000_000))
        }
        XCTAssertNoThrow(try InputPacker(specialTokens: tokens, sequenceLength: 512))
    }

    private func write(_ name: String, _ text: String) throws -> String {
        let path = try TestFixtures.temporaryDirectory(self).appendingPathComponent(name).path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }
}
