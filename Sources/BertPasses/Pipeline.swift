import BertGraph
import Foundation

// The pass pipelines. A pipeline is a named, ordered list of passes that run one after the
// other; no pass calls another. Every graph a command runs or writes comes out of one of the
// named pipelines below, so reading this file tells what the compiler does to a model:
//
//   inference   InferShapes → FuseOps → EliminateDeadCode
//   evaluation  InferShapes → FuseOps → EliminateDeadCode
//   training    InferShapes → Differentiate → FuseOps → Rematerialize → EliminateDeadCode
//   export      InferShapes → EliminateDeadCode              (ONNX has no fused ops)
//   bundle      FuseOps → EliminateDeadCode                  (a graph read from a bundle)
//
// Memory planning (`PlanMemory`) runs after the pipeline, once per set of dim bindings.

/// A transformation of a graph. Each pass lives in its own file with one entry point.
public protocol GraphPass {
    /// The pass's printed name, equal to its type name.
    var name: String { get }
    func run(_ graph: Graph) throws -> Graph
}

extension GraphPass {
    public var name: String { String(describing: Self.self) }
}

/// A named, ordered list of passes. With `verify`, the graph is checked by `GraphVerifier`
/// after every pass, and an error names the pass that broke it.
public struct Pipeline {
    public let name: String
    public let passes: [any GraphPass]

    public init(_ name: String, _ passes: [any GraphPass]) {
        self.name = name
        self.passes = passes
    }

    /// Whether `run` verifies after each pass when not told: true when the environment sets
    /// `BERTC_VERIFY_PASSES=1`. The test suite runs with it (tools/test.sh exports it), in
    /// release builds too; the commands leave it off, since every pass keeps the graph valid.
    public static let verifiesEachPass = ProcessInfo.processInfo.environment["BERTC_VERIFY_PASSES"] == "1"

    /// Runs the passes in order.
    /// - Parameter verify: check the graph after every pass.
    public func run(_ graph: Graph, verify: Bool = Pipeline.verifiesEachPass) throws -> Graph {
        var g = graph
        for pass in passes {
            g = try pass.run(g)
            if verify { try GraphVerifier.verify(g, after: pass.name) }
        }
        return g
    }
}

// MARK: - The named pipelines

extension Pipeline {
    /// Logits only (the graph `predict`, bundles and `bench --mode infer` run): shapes, the
    /// runtime's fused kernels, and the values the fusions left unread dropped.
    public static var inference: Pipeline {
        Pipeline("inference", [InferShapes(), FuseOps(), EliminateDeadCode()])
    }

    /// Logits and loss, no dropout (`eval` and the dev set during `train`).
    public static var evaluation: Pipeline {
        Pipeline("evaluation", [InferShapes(), FuseOps(), EliminateDeadCode()])
    }

    /// The training step: the forward graph with dropout and loss, its backward
    /// (`grad:<parameter>` outputs), fusions (after the gradient rules, which see only unfused
    /// ops), and cheap activations recomputed for the backward instead of kept alive.
    public static var training: Pipeline {
        Pipeline("training", [InferShapes(), Differentiate(), FuseOps(), Rematerialize(), EliminateDeadCode()])
    }

    /// The unfused inference graph that ONNX export writes: fused ops have no ONNX form, and
    /// ONNX Runtime's own optimizer fuses the standard ops.
    public static var export: Pipeline {
        Pipeline("export", [InferShapes(), EliminateDeadCode()])
    }

    /// A graph read from a bundle (parsed, so its shapes are checked already): the runtime's
    /// fusions. Bundle loading verifies after each pass in every build, since the kernels
    /// trust what the verifier checks and the file may have been edited.
    public static var bundle: Pipeline {
        Pipeline("bundle", [FuseOps(), EliminateDeadCode()])
    }
}
