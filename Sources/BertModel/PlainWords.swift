import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A Foundation error in plain words with no error-domain codes.
public func plainWords(_ error: Error) -> String {
    let ns = error as NSError
    guard ns.domain == NSCocoaErrorDomain || ns.domain == NSPOSIXErrorDomain else { return "\(error)" }
    if ns.domain == NSPOSIXErrorDomain { return String(cString: strerror(Int32(ns.code))) }
    if let underlying = ns.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain,
       let code = POSIXErrorCode(rawValue: Int32(underlying.code)) {
        return String(cString: strerror(code.rawValue))
    }
    switch ns.code {
    case NSFileNoSuchFileError, NSFileReadNoSuchFileError: return "no such file or directory"
    case NSFileReadNoPermissionError, NSFileWriteNoPermissionError: return "permission denied"
    case NSFileWriteOutOfSpaceError: return "no space left on the device"
    case NSFileWriteVolumeReadOnlyError: return "the file system is read-only"
    default: return ns.localizedDescription.contains("NSCocoaErrorDomain") ? "an I/O error" : ns.localizedDescription
    }
}
