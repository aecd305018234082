// Named points between the file operations of everything that must survive a kill (run
// directories, checkpoints, exported models), so that tests can kill the process at each of
// them and check that the next run recovers. Off unless the environment asks:
//   BERTC_KILL_AT=N       the process sends itself SIGKILL on reaching the Nth point (1-based);
//   BERTC_CRASH_TRACE=1   every point reached is written to stderr as "crash point N: name".
import Foundation
#if canImport(Glibc)
import Glibc
#endif

public enum CrashPoints {
    private struct Settings {
        var killAt: Int?
        var trace: Bool
    }

    private static let settings: Settings = {
        let env = ProcessInfo.processInfo.environment
        return Settings(killAt: env["BERTC_KILL_AT"].flatMap { Int($0) }, trace: env["BERTC_CRASH_TRACE"] == "1")
    }()

    private static let counter = Counter()

    /// Marks that the file operations before this point are done and those after it have
    /// not started.
    public static func reached(_ name: String) {
        let s = settings
        guard s.killAt != nil || s.trace else { return }
        let n = counter.next()
        if s.trace { FileHandle.standardError.write(Data("crash point \(n): \(name)\n".utf8)) }
        if n == s.killAt { kill(getpid(), SIGKILL) }
    }

    private final class Counter: @unchecked Sendable {
        private var value = 0
        private let lock = NSLock()
        func next() -> Int {
            lock.lock()
            defer { lock.unlock() }
            value += 1
            return value
        }
    }
}
