// The library side of `bertc bench`: times compiled graphs on synthetic batches. A train
// step is forward + backward (one interpreter run of the training graph) plus one AdamW
// update; an inference step is one run of the inference graph. Warm-up steps are excluded
// from the timing. Inputs are seeded random ids with a full attention mask and random
// labels, so two runs with one seed do the same work.
import BertGraph
import BertModel
import BertPasses
import BertRuntime
import Dispatch
import Foundation

/// What to time.
public struct BenchmarkOptions: Sendable {
    public var mode: CompileMode
    public var batch: Int
    public var seq: Int
    /// Timed steps.
    public var steps: Int
    /// Untimed steps before the timed ones.
    public var warmup: Int
    /// Labels of the classification head.
    public var labels: Int
    public var seed: UInt64
    /// Time every kernel during the timed steps and report the time by op kind.
    public var profile: Bool
    /// Real tokens per example; the rest of `seq` is padding (mask 0).
    public var length: Int
    /// Packed tokens (`TrainingOptions.packTokens`): the dense layers see the real tokens,
    /// rounded up to a multiple of this; 0 runs every position.
    public var packTokens = 0
    /// Threads the kernels use; nil: every active processor.
    public var threads: Int?

    public init(mode: CompileMode, batch: Int, seq: Int, steps: Int, warmup: Int, labels: Int = 2, seed: UInt64 = 0,
                profile: Bool = false) {
        self.mode = mode
        self.batch = batch
        self.seq = seq
        self.steps = steps
        self.warmup = warmup
        self.labels = labels
        self.seed = seed
        self.profile = profile
        self.length = seq
    }

    /// The `tokens` dim with packed tokens, else nil.
    var packedRows: Int? {
        packTokens > 0 ? InputBatch.packedRowCount(lengths: Array(repeating: length, count: batch), sequenceLength: seq,
                                                   quantum: packTokens) : nil
    }
}

/// Time spent in one kind of op during a profiled benchmark.
public struct OpProfile: Codable, Sendable {
    /// The op's name in the IR (`linear`, `batch_matmul`, ...).
    public var op: String
    /// Nodes of this kind in the graph.
    public var nodes: Int
    /// Mean milliseconds per step spent in these nodes.
    public var millisPerStep: Double
    /// Share of all kernel time.
    public var fraction: Double
}

/// What a benchmark measured (`bertc bench --json` prints it).
public struct BenchmarkReport: Codable, Sendable {
    public var mode: CompileMode
    public var batch: Int
    public var seq: Int
    public var steps: Int
    public var warmup: Int
    public var threads: Int
    public var examplesPerSecond: Double
    public var millisPerStep: Double
    /// Fastest single step, in milliseconds.
    public var minMillisPerStep: Double
    /// Median step, in milliseconds: what onnxruntime_perf_test and ORT comparisons report,
    /// and less moved than the mean by a step the machine stalled.
    public var medianMillisPerStep: Double
    /// FLOPs of the compiled graph per step (GraphStatistics; the optimizer update not counted).
    public var flopsPerStep: Int
    /// `flopsPerStep` over the mean step time.
    public var gflops: Double
    /// Peak resident set of the process (getrusage ru_maxrss).
    public var peakRSSBytes: Int
    public var arenaBytes: Int
    public var compileMillis: Double
    /// Fused ops in the compiled graph, by op name.
    public var fusedOps: [String: Int]
    /// With `--profile`: kernel time by op kind, most expensive first. The optimizer update
    /// is not a graph node and is not included.
    public var profile: [OpProfile]?
    /// The kernel set OpenBLAS runs (`OpenBLASKernels.coreName`).
    public var blasKernels: String
    /// The CPU's vector-instruction flags (avx2, fma, avx512f, avx512_vnni, avx512_bf16, ...).
    public var cpuFlags: [String]
}

/// Times a model's training step or inference on synthetic batches.
public enum Benchmark {
    /// Runs the benchmark.
    /// - Parameters:
    ///   - config: the model.
    ///   - parameters: weights to use (e.g. loaded from a model directory); nil: random.
    ///   - progress: receives one human-readable line per phase.
    public static func run(_ config: BertConfig, options o: BenchmarkOptions, parameters: ParameterStore? = nil,
                           progress: (String) -> Void = { _ in }) throws -> BenchmarkReport {
        let head = TaskHead.classification(labels: o.labels)
        let (graph, plan, compiled) = try ModelCompiler.compile(config, head: head, mode: o.mode, batch: o.batch, seq: o.seq,
                                                                packedRows: o.packedRows)
        let weights = try parameters ?? randomParameters(graph, seed: o.seed)
        let interpreter = try Interpreter(graph: graph, plan: plan, threads: o.threads)
        let inputs = syntheticBatch(config, options: o)
        let flops = try GraphStatistics(graph).flops(bindings: plan.bindings)

        var step: () throws -> Void
        switch o.mode {
        case .infer, .eval:
            step = { _ = try interpreter.run(inputs: inputs, parameters: weights) }
        case .train:
            let gradients = try ParameterStore.matching(graph)
            let optimizer = try AdamW(config: OptimizationConfig(), parameters: weights,
                                      totalSteps: o.warmup + o.steps + 1)
            var t = 0
            step = {
                _ = try interpreter.run(inputs: inputs, parameters: weights, gradients: gradients, seed: o.seed, step: t)
                try optimizer.update(parameters: weights, gradients: gradients)
                t += 1
            }
        }
        progress("compiled \(o.mode.rawValue) graph in \(String(format: "%.0f", compiled.compileMillis)) ms; \(o.warmup) warm-up step(s)")
        for _ in 0..<o.warmup { try step() }
        progress("timing \(o.steps) step(s)")
        if o.profile { interpreter.startProfiling() }
        var times: [Double] = []
        for _ in 0..<o.steps {
            let start = DispatchTime.now().uptimeNanoseconds
            try step()
            times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        let mean = times.reduce(0, +) / Double(max(times.count, 1))
        return BenchmarkReport(
            mode: o.mode, batch: o.batch, seq: o.seq, steps: o.steps, warmup: o.warmup, threads: interpreter.threads,
            examplesPerSecond: mean > 0 ? Double(o.batch) / mean : 0, millisPerStep: mean * 1e3,
            minMillisPerStep: (times.min() ?? 0) * 1e3, medianMillisPerStep: median(times) * 1e3, flopsPerStep: flops,
            gflops: mean > 0 ? Double(flops) / mean / 1e9 : 0, peakRSSBytes: peakResidentBytes(),
            arenaBytes: plan.arenaBytes, compileMillis: compiled.compileMillis, fusedOps: compiled.fusedOps,
            profile: interpreter.profile.map { opProfile($0, graph: graph) }, blasKernels: OpenBLASKernels.coreName,
            cpuFlags: OpenBLASKernels.cpuFlags().filter { $0 == "fma" || $0.hasPrefix("avx") }.sorted())
    }

    /// Sums a per-node profile by op kind.
    static func opProfile(_ profile: Interpreter.Profile, graph: Graph) -> [OpProfile] {
        var nanoseconds: [String: UInt64] = [:], nodes: [String: Int] = [:]
        for (i, node) in graph.nodes.enumerated() {
            nanoseconds[node.op.name, default: 0] += profile.nanoseconds[i]
            nodes[node.op.name, default: 0] += 1
        }
        let total = Double(max(nanoseconds.values.reduce(0, +), 1))
        let runs = Double(max(profile.runs, 1))
        return nanoseconds.map { op, ns in
            OpProfile(op: op, nodes: nodes[op] ?? 0, millisPerStep: Double(ns) / runs / 1e6, fraction: Double(ns) / total)
        }.sorted { $0.millisPerStep > $1.millisPerStep }
    }

    /// A store for `graph`'s parameters with small seeded random values (LayerNorm gains 1,
    /// biases 0), the scale of BERT's initialiser: the work does not depend on the values.
    public static func randomParameters(_ graph: Graph, seed: UInt64) throws -> ParameterStore {
        let store = try ParameterStore.matching(graph)
        var state = seed &+ 0x9E37_79B9_7F4A_7C15
        store.withUnsafeMutableBufferPointer { buffer in
            for name in store.names {
                guard let slot = store.slot(name) else { continue }
                let isVector = (store.shape(name)?.count ?? 0) < 2
                for i in slot {
                    if isVector {
                        buffer[i] = name.hasSuffix("LayerNorm.weight") ? 1 : 0
                    } else {
                        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                        buffer[i] = (Float(state >> 40) / 16_777_216 - 0.5) * 0.07
                    }
                }
            }
        }
        return store
    }

    /// Seeded random token ids of `length` real tokens each (type ids 0), padded to `seq`, and
    /// labels for one batch; with packed tokens also the packed rows.
    public static func syntheticBatch(_ config: BertConfig, options o: BenchmarkOptions) -> [String: HostTensor] {
        var state = o.seed ^ 0xD1B5_4A32_D192_ED03
        func next(_ bound: Int) -> Int32 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int32((state >> 33) % UInt64(max(bound, 1)))
        }
        let examples = (0..<o.batch).map { _ in
            EncodedExample(tokenIDs: (0..<o.length).map { _ in next(config.vocabSize) },
                           typeIDs: [Int32](repeating: 0, count: o.length))
        }
        let labels = (0..<o.batch).map { _ in next(o.labels) }
        var inputs = InputBatch.make(examples, sequenceLength: o.seq, packedRows: o.packedRows)
        inputs["labels"] = HostTensor(shape: [o.batch], int32s: labels)
        return inputs
    }

    /// The median of `values` (the mean of the middle two for an even count; 0 when empty).
    static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        guard !sorted.isEmpty else { return 0 }
        let mid = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
    }

    /// Peak resident set size of this process in bytes (ru_maxrss is in kilobytes on Linux).
    public static func peakResidentBytes() -> Int {
        var usage = rusage()
        #if os(Linux)
        guard getrusage(RUSAGE_SELF.rawValue, &usage) == 0 else { return 0 }
        return Int(usage.ru_maxrss) * 1024
        #else
        guard getrusage(RUSAGE_SELF, &usage) == 0 else { return 0 }
        return Int(usage.ru_maxrss)
        #endif
    }
}
