import ArgumentParser
import BertModel
import BertRuntime

@main
struct Bertc: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bertc",
        abstract: "A BERT graph compiler: fine-tune, evaluate, export and verify BERT models on the CPU.",
        version: BertcVersion.string,
        subcommands: [Compile.self, Train.self, Eval.self, Predict.self, Export.self, Verify.self, Tokenize.self,
                      Inspect.self, Bench.self]
    )

    /// Runs the command, first making sure OpenBLAS runs kernels the CPU is made for
    /// (`OpenBLASKernels`: an OpenBLAS older than the CPU falls back to SSE3 kernels).
    static func main() {
        OpenBLASKernels.restartWithBetterKernelsIfNeeded()
        main(nil)
    }
}
