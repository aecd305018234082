// Reading dims, shapes and tensor types back from the text their `description`s print
// (`384`, `batch`, `[batch, seq, 384]`, `f32[batch, seq]`). The graph parser and
// `Op.init(name:attributes:)` share these.

extension Dim {
    /// A dim from its printed form: a non-negative integer, or a symbol such as `batch`.
    /// - Throws: `GraphError.malformed` when `text` is neither.
    public init(parsing text: String) throws {
        if let n = Int(text) {
            guard n >= 0 else { throw GraphError.malformed("dim \(text) is negative") }
            self = .fixed(n)
            return
        }
        guard Dim.isSymbolName(text) else {
            throw GraphError.malformed("expected a dim (a number or a name such as batch), found '\(text)'")
        }
        self = .symbol(text)
    }

    /// True for names a symbolic dim may have: a letter or `_`, then letters, digits and `_`.
    static func isSymbolName(_ text: String) -> Bool {
        guard let first = text.unicodeScalars.first, first == "_" || first.properties.isAlphabetic else { return false }
        return text.unicodeScalars.allSatisfy { $0 == "_" || $0.properties.isAlphabetic || ("0"..."9").contains($0) }
    }
}

extension Shape {
    /// A shape from its printed form `[d0, d1, ...]` (`[]` is a scalar).
    public init(parsing text: String) throws {
        self.init(try Shape.listItems(text).map { try Dim(parsing: $0) })
    }

    /// The comma-separated items of a bracketed list `[a, b, c]`, trimmed.
    static func listItems(_ text: String) throws -> [String] {
        let t = text.trimmingSpaces
        guard t.hasPrefix("["), t.hasSuffix("]"), t.count >= 2 else {
            throw GraphError.malformed("expected a bracketed list such as [batch, 384], found '\(text)'")
        }
        let inner = String(t.dropFirst().dropLast()).trimmingSpaces
        if inner.isEmpty { return [] }
        let items = inner.split(separator: ",", omittingEmptySubsequences: false).map { String($0).trimmingSpaces }
        guard !items.contains(where: \.isEmpty) else { throw GraphError.malformed("empty item in list '\(text)'") }
        return items
    }
}

extension TensorType {
    /// A tensor type from its printed form, e.g. `f32[batch, seq, 384]` or `i32[]`.
    public init(parsing text: String) throws {
        let t = text.trimmingSpaces
        guard let open = t.firstIndex(of: "[") else {
            throw GraphError.malformed("expected a tensor type such as f32[batch, 384], found '\(text)'")
        }
        let code = String(t[..<open])
        guard let dtype = DType(rawValue: code) else {
            let known = DType.allCases.map(\.rawValue).joined(separator: ", ")
            throw GraphError.malformed("unknown element type '\(code)' (known: \(known))")
        }
        self.init(dtype, try Shape(parsing: String(t[open...])))
    }
}

extension String {
    /// The string without leading and trailing spaces and tabs.
    var trimmingSpaces: String {
        let scalars = unicodeScalars
        guard let start = scalars.firstIndex(where: { $0 != " " && $0 != "\t" }) else { return "" }
        let end = scalars.lastIndex(where: { $0 != " " && $0 != "\t" })!
        return String(scalars[start...end])
    }
}
