// Reading a file that a manifest lists (a bundle's files, an exported ONNX model) without
// following a symbolic link and without blocking: a link can never reach a file outside the
// directory, and a FIFO or device swapped in after the lstat(2) is seen on the open
// descriptor and never read. `FileAccess.read` is the counterpart for files a user names,
// where links are followed.

import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A regular file opened for reading (not a link to one).
public struct RegularFile {
    /// Why a path was not opened or read.
    public enum Problem: Error, Equatable {
        case missing
        /// A symbolic link, FIFO, device, socket or directory; `kind` in words ("a FIFO").
        case notRegular(kind: String)
        /// It exists but cannot be opened, or changed between lstat(2) and open(2).
        case unreadable
        /// Larger than the caller's limit.
        case tooLarge(size: Int)
        /// Reading failed; the reason in plain words.
        case readFailed(reason: String)
    }

    public let handle: FileHandle
    /// Size in bytes, from the open descriptor.
    public let size: Int

    /// Opens `url` if, and only if, it is a regular file.
    /// - Throws: `Problem.missing`, `.notRegular` or `.unreadable`.
    public init(_ url: URL) throws(Problem) {
        var before = stat()
        guard lstat(url.path, &before) == 0 else { throw errno == ENOENT || errno == ENOTDIR ? .missing : .unreadable }
        guard before.st_mode & S_IFMT == S_IFREG else { throw .notRegular(kind: FileAccess.kind(of: before.st_mode)) }
        let fd = open(url.path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { throw errno == ELOOP ? .notRegular(kind: FileAccess.kind(of: S_IFLNK)) : .unreadable }
        handle = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
        var after = stat()
        guard fstat(fd, &after) == 0 else { throw .unreadable }
        guard after.st_mode & S_IFMT == S_IFREG else { throw .notRegular(kind: FileAccess.kind(of: after.st_mode)) }
        guard after.st_ino == before.st_ino, after.st_dev == before.st_dev else { throw .unreadable }
        size = Int(after.st_size)
    }

    /// All of the regular file at `url`, which may have at most `limit` bytes.
    /// - Throws: `Problem`; `.tooLarge` before anything is read.
    public static func contents(of url: URL, limit: Int) throws(Problem) -> Data {
        let file = try RegularFile(url)
        guard file.size <= limit else { throw .tooLarge(size: file.size) }
        do { return try file.handle.read(upToCount: file.size) ?? Data() } catch {
            throw .readFailed(reason: FileAccess.reason(for: error))
        }
    }
}
