// Reading whole files that someone else wrote (vocabularies, configs, data files, checkpoint
// indexes), and saying in plain words why a file could not be read or written.
//
// Foundation's own messages for these failures are "The operation could not be completed.
// (NSCocoaErrorDomain error 256.)" and the like; `FileAccess.reason(for:)` turns them into
// "is a directory", "no such file or directory", "permission denied", ... Reads check first
// that the path is a regular file (a FIFO would block forever, a device never end) no larger
// than a limit, so that a hostile path fails with a message instead of a hang or an
// allocation abort. Files that bertc publishes by renaming are written with `writeFlushed`.

import Foundation

/// Why a file could not be read: the reason in plain words, without the path (callers put the
/// path into their own error).
public struct FileAccessError: Error, Equatable, CustomStringConvertible {
    public var reason: String

    public init(reason: String) {
        self.reason = reason
    }

    public var description: String { reason }
}

/// Checked whole-file reads, flushed writes and plain-words descriptions of file errors.
public enum FileAccess {
    /// Reads the regular file at `path` (symbolic links are followed).
    /// - Parameters:
    ///   - limit: the largest size accepted, in bytes; `what` names the kind of file in the
    ///     message, e.g. "a vocabulary".
    ///   - mapped: map the file instead of copying it (checkpoints; the size limit then only
    ///     guards the address space).
    /// - Throws: `FileAccessError` when the path does not exist, is not a regular file, is
    ///   larger than `limit`, or cannot be read.
    public static func read(_ path: String, limit: Int, what: String, mapped: Bool = false) throws -> Data {
        let size = try regularFileSize(path)
        guard size <= limit else {
            throw FileAccessError(reason: "it is \(size) bytes, more than the \(limit)-byte limit for \(what)")
        }
        do {
            return try Data(contentsOf: URL(fileURLWithPath: path), options: mapped ? .alwaysMapped : [])
        } catch {
            throw FileAccessError(reason: reason(for: error))
        }
    }

    /// Writes `data` to `url` and flushes it to disk (fsync), so that a rename that publishes
    /// the file never publishes bytes that are still only in the page cache.
    /// - Throws: Foundation's error (`reason(for:)` words it).
    public static func writeFlushed(_ data: Data, to url: URL) throws {
        try data.write(to: url)
        let handle = try FileHandle(forUpdating: url)
        try handle.synchronize()
        try handle.close()
    }

    /// The size of the regular file at `path`, following symbolic links.
    /// - Throws: `FileAccessError` when it does not exist or is a directory, FIFO, socket or device.
    public static func regularFileSize(_ path: String) throws -> Int {
        var info = stat()
        guard stat(path, &info) == 0 else { throw FileAccessError(reason: posixReason(errno)) }
        switch info.st_mode & S_IFMT {
        case S_IFREG: return Int(info.st_size)
        case S_IFDIR: throw FileAccessError(reason: "it is a directory, not a file")
        default: throw FileAccessError(reason: "it is \(kind(of: info.st_mode)), not a regular file")
        }
    }

    /// What a file mode stands for, in words: "a FIFO", "a symbolic link", "a directory", ...
    public static func kind(of mode: mode_t) -> String {
        switch mode & S_IFMT {
        case S_IFREG: return "a regular file"
        case S_IFLNK: return "a symbolic link"
        case S_IFIFO: return "a FIFO"
        case S_IFCHR: return "a character device"
        case S_IFBLK: return "a block device"
        case S_IFSOCK: return "a socket"
        case S_IFDIR: return "a directory"
        default: return "an unknown kind of file"
        }
    }

    /// A Foundation, POSIX or Cocoa file error in plain words, e.g. "no such file or
    /// directory", "is a directory", "permission denied", "read-only file system".
    public static func reason(for error: Error) -> String {
        if let error = error as? FileAccessError { return error.reason }
        let ns = error as NSError
        if ns.domain == NSPOSIXErrorDomain { return posixReason(Int32(truncatingIfNeeded: ns.code)) }
        if let underlying = ns.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain {
            return posixReason(Int32(truncatingIfNeeded: underlying.code))
        }
        guard ns.domain == NSCocoaErrorDomain else { return String(describing: error) }
        switch CocoaError.Code(rawValue: ns.code) {
        case .fileNoSuchFile, .fileReadNoSuchFile: return "no such file or directory"
        case .fileReadNoPermission, .fileWriteNoPermission: return "permission denied"
        case .fileReadTooLarge: return "the file is too large to read"
        case .fileReadInapplicableStringEncoding, .fileReadCorruptFile: return "the file is not valid text"
        case .fileWriteOutOfSpace: return "no space left on the device"
        case .fileWriteVolumeReadOnly: return "read-only file system"
        case .fileWriteFileExists: return "a file of that name already exists"
        case .fileWriteInvalidFileName, .fileReadInvalidFileName: return "invalid file name"
        case .fileLocking: return "the file is locked"
        default:
            return (ns.code >= 512 && ns.code < 1024) ? "the file could not be written" : "the file could not be read"
        }
    }

    private static func posixReason(_ code: Int32) -> String {
        switch code {
        case ENOENT: return "no such file or directory"
        case ENOTDIR: return "a component of the path is not a directory"
        case EISDIR: return "it is a directory, not a file"
        case EACCES, EPERM: return "permission denied"
        case EROFS: return "read-only file system"
        case ENOSPC: return "no space left on the device"
        case EEXIST: return "a file of that name already exists"
        case ENAMETOOLONG: return "the path is too long"
        case ELOOP: return "too many levels of symbolic links"
        default: return String(cString: strerror(code)).lowercased()
        }
    }
}
