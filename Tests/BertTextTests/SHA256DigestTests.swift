import Foundation
import XCTest
@testable import BertText

/// The self-contained SHA-256 against the FIPS 180-4 / NIST CAVP example vectors and against
/// coreutils' `sha256sum` on a file that spans many chunks.
final class SHA256DigestTests: XCTestCase {
    func testKnownVectors() {
        let vectors: [(String, String)] = [
            ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
            ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
            ("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
             "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"),
            ("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
             "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"),
        ]
        for (message, digest) in vectors {
            XCTAssertEqual(SHA256Digest.hex(of: Data(message.utf8)), digest, "message \"\(message)\"")
        }
        XCTAssertEqual(SHA256Digest.hex(of: Data(repeating: UInt8(ascii: "a"), count: 1_000_000)),
                       "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    /// Feeding the same bytes in odd-sized pieces gives the same digest (block boundaries).
    func testStreamingMatchesOneShot() {
        let bytes = Data((0..<1000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) })
        var digest = SHA256Digest()
        var start = 0
        for size in [1, 63, 64, 65, 7, 200, 600] where start < bytes.count {
            let end = min(start + size, bytes.count)
            digest.update(bytes.subdata(in: start..<end))
            start = end
        }
        digest.update(bytes.subdata(in: start..<bytes.count))
        XCTAssertEqual(digest.finalizeHex(), SHA256Digest.hex(of: bytes))
    }

    func testFileDigestMatchesCoreutils() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("bertc-sha-\(getpid()).bin")
        defer { try? FileManager.default.removeItem(at: url) }
        try Data((0..<(3 << 20) + 17).map { UInt8(truncatingIfNeeded: $0 &* 2_654_435_761 >> 13) }).write(to: url)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/sha256sum")
        process.arguments = [url.path]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        let expected = String(output.prefix(64))
        XCTAssertEqual(try SHA256Digest.hex(ofFile: url), expected)
    }
}
