import ArgumentParser
import BertModel

@main
struct Bertc: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bertc",
        abstract: "A BERT graph compiler: fine-tune, evaluate, export and verify BERT models on the CPU.",
        version: BertcVersion.string,
        subcommands: [Compile.self, Train.self, Eval.self, Predict.self, Export.self, Verify.self, Tokenize.self,
                      Inspect.self, Bench.self]
    )
}
