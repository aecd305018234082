import BertGraph

// Differentiate: reverse-mode automatic differentiation over the IR.
//
// Stages:
//   1. Find the loss: the output named `loss`, an f32[] scalar.
//   2. Mark the values that need a gradient: float values that depend on a parameter
//      (forward sweep) and that the loss depends on (backward sweep).
//   3. Seed: `fill(1, [])` is the gradient of the loss.
//   4. Walk the nodes in reverse topological order; for each node with a needed input and a
//      gradient for its output, call the op's rule (Op+Gradients.swift) and add each input's
//      gradient to that input's running sum. Sums are built eagerly with `add`, in the order
//      the contributions arrive (reverse node order, then input order), so the graph and its
//      floating-point results are deterministic.
//   5. Outputs: the forward outputs, then `grad:<name>` for every parameter in declaration
//      order. A parameter the loss does not depend on gets `fill(0, shape)`: a zero gradient
//      is the true derivative, and the optimizer can treat every parameter alike.
//   6. Prune backward nodes whose results nobody reads (rules emit gradients for every float
//      input, including ones nothing needs) and renumber the backward values.
//
// Backward values are named `grad/<forward node>/<role>` (e.g. `grad/layer0.q/dw`); running
// sums `grad/<value>/sum<k>`. Second-order gradients are not supported: a backward op on a
// path from a parameter to the loss is an error naming the node.

/// Errors of the `Differentiate` pass; each names the node or value involved.
public enum DifferentiationError: Error, CustomStringConvertible, Equatable {
    /// The graph has no output called `loss`.
    case missingLoss(outputs: [String])
    /// The loss is not an f32[] scalar.
    case lossNotScalar(TensorType)
    /// A backward op sits between a parameter and the loss.
    case secondOrder(node: String, op: String)
    /// The op's gradient cannot be built for this node (e.g. a gather table with symbolic rows).
    case unsupported(node: String, op: String, detail: String)
    /// A gradient rule produced a value whose type differs from its input's: a bug in the rule.
    case ruleTypeMismatch(node: String, op: String, input: Int, expected: TensorType, got: TensorType)

    public var description: String {
        switch self {
        case .missingLoss(let outputs):
            return "Differentiate: the graph has no output named `loss` (outputs: \(outputs.joined(separator: ", ")))"
        case .lossNotScalar(let t):
            return "Differentiate: the loss must be f32[], got \(t)"
        case .secondOrder(let node, let op):
            return "Differentiate: second-order gradient not supported for \(op) (node \(node) lies between a parameter and the loss)"
        case .unsupported(let node, let op, let detail):
            return "Differentiate: cannot differentiate node \(node) (\(op)): \(detail)"
        case .ruleTypeMismatch(let node, let op, let input, let expected, let got):
            return "Differentiate: the \(op) rule gave input \(input) of node \(node) a gradient of type \(got), expected \(expected)"
        }
    }
}

/// Appends backward nodes to the graph being built. The gradient rules emit through it so
/// that every backward value gets a readable, unique name.
struct GradientEmitter {
    private(set) var graph: Graph
    private var names: UniqueNames
    /// The forward node whose gradient is being emitted (names and errors).
    var scope = ""

    init(_ graph: Graph) {
        self.graph = graph
        names = UniqueNames(taken: graph.values.map(\.name))
    }

    func type(_ v: ValueID) -> TensorType { graph.type(of: v) }

    /// Appends `op(inputs)` named `grad/<scope>/<hint>` and returns all its outputs.
    mutating func emitAll(_ op: Op, _ inputs: [ValueID], _ hint: String) throws -> [ValueID] {
        try graph.apply(op, inputs, name: names.claim("grad/\(scope)/\(hint)"))
    }

    /// Appends a single-output `op(inputs)` and returns its output.
    mutating func emit(_ op: Op, _ inputs: [ValueID], _ hint: String) throws -> ValueID {
        try emitAll(op, inputs, hint)[0]
    }

    /// Appends a node with an exact name (seeds, sums, zero gradients).
    mutating func emitNamed(_ op: Op, _ inputs: [ValueID], _ name: String) throws -> ValueID {
        try graph.apply1(op, inputs, name: names.claim(name))
    }

    /// `g` (of the broadcast result's shape) summed over the leading dims that `operand` was
    /// broadcast along, so that it has `operand`'s shape.
    mutating func sumBroadcast(_ g: ValueID, to operand: ValueID, _ hint: String) throws -> ValueID {
        let rank = type(operand).shape.rank
        return rank == type(g).shape.rank ? g : try emit(.sumLeading(keepRank: rank), [g], hint)
    }

    /// The fixed size of `v`'s dim `axis`, or an error when it is symbolic.
    func fixedDim(_ v: ValueID, axis: Int) throws -> Int {
        let t = type(v)
        guard case .fixed(let n) = t.shape[axis] else {
            throw DifferentiationError.unsupported(node: scope, op: "gather",
                                                   detail: "table \(graph.values[v].name) \(t) needs a fixed row count")
        }
        return n
    }

    /// Marks `value` as the graph output `name`.
    mutating func addOutput(_ name: String, _ value: ValueID) { graph.addOutput(name, value) }

    func secondOrder(_ op: Op) -> DifferentiationError { .secondOrder(node: scope, op: op.name) }

    func unsupported(_ op: Op, _ detail: String) -> DifferentiationError {
        .unsupported(node: scope, op: op.name, detail: detail)
    }
}

/// Builds the training graph: forward nodes, a seed, backward nodes, and `grad:<parameter>`
/// outputs for every parameter.
public struct Differentiate: GraphPass {
    public init() {}

    // MARK: - Stage 2: which values need a gradient

    /// Float values that depend on a parameter and that the loss depends on.
    private func neededValues(_ g: Graph, loss: ValueID) -> [Bool] {
        var fromParameter = [Bool](repeating: false, count: g.values.count)
        for p in g.parameters { fromParameter[p] = true }
        for n in g.nodes where n.inputs.contains(where: { fromParameter[$0] }) {
            for o in n.outputs { fromParameter[o] = true }
        }
        var toLoss = [Bool](repeating: false, count: g.values.count)
        toLoss[loss] = true
        for n in g.nodes.reversed() where n.outputs.contains(where: { toLoss[$0] }) {
            for i in n.inputs { toLoss[i] = true }
        }
        return g.values.indices.map { fromParameter[$0] && toLoss[$0] && g.values[$0].type.dtype == .float32 }
    }

    // MARK: - Entry point

    public func run(_ graph: Graph) throws -> Graph {
        // Stage 1: the loss.
        guard let loss = graph.output(named: GraphNames.loss) else {
            throw DifferentiationError.missingLoss(outputs: graph.outputs.map(\.name))
        }
        guard graph.type(of: loss) == TensorType(.float32, Shape([Dim]())) else {
            throw DifferentiationError.lossNotScalar(graph.type(of: loss))
        }
        // Stage 2.
        let needed = neededValues(graph, loss: loss)
        let forwardNodes = graph.nodes.count
        let forwardValues = graph.values.count

        // Stage 3: the seed.
        var e = GradientEmitter(graph)
        var grad = [ValueID?](repeating: nil, count: forwardValues)
        var sums = [Int](repeating: 0, count: forwardValues)
        if needed[loss] {
            grad[loss] = try e.emitNamed(.fill(value: 1, shape: Shape([Dim]())), [], "grad/\(graph.values[loss].name)")
        }

        // Stage 4: the reverse walk.
        for i in graph.nodes.indices.reversed() {
            let node = graph.nodes[i]
            guard node.inputs.contains(where: { needed[$0] }), let dy = grad[node.outputs[0]] else { continue }
            e.scope = graph.nodeName(i)
            let gradients = try node.op.inputGradients(x: node.inputs, y: node.outputs[0], dy: dy, into: &e)
            for (k, (x, dx)) in zip(node.inputs, gradients).enumerated() where needed[x] {
                guard let dx else { continue }
                guard e.type(dx) == graph.type(of: x) else {
                    throw DifferentiationError.ruleTypeMismatch(node: e.scope, op: node.op.name, input: k,
                                                                expected: graph.type(of: x), got: e.type(dx))
                }
                if let previous = grad[x] {
                    sums[x] += 1
                    grad[x] = try e.emitNamed(.add, [previous, dx], "grad/\(graph.values[x].name)/sum\(sums[x])")
                } else {
                    grad[x] = dx
                }
            }
        }

        // Stage 5: outputs.
        for p in graph.parameters {
            let name = graph.values[p].name
            let dp = try grad[p] ?? e.emitNamed(.fill(value: 0, shape: graph.type(of: p).shape), [], "grad/\(name)/zero")
            e.addOutput(GraphNames.gradient(of: name), dp)
        }

        // Stage 6: the forward graph stays as it is; backward values keep their order.
        return e.graph.pruned(keepingNodes: { $0 < forwardNodes }, keepingValues: { $0 < forwardValues })
    }
}
