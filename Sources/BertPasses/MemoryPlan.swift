import BertGraph

/// Where every non-parameter value of a graph lives: a byte offset in one arena, for one set
/// of dim bindings. Parameters live outside the arena (in the runtime's parameter store).
/// The executor only follows a plan; planners (`PlanMemory`, `MemoryPlan.naive`) make them.
public struct MemoryPlan: Hashable, Sendable {
    /// The bindings of symbolic dims (`batch`, `seq`) this plan was made for.
    public var bindings: [String: Int]
    /// Byte offset in the arena of each input and intermediate value (nil for parameters).
    public var offsets: [Int?]
    /// Byte size of each value under `bindings` (0 for parameters).
    public var sizes: [Int]
    /// Arena size in bytes.
    public var arenaBytes: Int
    /// Sum of all planned values' sizes: the arena a planner that never reuses would need.
    public var naiveBytes: Int
    /// In-place pairs: output value -> the input whose slot it reuses (same offset and size).
    /// Only ops in `Op.Kind.inPlace` appear, always with their input 0; their kernels give
    /// correct results when the output is the same memory as input 0 (see that set for what
    /// this asks of a kernel).
    /// `MemoryPlan.naive` and plans made with `PlanMemory(inPlace: false)` have none.
    public var inPlace: [ValueID: ValueID] = [:]
    /// Views: output value -> the input it shows under another shape (`Op.Kind.views`, input 0),
    /// at the same offset and size. Values linked by views are one buffer: they may be live
    /// together. The runtime does nothing for a view whose operands share an address.
    public var views: [ValueID: ValueID] = [:]

    /// The value a chain of views starts from (`v` itself when it is not a view).
    public func viewRoot(_ v: ValueID) -> ValueID {
        var v = v
        while let x = views[v] { v = x }
        return v
    }

    /// Offsets are multiples of this, so SIMD loads and BLAS see aligned rows.
    public static let alignment = 64

    public init(bindings: [String: Int], offsets: [Int?], sizes: [Int], arenaBytes: Int, naiveBytes: Int) {
        self.bindings = bindings
        self.offsets = offsets
        self.sizes = sizes
        self.arenaBytes = arenaBytes
        self.naiveBytes = naiveBytes
    }

    /// Rounds `n` up to the plan alignment.
    public static func aligned(_ n: Int) -> Int { (n + alignment - 1) / alignment * alignment }

    /// Byte sizes of all values under `bindings` (0 for parameters); throws on an unbound dim.
    public static func valueSizes(_ g: Graph, bindings: [String: Int]) throws -> [Int] {
        try g.values.map { v in
            if v.role == .parameter { return 0 }
            guard let n = v.type.byteCount(bindings) else {
                throw GraphError.malformed("value \(v.name) has shape \(v.type.shape) with a dim not bound by \(bindings)")
            }
            return n
        }
    }

    /// The plan that gives every value its own slot: no reuse at all.
    public static func naive(_ g: Graph, bindings: [String: Int]) throws -> MemoryPlan {
        let sizes = try valueSizes(g, bindings: bindings)
        var offsets = [Int?](repeating: nil, count: g.values.count)
        var top = 0
        for (v, value) in g.values.enumerated() where value.role != .parameter {
            offsets[v] = top
            top += aligned(sizes[v])
        }
        return MemoryPlan(bindings: bindings, offsets: offsets, sizes: sizes, arenaBytes: top, naiveBytes: top)
    }
}
