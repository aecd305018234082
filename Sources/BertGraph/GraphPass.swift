/// A transformation of a graph. Each pass lives in its own file with one entry point.
public protocol GraphPass {
    /// The pass's printed name, equal to its type name.
    var name: String { get }
    func run(_ graph: Graph) throws -> Graph
}

extension GraphPass {
    public var name: String { String(describing: Self.self) }
}

/// An ordered list of passes; the graph is verified after each one in debug builds.
public struct Pipeline {
    public var passes: [any GraphPass]

    public init(_ passes: [any GraphPass]) { self.passes = passes }

    public func run(_ graph: Graph) throws -> Graph {
        var g = graph
        for pass in passes {
            g = try pass.run(g)
            #if DEBUG
            try GraphVerifier.verify(g, after: pass.name)
            #endif
        }
        return g
    }
}
