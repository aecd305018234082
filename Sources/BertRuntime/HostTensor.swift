import BertGraph

/// A tensor owned by the host: concrete shape and row-major elements. Weight readers produce
/// them, the runtime takes inputs and returns outputs as them.
public struct HostTensor: Hashable, Sendable {
    public enum Storage: Hashable, Sendable {
        case float32([Float])
        case int32([Int32])
        case int64([Int64])
    }

    public var shape: [Int]
    public var storage: Storage

    public init(shape: [Int], floats: [Float]) {
        precondition(shape.reduce(1, *) == floats.count, "shape \(shape) does not hold \(floats.count) elements")
        self.shape = shape
        self.storage = .float32(floats)
    }

    public init(shape: [Int], int32s: [Int32]) {
        precondition(shape.reduce(1, *) == int32s.count, "shape \(shape) does not hold \(int32s.count) elements")
        self.shape = shape
        self.storage = .int32(int32s)
    }

    public init(shape: [Int], int64s: [Int64]) {
        precondition(shape.reduce(1, *) == int64s.count, "shape \(shape) does not hold \(int64s.count) elements")
        self.shape = shape
        self.storage = .int64(int64s)
    }

    public var dtype: DType {
        switch storage {
        case .float32: return .float32
        case .int32: return .int32
        case .int64: return .int64
        }
    }

    public var elementCount: Int { shape.reduce(1, *) }

    /// The elements as floats, or nil for an integer tensor.
    public var floats: [Float]? {
        if case .float32(let f) = storage { return f }
        return nil
    }

    /// The elements as Int32 (int64 narrowed), or nil for a float tensor.
    public var int32s: [Int32]? {
        switch storage {
        case .float32: return nil
        case .int32(let v): return v
        case .int64(let v): return v.map { Int32(truncatingIfNeeded: $0) }
        }
    }
}
