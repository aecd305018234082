import BertGraph

/// What a kernel sees while it runs: the address of every value (arena slots and parameter
/// slots) and the dropout key material of this run.
struct KernelFrame {
    /// Address of each value, indexed by `ValueID`.
    let addresses: UnsafeMutablePointer<UnsafeMutableRawPointer>
    let seed: UInt64
    let step: Int
    /// The store the parameters are read from, for kernels that use packed weights.
    let parameters: ParameterStore

    @inline(__always) func floats(_ v: ValueID) -> UnsafeMutablePointer<Float> {
        addresses[v].assumingMemoryBound(to: Float.self)
    }

    @inline(__always) func raw(_ v: ValueID) -> UnsafeMutableRawPointer { addresses[v] }
}

/// A node made ready to run: shapes resolved, sizes and strides computed, scratch allocated.
/// Running it does no shape work and no allocation.
struct Kernel {
    let body: (KernelFrame) throws -> Void

    init(_ body: @escaping (KernelFrame) throws -> Void) { self.body = body }
}

/// Everything known about a node when its kernel is prepared: concrete shapes and types of
/// its operands, and how to split work across threads.
struct KernelSite {
    /// The node's name for error messages.
    let node: String
    let op: Op
    let inputs: [ValueID]
    let outputs: [ValueID]
    let inputShapes: [[Int]]
    let outputShapes: [[Int]]
    let inputTypes: [DType]
    let outputTypes: [DType]
    let parallel: Parallel
    /// Whether each input is a parameter (read from the bound `ParameterStore`).
    let inputIsParameter: [Bool]
    /// Whether products with a parameter may use the store's packed copy: set for plans
    /// that leave the parameters unchanged between runs (no gradient outputs) on builds
    /// with `Gemm`.
    let packsWeights: Bool

    /// Element count of input `i`.
    func inputCount(_ i: Int) -> Int { inputShapes[i].reduce(1, *) }
    /// Element count of output `i`.
    func outputCount(_ i: Int) -> Int { outputShapes[i].reduce(1, *) }
}

/// Element types of integer tensors (token ids, masks, labels).
enum IndexType {
    case int32, int64

    init(_ dtype: DType) {
        self = dtype == .int64 ? .int64 : .int32
    }

    /// Element `i` of the integer tensor at `base`.
    @inline(__always) func load(_ base: UnsafeRawPointer, _ i: Int) -> Int {
        switch self {
        case .int32: return Int(base.assumingMemoryBound(to: Int32.self)[i])
        case .int64: return Int(base.assumingMemoryBound(to: Int64.self)[i])
        }
    }

    /// Checks that all `count` indices at `base` are in `0..<bound`.
    func validate(_ base: UnsafeRawPointer, count: Int, bound: Int, site: KernelSite) throws {
        for i in 0..<count {
            let index = load(base, i)
            if index < 0 || index >= bound {
                throw RuntimeError.indexOutOfRange(node: site.node, op: site.op.name, index: index, bound: bound)
            }
        }
    }
}

/// Memory a kernel keeps between runs (statistics, additive masks). Freed with the kernel.
final class Scratch<Element> {
    let pointer: UnsafeMutablePointer<Element>

    init(_ count: Int, _ value: Element) {
        pointer = UnsafeMutablePointer<Element>.allocate(capacity: max(count, 1))
        pointer.initialize(repeating: value, count: max(count, 1))
    }

    deinit { pointer.deallocate() }
}
