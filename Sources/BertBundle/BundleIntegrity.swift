// Checks the files of a bundle against the sizes and SHA-256 checksums its manifest lists.
// The loader calls `verify` before it reads anything but the manifest; `inspect` calls
// `check` to show the status of every file without stopping at the first bad one.
//
// Only regular files count: a listed path that is a symbolic link (even to a file inside the
// bundle), a FIFO, a device, a socket or a directory is refused without being opened, so a
// link to /dev/zero or a FIFO can never hang the check and a link can never reach a file
// outside the bundle. The size comes from lstat(2) and must match before any byte is hashed;
// the file is then opened without following links and without blocking, checked again on
// the open descriptor (the same inode, still regular, still that size), and at most the
// listed number of bytes are hashed.

import BertText
import Foundation

/// The state of one listed file on disk.
public struct BundleFileStatus: Codable, Equatable, Sendable {
    public enum State: String, Codable, Sendable {
        case ok
        case missing
        /// A symbolic link, FIFO, device, socket or directory instead of a regular file.
        case notRegular = "not_regular"
        /// Size differs: truncated or extended.
        case sizeMismatch = "size_mismatch"
        /// Same size, different bytes.
        case checksumMismatch = "checksum_mismatch"
        case unreadable
    }

    public var path: String
    /// Size the manifest lists.
    public var bytes: Int
    /// Size on disk, when the file exists.
    public var foundBytes: Int?
    public var sha256: String
    /// SHA-256 on disk, when the file was hashed (sizes matched).
    public var foundSHA256: String?
    /// What is at the path when it is not a regular file (`symbolic link`, `FIFO`, ...).
    public var foundKind: String?
    public var state: State

    enum CodingKeys: String, CodingKey {
        case path, bytes, foundBytes = "found_bytes", sha256, foundSHA256 = "found_sha256", foundKind = "found_kind", state
    }

    /// The error this status stands for, or nil when the file is intact.
    public var error: BundleError? {
        switch state {
        case .ok: return nil
        case .missing: return .missingFile(file: path)
        case .notRegular: return .notRegularFile(file: path, kind: foundKind ?? "an unknown kind of file")
        case .sizeMismatch: return .sizeMismatch(file: path, expected: bytes, found: foundBytes ?? 0)
        case .checksumMismatch: return .checksumMismatch(file: path, expected: sha256, found: foundSHA256 ?? "")
        case .unreadable: return .io(file: path, reason: "the file exists but cannot be read")
        }
    }
}

/// Size and checksum verification of a bundle's files.
public enum BundleIntegrity {
    /// The status of every file the manifest lists, in manifest order. Paths in the result are
    /// full paths so messages name the file.
    public static func check(_ manifest: BundleManifest, in directory: URL) -> [BundleFileStatus] {
        manifest.files.map { check($0, in: directory) }
    }

    /// Throws for the first file (in manifest order) that is missing, not a regular file, of
    /// the wrong size or has the wrong checksum.
    /// - Throws: `BundleError.missingFile`, `.notRegularFile`, `.sizeMismatch`,
    ///   `.checksumMismatch` or `.io`.
    public static func verify(_ manifest: BundleManifest, in directory: URL) throws {
        for entry in manifest.files {
            if let error = check(entry, in: directory).error { throw error }
        }
    }

    /// The status of one file: what is at the path (lstat), then size, then SHA-256.
    public static func check(_ entry: BundleManifest.FileEntry, in directory: URL) -> BundleFileStatus {
        let url = directory.appendingPathComponent(entry.path)
        var status = BundleFileStatus(path: url.path, bytes: entry.bytes, foundBytes: nil, sha256: entry.sha256,
                                      foundSHA256: nil, foundKind: nil, state: .missing)
        let file: RegularFile
        do { file = try RegularFile(url) } catch {
            switch error {
            case .missing: status.state = .missing
            case .notRegular(let kind): status.state = .notRegular; status.foundKind = kind
            case .unreadable, .tooLarge, .readFailed: status.state = .unreadable
            }
            return status
        }
        status.foundBytes = file.size
        guard file.size == entry.bytes else {
            status.state = .sizeMismatch
            return status
        }
        guard let digest = try? file.sha256(bytes: entry.bytes) else {
            status.state = .unreadable
            return status
        }
        status.foundSHA256 = digest
        status.state = digest == entry.sha256 ? .ok : .checksumMismatch
        return status
    }
}

extension RegularFile {
    /// The hex SHA-256 of the first `bytes` bytes, read in 1 MiB chunks.
    func sha256(bytes: Int) throws -> String {
        var digest = SHA256Digest()
        var left = bytes
        while left > 0, let chunk = try handle.read(upToCount: min(left, 1 << 20)), !chunk.isEmpty {
            digest.update(chunk)
            left -= chunk.count
        }
        return digest.finalizeHex()
    }
}
