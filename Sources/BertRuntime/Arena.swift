/// The memory an interpreter keeps its non-parameter values in: one 64-byte aligned, zeroed
/// buffer. Interpreters that never run at the same time (the shapes of one `InterpreterCache`)
/// share one arena, sized for the largest plan among them, instead of holding one each.
///
/// Nothing survives between runs that a kernel relies on, so an interpreter may find the
/// arena as another one left it. When a plan needs more room the buffer is replaced (its
/// contents are not kept) and `generation` changes, so interpreters recompute their value
/// addresses before their next run.
public final class Arena {
    public private(set) var base: UnsafeMutableRawPointer
    public private(set) var bytes: Int
    /// Changes whenever `base` does.
    public private(set) var generation = 0

    public init(bytes: Int = 0) {
        self.bytes = max(bytes, Arena.alignment)
        base = Arena.allocate(self.bytes)
    }

    deinit { base.deallocate() }

    /// Makes the arena at least `bytes` long; a larger buffer replaces the current one.
    public func reserve(_ bytes: Int) {
        guard bytes > self.bytes else { return }
        base.deallocate()
        base = Arena.allocate(bytes)
        self.bytes = bytes
        generation += 1
    }

    static let alignment = 64

    private static func allocate(_ bytes: Int) -> UnsafeMutableRawPointer {
        let p = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: alignment)
        p.initializeMemory(as: UInt8.self, repeating: 0, count: bytes)
        return p
    }
}
