// Tensor types of the IR: an element type and a shape whose dims are fixed or symbolic.

/// Element types the IR knows. Integer tensors hold token ids, type ids, masks and labels.
public enum DType: String, Hashable, Sendable, CaseIterable {
    case float32 = "f32"
    case int32 = "i32"
    case int64 = "i64"

    public var byteSize: Int {
        switch self {
        case .float32, .int32: return 4
        case .int64: return 8
        }
    }
}

/// One dimension: a number, or a name (`batch`, `seq`) bound when a graph is planned and run.
public enum Dim: Hashable, Sendable, CustomStringConvertible {
    case fixed(Int)
    case symbol(String)

    public static let batch = Dim.symbol("batch")
    public static let seq = Dim.symbol("seq")
    /// The real tokens of a batch, packed without padding (`GraphOptions.packedTokens`).
    public static let tokens = Dim.symbol("tokens")

    public var description: String {
        switch self {
        case .fixed(let n): return String(n)
        case .symbol(let s): return s
        }
    }

    /// The size of a fixed dim; nil for a symbol.
    public var fixedSize: Int? {
        if case .fixed(let n) = self { return n }
        return nil
    }

    /// The number this dim stands for under `bindings`, or nil when a symbol is unbound.
    public func resolve(_ bindings: [String: Int]) -> Int? {
        switch self {
        case .fixed(let n): return n
        case .symbol(let s): return bindings[s]
        }
    }
}

/// A shape: dims from outermost to innermost. Rank 0 is a scalar.
public struct Shape: Hashable, Sendable, CustomStringConvertible, ExpressibleByArrayLiteral {
    public var dims: [Dim]

    public init(_ dims: [Dim]) { self.dims = dims }
    public init(_ sizes: [Int]) { self.dims = sizes.map(Dim.fixed) }
    public init(arrayLiteral elements: Dim...) { self.dims = elements }

    public var rank: Int { dims.count }
    public var last: Dim? { dims.last }
    public subscript(i: Int) -> Dim { dims[i] }

    public var description: String { "[" + dims.map(\.description).joined(separator: ", ") + "]" }

    /// Concrete sizes under `bindings`, or nil when a symbol is unbound.
    public func resolve(_ bindings: [String: Int]) -> [Int]? {
        var out: [Int] = []
        out.reserveCapacity(dims.count)
        for d in dims {
            guard let n = d.resolve(bindings) else { return nil }
            out.append(n)
        }
        return out
    }

    /// True when `suffix` equals the trailing dims of this shape.
    public func hasSuffix(_ suffix: Shape) -> Bool {
        suffix.rank <= rank && Array(dims[(rank - suffix.rank)...]) == suffix.dims
    }
}

/// The type of a value in the graph.
public struct TensorType: Hashable, Sendable, CustomStringConvertible {
    public var dtype: DType
    public var shape: Shape

    public init(_ dtype: DType, _ shape: Shape) {
        self.dtype = dtype
        self.shape = shape
    }

    public static func f32(_ dims: Dim...) -> TensorType { TensorType(.float32, Shape(dims)) }
    public static func i32(_ dims: Dim...) -> TensorType { TensorType(.int32, Shape(dims)) }

    public var description: String { "\(dtype.rawValue)\(shape)" }

    /// Element count under `bindings`.
    public func elementCount(_ bindings: [String: Int]) -> Int? {
        shape.resolve(bindings)?.reduce(1, *)
    }

    /// Byte size under `bindings`.
    public func byteCount(_ bindings: [String: Int]) -> Int? {
        elementCount(bindings).map { $0 * dtype.byteSize }
    }
}
