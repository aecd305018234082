// The parser's side of the op table: builds an `Op` back from the name and attribute text
// that `Op.name` and `Op.attributes` print. `decode` switches over every op with no
// `default:`, so a new op case does not compile until it has a row here; add one instance
// of it to `prototypes` in the same change (the round-trip test covering every op fails
// otherwise).

extension Op {
    /// The op called `name` with `attributes` as `Op.attributes` prints them, in any order.
    /// - Throws: `GraphError.malformed` naming the op and the unknown, missing, repeated or
    ///   unreadable attribute.
    public init(name: String, attributes: [(String, String)]) throws {
        guard let prototype = Op.prototypes[name] else {
            throw GraphError.malformed("unknown op '\(name)' (known: \(Op.prototypes.keys.sorted().joined(separator: ", ")))")
        }
        var reader = try AttributeReader(op: name, attributes)
        self = try prototype.decode(&reader)
        try reader.checkAllRead()
    }

    /// One instance of every op, by name: the parser's table of op names.
    static let prototypes: [String: Op] = Dictionary(uniqueKeysWithValues: [
        Op.gather, .gatherGrad(rows: 0), .positions, .select(axis: 0, index: 0),
        .selectGrad(axis: 0, index: 0, size: .fixed(0)), .gatherRows, .scatterRows(leading: []), .add, .mul, .scale(0), .gelu(.erf),
        .geluGrad(.erf), .tanh, .tanhGrad, .dropout(rate: 0, stream: 0), .dropoutGrad(rate: 0, stream: 0),
        .matmul(transposeA: false, transposeB: false), .batchMatmul(transposeA: false, transposeB: false),
        .sumLeading(keepRank: 0), .layerNorm(epsilon: 0), .layerNormGrad(epsilon: 0), .maskedSoftmax,
        .softmaxGrad, .reshape([]), .transpose([]), .softmaxCrossEntropy, .softmaxCrossEntropyGrad,
        .meanSquaredError, .meanSquaredErrorGrad, .fill(value: 0, shape: []), .linear(activation: .identity),
        .addLayerNorm(epsilon: 0), .scaledMaskedSoftmax(factor: 0), .scaledSoftmaxGrad(factor: 0), .geluGradSum(.erf),
        .attention(heads: 1, factor: 0),
    ].map { ($0.name, $0) })

    /// Every op name the parser knows, sorted.
    public static var parsableNames: [String] { prototypes.keys.sorted() }

    /// The op of this op's case with its attributes read from `a`; one row per op.
    private func decode(_ a: inout AttributeReader) throws -> Op {
        switch self {
        case .gather: return .gather
        case .gatherGrad: return .gatherGrad(rows: try a.count("rows"))
        case .positions: return .positions
        case .select: return .select(axis: try a.int("axis"), index: try a.int("index"))
        case .selectGrad: return .selectGrad(axis: try a.int("axis"), index: try a.int("index"), size: try a.dim("size"))
        case .gatherRows: return .gatherRows
        case .scatterRows: return .scatterRows(leading: try a.shape("leading"))
        case .add: return .add
        case .mul: return .mul
        case .scale: return .scale(try a.float("factor"))
        case .gelu: return .gelu(try a.approximation("approximation"))
        case .geluGrad: return .geluGrad(try a.approximation("approximation"))
        case .tanh: return .tanh
        case .tanhGrad: return .tanhGrad
        case .dropout: return .dropout(rate: try a.float("rate"), stream: try a.int("stream"))
        case .dropoutGrad: return .dropoutGrad(rate: try a.float("rate"), stream: try a.int("stream"))
        case .matmul: return .matmul(transposeA: try a.bool("transpose_a"), transposeB: try a.bool("transpose_b"))
        case .batchMatmul: return .batchMatmul(transposeA: try a.bool("transpose_a"), transposeB: try a.bool("transpose_b"))
        case .sumLeading: return .sumLeading(keepRank: try a.int("keep_rank"))
        case .layerNorm: return .layerNorm(epsilon: try a.float("epsilon"))
        case .layerNormGrad: return .layerNormGrad(epsilon: try a.float("epsilon"))
        case .maskedSoftmax: return .maskedSoftmax
        case .softmaxGrad: return .softmaxGrad
        case .reshape: return .reshape(try a.shape("shape"))
        case .transpose: return .transpose(try a.ints("perm"))
        case .softmaxCrossEntropy: return .softmaxCrossEntropy
        case .softmaxCrossEntropyGrad: return .softmaxCrossEntropyGrad
        case .meanSquaredError: return .meanSquaredError
        case .meanSquaredErrorGrad: return .meanSquaredErrorGrad
        case .fill: return .fill(value: try a.float("value"), shape: try a.shape("shape"))
        case .linear: return .linear(activation: try a.activation("activation"))
        case .addLayerNorm: return .addLayerNorm(epsilon: try a.float("epsilon"))
        case .scaledMaskedSoftmax: return .scaledMaskedSoftmax(factor: try a.float("factor"))
        case .scaledSoftmaxGrad: return .scaledSoftmaxGrad(factor: try a.float("factor"))
        case .geluGradSum: return .geluGradSum(try a.approximation("approximation"))
        case .attention: return .attention(heads: try a.count("heads"), factor: try a.float("factor"))
        }
    }
}

/// Reads typed attribute values by key and remembers which keys were read, so that a
/// misspelt or extra attribute is an error rather than silently ignored.
private struct AttributeReader {
    let op: String
    var values: [String: String] = [:]
    var unread: Set<String> = []

    init(op: String, _ attributes: [(String, String)]) throws {
        self.op = op
        for (key, value) in attributes {
            guard values.updateValue(value, forKey: key) == nil else {
                throw GraphError.malformed("op \(op) has attribute '\(key)' twice")
            }
            unread.insert(key)
        }
    }

    mutating func text(_ key: String) throws -> String {
        guard let v = values[key] else { throw GraphError.malformed("op \(op) needs attribute '\(key)'") }
        unread.remove(key)
        return v
    }

    func bad(_ key: String, _ value: String, _ expected: String) -> GraphError {
        .malformed("op \(op) attribute \(key)=\(value): expected \(expected)")
    }

    mutating func int(_ key: String) throws -> Int {
        let v = try text(key)
        guard let n = Int(v) else { throw bad(key, v, "an integer") }
        return n
    }

    /// A non-negative integer (a size).
    mutating func count(_ key: String) throws -> Int {
        let v = try text(key)
        guard let n = Int(v), n >= 0 else { throw bad(key, v, "a non-negative integer") }
        return n
    }

    /// Floats are printed with Swift's shortest round-trip form, so this reads them back
    /// bit for bit (including `inf`, `-0.0` and exponents such as `1e-12`).
    mutating func float(_ key: String) throws -> Float {
        let v = try text(key)
        guard let f = Float(v) else { throw bad(key, v, "a number") }
        return f
    }

    mutating func bool(_ key: String) throws -> Bool {
        let v = try text(key)
        switch v {
        case "true": return true
        case "false": return false
        default: throw bad(key, v, "true or false")
        }
    }

    mutating func approximation(_ key: String) throws -> GeluApproximation {
        let v = try text(key)
        guard let a = GeluApproximation(rawValue: v) else { throw bad(key, v, "erf or tanh") }
        return a
    }

    mutating func activation(_ key: String) throws -> LinearActivation {
        let v = try text(key)
        guard let a = LinearActivation(text: v) else { throw bad(key, v, "identity, gelu_erf or gelu_tanh") }
        return a
    }

    mutating func dim(_ key: String) throws -> Dim {
        let v = try text(key)
        do { return try Dim(parsing: v) } catch { throw bad(key, v, "a dim (a number or a name)") }
    }

    mutating func shape(_ key: String) throws -> Shape {
        let v = try text(key)
        do { return try Shape(parsing: v) } catch { throw bad(key, v, "a shape such as [batch, seq, 384]") }
    }

    mutating func ints(_ key: String) throws -> [Int] {
        let v = try text(key)
        guard let items = try? Shape.listItems(v) else { throw bad(key, v, "a list such as [0, 2, 1, 3]") }
        return try items.map { item in
            guard let n = Int(item) else { throw bad(key, v, "a list of integers") }
            return n
        }
    }

    func checkAllRead() throws {
        guard unread.isEmpty else {
            throw GraphError.malformed("op \(op) has no attribute \(unread.sorted().map { "'\($0)'" }.joined(separator: ", "))")
        }
    }
}
