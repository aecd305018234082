import BertGraph
import BertPasses
import Foundation

/// All parameters of a model in one contiguous, 64-byte aligned Float buffer, each at a fixed
/// element range (its slot) in the order of `specs`. The interpreter reads parameters in place;
/// optimizers and gradient norms can walk the whole buffer at once. Gradient stores have the
/// same layout as the parameter store they belong to.
public final class ParameterStore {
    /// Parameter names in slot order.
    public private(set) var names: [String]
    /// Total element count of all slots.
    public let count: Int

    private var slots: [String: (range: Range<Int>, shape: [Int])] = [:]
    private let storage: UnsafeMutablePointer<Float>

    /// Weights packed for `Gemm` by inference plans, by element offset in the buffer. Every
    /// call that can change the parameters empties it; interpreters of any plan bound to this
    /// store share it.
    private var packed: [Int: PackedMatrix] = [:]
    private let packedLock = NSLock()

    /// A zero-filled store with one slot per spec, in order. Names must be unique.
    public init(specs: [(name: String, shape: [Int])]) {
        var top = 0
        var names: [String] = []
        for spec in specs {
            precondition(slots[spec.name] == nil, "parameter '\(spec.name)' appears twice in the specs")
            let n = spec.shape.reduce(1, *)
            slots[spec.name] = (top..<(top + n), spec.shape)
            names.append(spec.name)
            top += n
        }
        self.names = names
        self.count = top
        let raw = UnsafeMutableRawPointer.allocate(byteCount: max(top, 1) * MemoryLayout<Float>.stride,
                                                   alignment: MemoryPlan.alignment)
        storage = raw.bindMemory(to: Float.self, capacity: max(top, 1))
        storage.initialize(repeating: 0, count: max(top, 1))
    }

    deinit { storage.deallocate() }

    /// A zero-filled store with one slot per graph parameter, in the graph's parameter order.
    public static func matching(_ graph: Graph) throws -> ParameterStore {
        let specs = try graph.parameters.map { v -> (name: String, shape: [Int]) in
            let value = graph.values[v]
            guard let shape = value.type.shape.resolve([:]) else {
                throw RuntimeError.unboundDim(value: value.name, shape: value.type.shape.description)
            }
            return (value.name, shape)
        }
        return ParameterStore(specs: specs)
    }

    /// The shape of parameter `name`, or nil when the store has no such parameter.
    public func shape(_ name: String) -> [Int]? { slots[name]?.shape }

    /// The element range of parameter `name` in the buffer.
    public func slot(_ name: String) -> Range<Int>? { slots[name]?.range }

    /// Calls `body` with the whole buffer (all slots, `count` elements).
    public func withUnsafeMutableBufferPointer<R>(_ body: (UnsafeMutableBufferPointer<Float>) throws -> R) rethrows -> R {
        dropPacked()
        return try body(UnsafeMutableBufferPointer(start: storage, count: count))
    }

    /// Copies `t` into the slot of `name`; the shapes must match exactly.
    public func set(_ name: String, _ t: HostTensor) throws {
        guard let (range, shape) = slots[name] else { throw RuntimeError.missingParameter(name: name) }
        guard shape == t.shape else { throw RuntimeError.parameterShapeMismatch(name: name, expected: shape, got: t.shape) }
        guard let floats = t.floats else { throw RuntimeError.parameterTypeMismatch(name: name, got: t.dtype) }
        dropPacked()
        floats.withUnsafeBufferPointer { src in
            (storage + range.lowerBound).update(from: src.baseAddress!, count: range.count)
        }
    }

    /// A copy of parameter `name` as a host tensor.
    public func tensor(_ name: String) -> HostTensor? {
        guard let (range, shape) = slots[name] else { return nil }
        return HostTensor(shape: shape, floats: Array(UnsafeBufferPointer(start: storage + range.lowerBound, count: range.count)))
    }

    /// Sets every element of every slot to zero.
    public func zero() {
        dropPacked()
        storage.update(repeating: 0, count: count)
    }

    /// The address of the first element of `name`'s slot (valid while the store lives).
    func baseAddress(_ name: String) -> UnsafeMutablePointer<Float>? {
        slots[name].map { storage + $0.range.lowerBound }
    }

    /// The weight [n, k] whose first element is at `weight` (inside this store), packed as the
    /// right-hand operand of `x w^T`; packed on first use after each change to the store.
    func packedTransposed(_ weight: UnsafePointer<Float>, n: Int, k: Int) -> PackedMatrix {
        let offset = weight - UnsafePointer(storage)
        precondition(offset >= 0 && offset + n * k <= count, "a packed weight must lie inside its store")
        packedLock.lock()
        defer { packedLock.unlock() }
        if let matrix = packed[offset], matrix.k == k, matrix.n == n { return matrix }
        let matrix = PackedMatrix(k: k, n: n)
        matrix.pack(weight, ldb: k, transposed: true)
        packed[offset] = matrix
        return matrix
    }

    /// Forgets every packed weight (the parameters are about to change).
    private func dropPacked() {
        packedLock.lock()
        if !packed.isEmpty { packed.removeAll() }
        packedLock.unlock()
    }
}
