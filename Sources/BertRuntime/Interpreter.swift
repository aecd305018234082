// The interpreter: runs a graph by following a memory plan. `init` does all shape work once
// (concrete shapes from the plan's bindings, one prepared kernel per node, the arena and the
// address of every value); `run` copies inputs in, runs the kernels in order and copies
// outputs out.
import BertGraph
import BertPasses
import Dispatch
import Foundation

/// Runs one graph at the dim bindings of one memory plan.
///
/// All non-parameter values live in one 64-byte aligned arena at the plan's offsets: the
/// interpreter's own, allocated once, or an `Arena` shared with interpreters that never run
/// at the same time. Parameters are read in place from the `ParameterStore` given to `run`. A run allocates
/// only the tensors it returns. Results do not depend on `threads`. One interpreter runs one
/// call at a time (the arena is shared state); use one interpreter per concurrent caller.
public final class Interpreter {
    public let graph: Graph
    public let plan: MemoryPlan
    /// Threads the kernels split work across (BLAS gets the same count).
    public let threads: Int

    private let shapes: [[Int]]
    /// Graph outputs with, for `grad:<p>` outputs, the parameter name p.
    private let outputs: [(name: String, value: ValueID, gradientOf: String?)]
    /// For each of `outputs`, the element offset of its slot in `checkedGradients` (or -1).
    private var gradientSlots: [Int]
    private let kernels: [Kernel]
    private let arena: Arena
    /// The arena generation the arena slots of `addresses` were computed for.
    private var arenaGeneration = -1
    /// Address of every value: arena slots follow the arena, parameter slots the bound store.
    private let addresses: UnsafeMutablePointer<UnsafeMutableRawPointer>
    /// The parameter store whose slots `addresses` points at.
    private weak var boundParameters: ParameterStore?
    /// The gradient store whose slots were last checked against the `grad:` outputs.
    private weak var checkedGradients: ParameterStore?

    /// Prepares `graph` for the bindings of `plan`.
    /// - Parameters:
    ///   - threads: how many threads kernels use; defaults to the active processor count.
    ///   - minimumParallelWork: kernels touching fewer elements run on one thread.
    ///   - arena: memory shared with other interpreters that never run at the same time as
    ///     this one; it grows to this plan's size when needed. Default: an arena of its own.
    public init(graph: Graph, plan: MemoryPlan, threads: Int? = nil, minimumParallelWork: Int = 32_768,
                arena: Arena? = nil) throws {
        self.graph = graph
        self.plan = plan
        self.threads = max(1, threads ?? ProcessInfo.processInfo.activeProcessorCount)
        shapes = try graph.values.map { value in
            guard let shape = value.type.shape.resolve(plan.bindings) else {
                throw RuntimeError.unboundDim(value: value.name, shape: value.type.shape.description)
            }
            return shape
        }
        try Interpreter.check(plan, graph: graph, shapes: shapes)
        try Interpreter.checkIndices(graph, shapes: shapes)
        outputs = graph.outputs.map { output in
            (output.name, output.value, GraphNames.parameter(ofGradient: output.name))
        }
        gradientSlots = [Int](repeating: -1, count: graph.outputs.count)

        self.arena = arena ?? Arena(bytes: plan.arenaBytes)
        addresses = .allocate(capacity: max(graph.values.count, 1))
        // Parameter slots point here until a store is bound; `run` binds one before any kernel.
        addresses.initialize(repeating: self.arena.base, count: max(graph.values.count, 1))

        let parallel = Parallel(threads: self.threads, minimumWork: minimumParallelWork)
        let shapes = self.shapes
        let isParameter = Set(graph.parameters)
        let packsWeights = Gemm.isAvailable && !outputs.contains { $0.gradientOf != nil }
        kernels = graph.nodes.enumerated().map { i, node in
            let site = KernelSite(node: graph.nodeName(i), op: node.op, inputs: node.inputs, outputs: node.outputs,
                                  inputShapes: node.inputs.map { shapes[$0] }, outputShapes: node.outputs.map { shapes[$0] },
                                  inputTypes: node.inputs.map { graph.values[$0].type.dtype },
                                  outputTypes: node.outputs.map { graph.values[$0].type.dtype },
                                  parallel: parallel, inputIsParameter: node.inputs.map { isParameter.contains($0) },
                                  packsWeights: packsWeights)
            return node.op.kernel(at: site)
        }
        bindArena()
    }

    deinit {
        addresses.deallocate()
    }

    /// Points the arena slots of `addresses` at the arena, after growing it to this plan's
    /// size if needed; nothing to do while the arena has not moved.
    private func bindArena() {
        arena.reserve(plan.arenaBytes)
        guard arena.generation != arenaGeneration else { return }
        for (v, offset) in plan.offsets.enumerated() {
            if let offset { addresses[v] = arena.base + offset }
        }
        arenaGeneration = arena.generation
    }

    /// The concrete shape of value `v` under the plan's bindings.
    public func shape(of v: ValueID) -> [Int] { shapes[v] }

    /// Runs the graph once.
    /// - Parameters:
    ///   - inputs: one tensor per graph input, by name, with the graph's shape under the plan's
    ///     bindings; integer inputs may be int32 or int64. Extra entries are ignored.
    ///   - parameters: the store the graph's parameters are read from, in place.
    ///   - gradients: when given, outputs named `grad:<p>` are written into p's slot here and
    ///     not returned.
    ///   - seed, step: key the dropout masks (with each node's stream).
    /// - Returns: the graph's outputs by name.
    public func run(inputs: [String: HostTensor], parameters: ParameterStore,
                    gradients: ParameterStore? = nil, seed: UInt64 = 0, step: Int = 0) throws -> [String: HostTensor] {
        bindArena()
        try bind(parameters)
        if let gradients, gradients !== checkedGradients { try check(gradients) }
        for v in graph.inputs { try copyIn(v, inputs) }

        try runKernels(seed: seed, step: step, parameters: parameters)

        var results: [String: HostTensor] = [:]
        for (k, output) in outputs.enumerated() {
            if let gradients, output.gradientOf != nil {
                let count = shapes[output.value].reduce(1, *)
                gradients.withUnsafeMutableBufferPointer { buffer in
                    (buffer.baseAddress! + gradientSlots[k])
                        .update(from: addresses[output.value].assumingMemoryBound(to: Float.self), count: count)
                }
            } else {
                results[output.name] = copyOut(output.value)
            }
        }
        return results
    }

    /// Runs every node's kernel on the arena as it stands (inputs already copied in).
    func runKernels(seed: UInt64, step: Int, parameters: ParameterStore) throws {
        BLAS.setThreads(threads)
        let frame = KernelFrame(addresses: addresses, seed: seed, step: step, parameters: parameters)
        if profile != nil {
            for (i, kernel) in kernels.enumerated() {
                let start = DispatchTime.now().uptimeNanoseconds
                try kernel.body(frame)
                profile!.nanoseconds[i] += DispatchTime.now().uptimeNanoseconds - start
            }
            profile!.runs += 1
        } else {
            for kernel in kernels { try kernel.body(frame) }
        }
    }

    // MARK: - Profiling

    /// Wall time spent in each node's kernel over the runs since profiling was switched on.
    public struct Profile: Sendable {
        /// Nanoseconds per node, indexed like `graph.nodes`.
        public var nanoseconds: [UInt64]
        /// Runs timed.
        public var runs: Int
    }

    /// When non-nil, every run adds each kernel's wall time here. Timing costs two clock
    /// reads per node; it does not change results.
    public var profile: Profile?

    /// Starts (or restarts) profiling: clears the per-node times.
    public func startProfiling() {
        profile = Profile(nanoseconds: [UInt64](repeating: 0, count: kernels.count), runs: 0)
    }

    // MARK: - Binding stores

    /// Points the parameter addresses at `store`'s slots after checking every shape.
    private func bind(_ store: ParameterStore) throws {
        guard store !== boundParameters else { return }
        for v in graph.parameters {
            let name = graph.values[v].name
            guard let shape = store.shape(name), let base = store.baseAddress(name) else {
                throw RuntimeError.missingParameter(name: name)
            }
            guard shape == shapes[v] else { throw RuntimeError.parameterShapeMismatch(name: name, expected: shapes[v], got: shape) }
            addresses[v] = UnsafeMutableRawPointer(base)
        }
        boundParameters = store
    }

    /// Checks that `store` has a slot of the right shape for every `grad:` output and notes
    /// where each slot starts.
    private func check(_ store: ParameterStore) throws {
        for (k, output) in outputs.enumerated() {
            guard let name = output.gradientOf else { continue }
            guard let shape = store.shape(name), let slot = store.slot(name) else {
                throw RuntimeError.missingParameter(name: name)
            }
            guard shape == shapes[output.value] else {
                throw RuntimeError.parameterShapeMismatch(name: name, expected: shapes[output.value], got: shape)
            }
            gradientSlots[k] = slot.lowerBound
        }
        checkedGradients = store
    }

    // MARK: - Copying inputs and outputs

    /// Copies the caller's tensor for input `v` into its arena slot, converting integer widths.
    private func copyIn(_ v: ValueID, _ inputs: [String: HostTensor]) throws {
        let value = graph.values[v]
        guard let tensor = inputs[value.name] else { throw RuntimeError.missingInput(name: value.name) }
        guard tensor.shape == shapes[v] else {
            throw RuntimeError.inputShapeMismatch(name: value.name, expected: shapes[v], got: tensor.shape)
        }
        let dst = addresses[v]
        switch (value.type.dtype, tensor.storage) {
        case (.float32, .float32(let xs)):
            xs.withUnsafeBufferPointer { dst.copyMemory(from: $0.baseAddress!, byteCount: $0.count * 4) }
        case (.int32, .int32(let xs)):
            xs.withUnsafeBufferPointer { dst.copyMemory(from: $0.baseAddress!, byteCount: $0.count * 4) }
        case (.int64, .int64(let xs)):
            xs.withUnsafeBufferPointer { dst.copyMemory(from: $0.baseAddress!, byteCount: $0.count * 8) }
        case (.int32, .int64(let xs)):
            // A 64-bit id that does not fit 32 bits must not wrap onto a valid row.
            if let bad = xs.first(where: { Int32(exactly: $0) == nil }) {
                throw RuntimeError.inputValueOutOfRange(name: value.name, value: bad)
            }
            let p = dst.assumingMemoryBound(to: Int32.self)
            for (i, x) in xs.enumerated() { p[i] = Int32(truncatingIfNeeded: x) }
        case (.int64, .int32(let xs)):
            let p = dst.assumingMemoryBound(to: Int64.self)
            for (i, x) in xs.enumerated() { p[i] = Int64(x) }
        case (.float32, _), (.int32, .float32), (.int64, .float32):
            throw RuntimeError.inputTypeMismatch(name: value.name, expected: value.type.dtype, got: tensor.dtype)
        }
    }

    /// A host tensor holding a copy of value `v`.
    private func copyOut(_ v: ValueID) -> HostTensor {
        let shape = shapes[v], count = shapes[v].reduce(1, *), src = addresses[v]
        switch graph.values[v].type.dtype {
        case .float32:
            return HostTensor(shape: shape, floats: Array(UnsafeBufferPointer(start: src.assumingMemoryBound(to: Float.self), count: count)))
        case .int32:
            return HostTensor(shape: shape, int32s: Array(UnsafeBufferPointer(start: src.assumingMemoryBound(to: Int32.self), count: count)))
        case .int64:
            return HostTensor(shape: shape, int64s: Array(UnsafeBufferPointer(start: src.assumingMemoryBound(to: Int64.self), count: count)))
        }
    }

    // MARK: - Checking the plan

    /// The shape rules check `select` indices against fixed dims; along a symbolic dim the
    /// size is only known here, and the kernels copy without bounds checks.
    private static func checkIndices(_ graph: Graph, shapes: [[Int]]) throws {
        for (i, node) in graph.nodes.enumerated() {
            let (index, bound): (Int, Int)
            if case .select(let axis, let k) = node.op {
                (index, bound) = (k, shapes[node.inputs[0]][axis])
            } else if case .selectGrad(let axis, let k, _) = node.op {
                (index, bound) = (k, shapes[node.outputs[0]][axis])
            } else {
                continue
            }
            guard index >= 0, index < bound else {
                throw RuntimeError.indexOutOfRange(node: graph.nodeName(i), op: node.op.name, index: index, bound: bound)
            }
        }
    }

    /// Checks that `plan` places every non-parameter value, aligned, inside the arena, with the
    /// size the graph gives it.
    private static func check(_ plan: MemoryPlan, graph: Graph, shapes: [[Int]]) throws {
        guard plan.offsets.count == graph.values.count, plan.sizes.count == graph.values.count else {
            throw RuntimeError.invalidPlan("plan covers \(plan.offsets.count) values, the graph has \(graph.values.count)")
        }
        for (v, value) in graph.values.enumerated() where value.role != .parameter {
            let bytes = shapes[v].reduce(1, *) * value.type.dtype.byteSize
            guard let offset = plan.offsets[v] else { throw RuntimeError.invalidPlan("value '\(value.name)' has no offset") }
            guard offset % MemoryPlan.alignment == 0 else {
                throw RuntimeError.invalidPlan("value '\(value.name)' is at offset \(offset), not a multiple of \(MemoryPlan.alignment)")
            }
            guard plan.sizes[v] == bytes else {
                throw RuntimeError.invalidPlan("value '\(value.name)' \(value.type) is \(bytes) bytes, the plan says \(plan.sizes[v])")
            }
            guard offset >= 0, offset + bytes <= plan.arenaBytes else {
                throw RuntimeError.invalidPlan("value '\(value.name)' at \(offset)..<\(offset + bytes) is outside the \(plan.arenaBytes)-byte arena")
            }
        }
    }
}
