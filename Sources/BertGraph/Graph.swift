// The graph: SSA values, nodes in topological order, named inputs, parameters and outputs.

/// Index of a value in `Graph.values`.
public typealias ValueID = Int

/// Where a value comes from.
public enum ValueRole: String, Hashable, Sendable {
    /// Fed by the caller at every run (token ids, masks, labels).
    case input
    /// A weight, loaded from a checkpoint and updated by training.
    case parameter
    /// Produced by a node.
    case intermediate
}

/// A value: its type, a readable name (unique in the graph) and its role.
public struct Value: Hashable, Sendable {
    public var type: TensorType
    public var name: String
    public var role: ValueRole

    public init(type: TensorType, name: String, role: ValueRole) {
        self.type = type
        self.name = name
        self.role = role
    }
}

/// One operation applied to values, producing one or more values.
public struct Node: Hashable, Sendable {
    public var op: Op
    public var inputs: [ValueID]
    public var outputs: [ValueID]

    public init(op: Op, inputs: [ValueID], outputs: [ValueID]) {
        self.op = op
        self.inputs = inputs
        self.outputs = outputs
    }
}

/// A named graph output.
public struct GraphOutput: Hashable, Sendable {
    public var name: String
    public var value: ValueID

    public init(name: String, value: ValueID) {
        self.name = name
        self.value = value
    }
}

/// A static computation graph. Nodes are in topological order: every input of a node is a
/// graph input, a parameter, or an output of an earlier node.
public struct Graph: Hashable, Sendable {
    public var name: String
    public var values: [Value] = []
    public var nodes: [Node] = []
    public var inputs: [ValueID] = []
    public var parameters: [ValueID] = []
    public var outputs: [GraphOutput] = []

    public init(name: String) { self.name = name }

    public func type(of v: ValueID) -> TensorType { values[v].type }

    /// The value of the output called `name`, if any.
    public func output(named name: String) -> ValueID? {
        outputs.first { $0.name == name }?.value
    }

    /// The parameter or input called `name`, if any.
    public func value(named name: String) -> ValueID? {
        values.firstIndex { $0.name == name }
    }

    /// For each value, the index of the node that produces it (nil for inputs and parameters).
    public func producers() -> [Int?] {
        var p = [Int?](repeating: nil, count: values.count)
        for (i, n) in nodes.enumerated() { for o in n.outputs { p[o] = i } }
        return p
    }

    /// For each value, the indices of the nodes that read it, in order.
    public func consumers() -> [[Int]] {
        var c = [[Int]](repeating: [], count: values.count)
        for (i, n) in nodes.enumerated() { for v in n.inputs where c[v].last != i { c[v].append(i) } }
        return c
    }

    /// A readable name for node `i` in error messages: its first output's name.
    public func nodeName(_ i: Int) -> String {
        nodes[i].outputs.first.map { values[$0].name } ?? "#\(i)"
    }

    // MARK: - Building

    /// Adds a value and returns its id.
    @discardableResult
    public mutating func addValue(_ type: TensorType, name: String, role: ValueRole) -> ValueID {
        values.append(Value(type: type, name: name, role: role))
        return values.count - 1
    }

    /// Adds a graph input.
    public mutating func addInput(_ name: String, _ type: TensorType) -> ValueID {
        let v = addValue(type, name: name, role: .input)
        inputs.append(v)
        return v
    }

    /// Adds a parameter.
    public mutating func addParameter(_ name: String, _ type: TensorType) -> ValueID {
        let v = addValue(type, name: name, role: .parameter)
        parameters.append(v)
        return v
    }

    /// Appends a node applying `op` to `inputs`, with output types from the op's shape rule.
    /// Output values are named `name` (and `name:1`, `name:2` for further outputs).
    @discardableResult
    public mutating func apply(_ op: Op, _ inputs: [ValueID], name: String) throws -> [ValueID] {
        let types = try op.outputTypes(inputs.map { values[$0].type }, node: name)
        var outs: [ValueID] = []
        for (k, t) in types.enumerated() {
            outs.append(addValue(t, name: k == 0 ? name : "\(name):\(k)", role: .intermediate))
        }
        nodes.append(Node(op: op, inputs: inputs, outputs: outs))
        return outs
    }

    /// `apply` for single-output ops.
    public mutating func apply1(_ op: Op, _ inputs: [ValueID], name: String) throws -> ValueID {
        try apply(op, inputs, name: name)[0]
    }

    /// Marks `value` as the output called `name`.
    public mutating func addOutput(_ name: String, _ value: ValueID) {
        outputs.append(GraphOutput(name: name, value: value))
    }
}
