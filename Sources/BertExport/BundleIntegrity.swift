// Checks the files of a bundle against the sizes and SHA-256 checksums its manifest lists.
// The loader calls `verify` before it reads anything but the manifest; `inspect` calls
// `check` to show the status of every file without stopping at the first bad one.

import Foundation

/// The state of one listed file on disk.
public struct BundleFileStatus: Codable, Equatable, Sendable {
    public enum State: String, Codable, Sendable {
        case ok
        case missing
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
    public var state: State

    enum CodingKeys: String, CodingKey {
        case path, bytes, foundBytes = "found_bytes", sha256, foundSHA256 = "found_sha256", state
    }

    /// The error this status stands for, or nil when the file is intact.
    public var error: BundleError? {
        switch state {
        case .ok: return nil
        case .missing: return .missingFile(file: path)
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

    /// Throws for the first file (in manifest order) that is missing, of the wrong size or
    /// has the wrong checksum.
    /// - Throws: `BundleError.missingFile`, `.sizeMismatch`, `.checksumMismatch` or `.io`.
    public static func verify(_ manifest: BundleManifest, in directory: URL) throws {
        for entry in manifest.files {
            if let error = check(entry, in: directory).error { throw error }
        }
    }

    /// The status of one file: existence, then size (cheap), then SHA-256.
    public static func check(_ entry: BundleManifest.FileEntry, in directory: URL) -> BundleFileStatus {
        let url = directory.appendingPathComponent(entry.path)
        var status = BundleFileStatus(path: url.path, bytes: entry.bytes, foundBytes: nil, sha256: entry.sha256,
                                      foundSHA256: nil, state: .missing)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), !isDirectory.boolValue else {
            return status
        }
        guard let size = (try? FileManager.default.attributesOfItem(atPath: url.path))?[.size] as? Int else {
            status.state = .unreadable
            return status
        }
        status.foundBytes = size
        guard size == entry.bytes else {
            status.state = .sizeMismatch
            return status
        }
        guard let digest = try? SHA256Digest.hex(ofFile: url) else {
            status.state = .unreadable
            return status
        }
        status.foundSHA256 = digest
        status.state = digest == entry.sha256 ? .ok : .checksumMismatch
        return status
    }
}
