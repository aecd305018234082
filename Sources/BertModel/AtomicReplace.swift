// Publishing a file or directory that was written under a staging name beside its
// destination, so that at every instant the destination is either the old complete version
// or the new complete one, never missing or half-written, whatever kills the process:
//
//   - a new path: renameat2(RENAME_NOREPLACE), so a path that appeared meanwhile is not
//     clobbered;
//   - an existing directory: renameat2(RENAME_EXCHANGE) swaps staging and destination in one
//     step, then the old version (now under the staging name) is deleted;
//   - an existing file: rename(2) over it;
//   - on a file system without renameat2: the destination is renamed aside to `.NAME.old-PID`
//     and the staging name renamed in; a process killed between the two leaves `.NAME.old-PID`,
//     which the next write puts back (`removeStaleStaging`).
//
// Staging names are `.NAME.partial-PID`; a write first removes the leftovers of processes that
// are no longer running (older versions' `.NAME.partial-PID-N` and `.NAME.staged-PID-N` too).
// Everything under the staging name is flushed to disk before it is published, and the parent
// directory after.

import CFileOps
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Errors of publishing a staged file or directory. Each names the path.
public enum AtomicReplaceError: Error, CustomStringConvertible, Equatable {
    /// The destination exists and replacing it was not asked for.
    case exists(path: String)
    /// A file system operation failed.
    case failed(path: String, operation: String, reason: String)

    public var description: String {
        switch self {
        case .exists(let path):
            return "\(path) already exists; pass --overwrite to replace it"
        case .failed(let path, let operation, let reason):
            return "cannot \(operation) \(path): \(reason)"
        }
    }
}

/// Atomic publication of staged writes (see the file comment).
public enum AtomicReplace {
    /// `.NAME.partial-PID` beside `destination`: where a write of this process stages it.
    public static func stagingURL(for destination: URL) -> URL {
        destination.deletingLastPathComponent().appendingPathComponent(".\(destination.lastPathComponent).partial-\(getpid())")
    }

    /// Removes what killed writes of `destination` left and makes an empty staging folder
    /// for this process's write of it.
    /// - Returns: the staging folder (`stagingURL(for:)`).
    public static func makeStagingFolder(for destination: URL) throws -> URL {
        removeStaleStaging(besides: destination)
        let staging = stagingURL(for: destination)
        try? FileManager.default.removeItem(at: staging)
        try FileManager.default.createDirectory(at: staging, withIntermediateDirectories: true)
        return staging
    }

    /// Removes what killed writes of `destination` left beside it: staging names of processes
    /// that no longer run. A renamed-aside old version is put back when the destination is
    /// missing (the write died between its two renames), and removed otherwise.
    public static func removeStaleStaging(besides destination: URL) {
        let parent = destination.deletingLastPathComponent()
        let prefix = ".\(destination.lastPathComponent)."
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: parent.path) else { return }
        for name in names where name.hasPrefix(prefix) {
            guard let (kind, pid) = leftover(String(name.dropFirst(prefix.count))), !isRunning(pid) else { continue }
            let url = parent.appendingPathComponent(name)
            var info = stat()
            if kind == "old", lstat(destination.path, &info) != 0, errno == ENOENT, rename(url.path, destination.path) == 0 {
                continue
            }
            try? FileManager.default.removeItem(at: url)
        }
    }

    /// Publishes `staging` (a file or directory beside `destination`) at `destination`.
    /// - Parameter replacing: whether an existing destination may be replaced; it is kept
    ///   until the new version is in place.
    /// - Throws: `AtomicReplaceError`; `staging` is left for the caller to remove.
    public static func publish(_ staging: URL, to destination: URL, replacing: Bool) throws {
        let (from, to) = (staging.path, destination.path)
        func failure(_ operation: String, _ path: String = to) -> AtomicReplaceError {
            .failed(path: path, operation: operation, reason: String(cString: strerror(errno)))
        }
        try syncTree(staging)
        var info = stat()
        if lstat(to, &info) != 0 {
            guard errno == ENOENT else { throw failure("examine") }
            if bertc_rename_noreplace(from, to) == 0 { return syncParent(of: destination) }
            if errno == EEXIST { guard replacing else { throw AtomicReplaceError.exists(path: to) } } else {
                guard errno == EINVAL || errno == ENOSYS else { throw failure("move the new version to") }
                guard rename(from, to) == 0 else { throw failure("move the new version to") }
                return syncParent(of: destination)
            }
        } else if !replacing {
            throw AtomicReplaceError.exists(path: to)
        }
        // Replacing. A file over a file: rename(2) is atomic.
        var staged = stat()
        guard lstat(from, &staged) == 0 else { throw failure("examine", from) }
        if staged.st_mode & S_IFMT != S_IFDIR, lstat(to, &info) == 0, info.st_mode & S_IFMT != S_IFDIR {
            guard rename(from, to) == 0 else { throw failure("replace") }
            return syncParent(of: destination)
        }
        // A directory: swap, then delete the old version, now under the staging name.
        if bertc_exchange_paths(from, to) == 0 {
            syncParent(of: destination)
            try? FileManager.default.removeItem(at: staging)
            return
        }
        guard errno == EINVAL || errno == ENOSYS else { throw failure("replace") }
        let old = destination.deletingLastPathComponent().appendingPathComponent(".\(destination.lastPathComponent).old-\(getpid())")
        try? FileManager.default.removeItem(at: old)
        guard rename(to, old.path) == 0 else { throw failure("move aside") }
        guard rename(from, to) == 0 else {
            let error = failure("move the new version to")
            _ = rename(old.path, to)
            throw error
        }
        syncParent(of: destination)
        try? FileManager.default.removeItem(at: old)
    }

    // MARK: - Helpers

    /// (`partial`, `staged` or `old`, pid) from `partial-PID`, `partial-PID-N`, ... .
    private static func leftover(_ suffix: String) -> (String, pid_t)? {
        let parts = suffix.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 2 || parts.count == 3, ["partial", "staged", "old"].contains(String(parts[0])),
              parts.dropFirst().allSatisfy({ !$0.isEmpty && $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }),
              let pid = pid_t(parts[1]), pid > 0 else { return nil }
        return (String(parts[0]), pid)
    }

    /// Whether process `pid` exists (this process counts as running).
    private static func isRunning(_ pid: pid_t) -> Bool {
        pid == getpid() || kill(pid, 0) == 0 || errno != ESRCH
    }

    /// fsync(2) on every regular file and directory under `url` (not following links).
    private static func syncTree(_ url: URL) throws {
        var info = stat()
        guard lstat(url.path, &info) == 0 else {
            throw AtomicReplaceError.failed(path: url.path, operation: "examine", reason: String(cString: strerror(errno)))
        }
        let kind = info.st_mode & S_IFMT
        guard kind == S_IFREG || kind == S_IFDIR else { return }
        if kind == S_IFDIR {
            for name in (try? FileManager.default.contentsOfDirectory(atPath: url.path)) ?? [] {
                try syncTree(url.appendingPathComponent(name))
            }
        }
        let fd = open(url.path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { return }
        defer { close(fd) }
        guard fsync(fd) == 0 else {
            throw AtomicReplaceError.failed(path: url.path, operation: "flush", reason: String(cString: strerror(errno)))
        }
    }

    /// fsync(2) on the directory holding `url`, so the rename itself is on disk.
    private static func syncParent(of url: URL) {
        let fd = open(url.deletingLastPathComponent().path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return }
        fsync(fd)
        close(fd)
    }
}
