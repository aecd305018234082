// Reads the text format that `GraphPrinter` writes (see there for the grammar by example).
//
// Stages:
//   1. split the text into lines; each line is one statement, `#` starts a comment;
//   2. tokenize a line (`GraphLineScanner`): words, quoted names, punctuation;
//   3. parse the statement: `graph NAME {`, `input`/`param NAME: TYPE`, a node
//      `%out[: TYPE], ... = op[attrs](operands)`, `output NAME = VALUE`, `}`; values are
//      numbered in the order they are declared;
//   4. check each node against its shape rule as it is read (an output type may be left out
//      and is then inferred), so an error names the line, the node, the op and the shapes;
//   5. run `GraphVerifier` on the finished graph (in every build: a graph read from a file is
//      never trusted; kernels rely on what the verifier checks).
// Every error is `GraphError.parse(line:message:)` saying what was expected, except the
// final verifier's own errors.

/// Parses graphs from the bertc text format.
public enum GraphParser {
    /// The graph described by `text`.
    /// - Throws: `GraphError.parse(line:message:)` for a syntax, name or shape error.
    public static func parse(_ text: String) throws -> Graph {
        var state = ParseState()
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        for (k, raw) in lines.enumerated() {
            var scanner = try GraphLineScanner(String(raw), line: k + 1)
            guard !scanner.atEnd else { continue }
            try state.statement(&scanner)
        }
        guard state.started else { throw GraphError.parse(line: max(lines.count, 1), message: "expected 'graph NAME {', found end of text") }
        guard state.closed else { throw GraphError.parse(line: max(lines.count, 1), message: "expected '}' closing the graph, found end of text") }
        try GraphVerifier.verify(state.graph, after: "parse")
        return state.graph
    }
}

/// The graph being read and where each name was declared.
private struct ParseState {
    var graph = Graph(name: "")
    var started = false
    var closed = false
    var declared: [String: (value: ValueID, line: Int)] = [:]

    mutating func statement(_ s: inout GraphLineScanner) throws {
        guard started else {
            try s.expectWord("graph")
            let name = try s.name("a graph name")
            try s.expect(.open("{"))
            try s.expectEnd()
            graph.name = name
            started = true
            return
        }
        guard !closed else { throw s.error("expected nothing after the graph's closing '}', found \(s.peek)") }
        switch s.peek {
        case .close("}"):
            s.advance()
            try s.expectEnd()
            closed = true
        case .punct("%"):
            try node(&s)
        case .word("input"), .word("param"):
            let role: ValueRole = s.peek == .word("input") ? .input : .parameter
            s.advance()
            let name = try s.name(role == .input ? "an input name" : "a parameter name")
            try s.expect(.punct(":"))
            let type = try s.tensorType()
            try s.expectEnd()
            if role == .parameter, type.dtype != .float32 || type.shape.resolve([:]) == nil {
                throw s.error("parameter \(name) is \(type); parameters are f32 with fixed dims")
            }
            let v = try declare(name, type, role, s)
            if role == .input { graph.inputs.append(v) } else { graph.parameters.append(v) }
        case .word("output"):
            s.advance()
            let name = try s.name("an output name")
            try s.expect(.punct("="))
            let v = try reference(&s)
            try s.expectEnd()
            guard !graph.outputs.contains(where: { $0.name == name }) else { throw s.error("output \(name) is declared twice") }
            graph.addOutput(name, v)
        default:
            throw s.error("expected 'input', 'param', 'output', a node '%name = op(...)' or '}', found \(s.peek)")
        }
    }

    /// `%a[: type], %b[: type] = op[key=value, ...](operand, ...)`
    mutating func node(_ s: inout GraphLineScanner) throws {
        var outs: [(name: String, type: TensorType?)] = []
        repeat {
            try s.expect(.punct("%"))
            let name = try s.name("a value name after '%'")
            var type: TensorType?
            if s.peek == .punct(":") { s.advance(); type = try s.tensorType() }
            outs.append((name, type))
        } while s.skip(.punct(","))
        try s.expect(.punct("="))
        let opName = try s.word("an op name")
        var attributes: [(String, String)] = []
        if s.skip(.open("[")) {
            repeat {
                let key = try s.word("an attribute name")
                try s.expect(.punct("="))
                attributes.append((key, try s.attributeValue()))
            } while s.skip(.punct(","))
            try s.expect(.close("]"))
        }
        try s.expect(.open("("))
        var operands: [ValueID] = []
        if !s.skip(.close(")")) {
            repeat { operands.append(try reference(&s)) } while s.skip(.punct(","))
            try s.expect(.close(")"))
        }
        try s.expectEnd()

        let op: Op
        do { op = try Op(name: opName, attributes: attributes) } catch let e as GraphError {
            throw s.error(e.messageWithoutPrefix)
        }
        let nodeName = outs[0].name
        let ruleTypes: [TensorType]
        do { ruleTypes = try op.outputTypes(operands.map { graph.values[$0].type }, node: nodeName) } catch let e as GraphError {
            throw s.error(e.description)
        }
        guard ruleTypes.count == outs.count else {
            throw s.error("node \(nodeName) (\(opName)) declares \(outs.count) outputs, the op gives \(ruleTypes.count)")
        }
        var outputs: [ValueID] = []
        for (out, ruleType) in zip(outs, ruleTypes) {
            if let declaredType = out.type, declaredType != ruleType {
                throw s.error(GraphError.shapeMismatch(node: nodeName, op: opName,
                                                       detail: "\(out.name) is declared \(declaredType), the rule gives \(ruleType)").description)
            }
            outputs.append(try declare(out.name, ruleType, .intermediate, s))
        }
        graph.nodes.append(Node(op: op, inputs: operands, outputs: outputs))
    }

    /// `%name` (an intermediate) or `name` (an input or parameter) declared on an earlier line.
    mutating func reference(_ s: inout GraphLineScanner) throws -> ValueID {
        let sigil = s.skip(.punct("%"))
        let name = try s.name("a value name")
        guard let (v, _) = declared[name] else {
            throw s.error("value \(sigil ? "%" : "")\(name) is not declared on an earlier line")
        }
        let isIntermediate = graph.values[v].role == .intermediate
        guard sigil == isIntermediate else {
            throw s.error(isIntermediate ? "\(name) is a node output; write it %\(name)"
                                         : "\(name) is an input or parameter; write it without '%'")
        }
        return v
    }

    mutating func declare(_ name: String, _ type: TensorType, _ role: ValueRole, _ s: GraphLineScanner) throws -> ValueID {
        if let previous = declared[name] {
            throw s.error("value \(name) is already declared on line \(previous.line)")
        }
        if let problem = type.shape.sizeProblem { throw s.error("value \(name): \(problem)") }
        let v = graph.addValue(type, name: name, role: role)
        declared[name] = (v, s.line)
        return v
    }
}

extension GraphError {
    /// The message without the case's prefix, for re-wrapping as a parse error.
    var messageWithoutPrefix: String {
        if case .malformed(let m) = self { return m }
        return description
    }
}
