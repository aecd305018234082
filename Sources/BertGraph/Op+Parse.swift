// The parser's side of the op table: builds an `Op` back from the name and attribute text
// that `Op.name` and `Op.attributes` print. The name gives the `Op.Kind`; `Op.decode` (beside
// `Op.attributes`, one row per op) reads that kind's attributes through `AttributeReader`.

extension Op {
    /// The op called `name` with `attributes` as `Op.attributes` prints them, in any order.
    /// - Throws: `GraphError.malformed` naming the op and the unknown, missing, repeated or
    ///   unreadable attribute.
    public init(name: String, attributes: [(String, String)]) throws {
        guard let kind = Kind(rawValue: name) else {
            throw GraphError.malformed("unknown op '\(name)' (known: \(Kind.allCases.map(\.rawValue).sorted().joined(separator: ", ")))")
        }
        var reader = try AttributeReader(op: name, attributes)
        self = try Op.decode(kind, &reader)
        try reader.checkAllRead()
    }
}

/// Reads typed attribute values by key and remembers which keys were read, so that a
/// misspelt or extra attribute is an error rather than silently ignored.
struct AttributeReader {
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

    /// The value of `key` converted by `read`, or an error saying that `expected` was.
    mutating func value<T>(_ key: String, _ expected: String, _ read: (String) -> T?) throws -> T {
        let v = try text(key)
        guard let x = read(v) else { throw bad(key, v, expected) }
        return x
    }

    mutating func int(_ key: String) throws -> Int { try value(key, "an integer") { Int($0) } }

    /// A non-negative integer (a size).
    mutating func count(_ key: String) throws -> Int {
        try value(key, "a non-negative integer") { Int($0).flatMap { $0 >= 0 ? $0 : nil } }
    }

    /// Floats are printed with Swift's shortest round-trip form, so this reads them back
    /// bit for bit (including `inf`, `-0.0` and exponents such as `1e-12`).
    mutating func float(_ key: String) throws -> Float { try value(key, "a number") { Float($0) } }

    mutating func bool(_ key: String) throws -> Bool {
        try value(key, "true or false") { ["true": true, "false": false][$0] }
    }

    mutating func approximation(_ key: String) throws -> GeluApproximation {
        try value(key, "erf or tanh") { GeluApproximation(rawValue: $0) }
    }

    mutating func activation(_ key: String) throws -> LinearActivation {
        try value(key, "identity, gelu_erf or gelu_tanh") { LinearActivation(text: $0) }
    }

    mutating func dim(_ key: String) throws -> Dim {
        try value(key, "a dim (a number or a name)") { try? Dim(parsing: $0) }
    }

    mutating func shape(_ key: String) throws -> Shape {
        try value(key, "a shape such as [batch, seq, 384]") { try? Shape(parsing: $0) }
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
