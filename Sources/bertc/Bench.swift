import ArgumentParser
import BertModel
import BertRuntime
import BertTraining
import Foundation

/// `bertc bench`: times training steps or inference on synthetic batches.
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Time training steps (forward, backward, AdamW) or inference on synthetic batches.")

    @OptionGroup var workload: WorkloadOptions
    @Option(help: "train (forward + backward + AdamW update) or infer.") var mode: CompileMode = .train
    @Option(help: "Timed steps.") var steps: Int = 10
    @Option(help: "Untimed warm-up steps.") var warmup: Int = 2
    @Option(help: "Load weights from this model directory (default: random weights).") var model: String?
    @Option(help: "Seed of the synthetic batch and random weights.") var seed: UInt64 = 0
    @Option(help: "Real tokens per example (the rest of --seq is padding); default: --seq.") var length: Int?
    @Option(help: "Run the encoder's dense layers on the real tokens only, in multiples of N rows (training uses 64); 0: every position.")
    var packTokens: Int = 0
    @Option(help: "Threads the kernels use (default: every active processor).") var threads: Int?
    @Flag(help: "Time every kernel and report the time by op kind.") var profile = false
    @OptionGroup var output: ReportOptions

    func validate() throws {
        guard workload.batch > 0, workload.seq > 0, steps > 0, warmup >= 0 else {
            throw ValidationError("--batch, --seq and --steps must be positive, --warmup not negative")
        }
        if let length, !(1...workload.seq).contains(length) {
            throw ValidationError("--length must be between 1 and --seq \(workload.seq)")
        }
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
        guard packTokens >= 0 else { throw ValidationError("--pack-tokens must be 0 or more") }
    }

    func run() throws {
        let bertConfig = try workload.resolve(model, training: mode == .train)
        let (config, batch, seq) = (workload.config, workload.batch, workload.seq)
        var options = BenchmarkOptions(mode: mode, batch: batch, seq: seq, steps: steps, warmup: warmup, seed: seed,
                                       profile: profile)
        options.length = length ?? seq
        options.packTokens = packTokens
        options.threads = threads
        var weights: ParameterStore?
        if let model {
            weights = try ModelDirectory.open(model).load(head: .classification(labels: options.labels), mode: mode,
                                                          seed: seed).parameters
        }
        let report = try Benchmark.run(bertConfig, options: options, parameters: weights, progress: note)
        if output.json { try printJSON(report); return }
        print("\(config) \(mode.rawValue), batch \(batch), seq \(seq), \(report.threads) threads, \(steps) steps after \(warmup) warm-up:")
        print("  CPU flags: \(report.cpuFlags.joined(separator: " ")); OpenBLAS kernels: \(report.blasKernels)")
        print(String(format: "  %.2f examples/s, %.1f ms/step (median %.1f, best %.1f), %.1f GFLOP/s, peak RSS %.0f MB, arena %.0f MB",
                     report.examplesPerSecond, report.millisPerStep, report.medianMillisPerStep, report.minMillisPerStep, report.gflops,
                     Double(report.peakRSSBytes) / 1e6, Double(report.arenaBytes) / 1e6))
        if let ops = report.profile {
            print("  op                       nodes   ms/step  share")
            for op in ops {
                print("  " + op.op.padding(toLength: 24, withPad: " ", startingAt: 0) + String(format: " %5d %9.2f %5.1f%%", op.nodes, op.millisPerStep, op.fraction * 100))
            }
        }
    }
}
