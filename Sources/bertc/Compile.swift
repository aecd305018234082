import ArgumentParser
import BertGraph
import BertModel
import BertPasses
import BertText
import BertTraining
import Foundation

/// `bertc compile`: builds a config's graph, runs the passes and reports.
struct Compile: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Build a model's graph, run the passes, plan memory and report ops, parameters, FLOPs and bytes.")

    @OptionGroup var workload: WorkloadOptions
    @Option(help: "Graph: infer, eval or train.") var mode: CompileMode = .infer
    @Option(help: "Number of labels of the classification head.") var labels: Int = 2
    @Option(help: "Task whose head to build: squad builds the span head (start and end logits per token); any other the classification head with --labels.")
    var task: String?
    @Option(help: "Write the graph as Graphviz DOT to this file (a new file unless --overwrite).") var dot: String?
    @Flag(help: "Let --dot replace an existing file.") var overwrite = false
    @Flag(help: "Print the graph in bertc's IR text format.") var printIR = false
    @Flag(help: "Print the memory plan: each arena value's offset, bytes and live steps.") var printPlan = false
    @OptionGroup var output: ReportOptions

    func validate() throws {
        guard workload.batch > 0, workload.seq > 0, labels > 0 else { throw ValidationError("--batch, --seq and --labels must be positive") }
    }

    func run() throws {
        // Compiling plans memory without allocating it: only sizes that do not fit an Int are refused.
        let bertConfig = try workload.resolve(training: mode == .train, memoryLimit: .max)
        let (config, batch, seq) = (workload.config, workload.batch, workload.seq)
        let head: TaskHead = task.map(TaskCatalog.isSQuAD) == true ? .span : .classification(labels: labels)
        let (graph, plan, report) = try ModelCompiler.compile(bertConfig, head: head, mode: mode, batch: batch, seq: seq)
        if let dot {
            if !overwrite, FileManager.default.fileExists(atPath: dot) {
                throw ValidationError("\(dot) already exists; pass --overwrite to replace it")
            }
            do { try GraphvizWriter(collapseParameters: true).write(graph).write(toFile: dot, atomically: true, encoding: .utf8) } catch {
                throw ValidationError("cannot write \(dot): \(FileAccess.reason(for: error))")
            }
        }
        if printIR { print(GraphPrinter.render(graph), terminator: "") }
        if printPlan { print(plan.report(graph: graph), terminator: "") }
        if output.json { try printJSON(report); return }
        guard !printIR, !printPlan else { return }
        print("\(config) (\(mode.rawValue), batch \(batch), seq \(seq)): \(report.nodes) nodes, \(report.parameters) parameters")
        print("head: \(report.head)")
        print(String(format: "%.3f GFLOP per example; arena %.1f MB (naive %.1f MB); parameters %.1f MB; optimizer state %.1f MB; compiled in %.1f ms",
                     Double(report.flopsPerExample) / 1e9, Double(report.arenaBytes) / 1e6, Double(report.naiveBytes) / 1e6,
                     Double(report.parameterBytes) / 1e6, Double(report.optimizerStateBytes) / 1e6, report.compileMillis))
        for (op, count) in report.opCounts.sorted(by: { $0.key < $1.key }) { print("  \(op): \(count)") }
    }
}

extension CompileMode: ExpressibleByArgument {}
