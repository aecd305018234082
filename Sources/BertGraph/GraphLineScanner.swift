// Tokens of one line of the graph text format, for `GraphParser`.

/// A token of the graph text format.
enum GraphToken: Equatable, CustomStringConvertible {
    /// A bare word: letters, digits and `_ . : / - +` (not starting with `:`; a trailing `:`
    /// is split off as punctuation, so `%x:1: f32[4]` reads as `x:1`, `:`, `f32[4]`).
    case word(String)
    /// A double-quoted name with `\"`, `\\`, `\n`, `\t` escapes.
    case quoted(String)
    /// `( [ {`
    case open(Character)
    /// `) ] }`
    case close(Character)
    /// `% : , =`
    case punct(Character)
    case end

    var description: String {
        switch self {
        case .word(let w): return "'\(w)'"
        case .quoted(let q): return "\"\(q)\""
        case .open(let c), .close(let c), .punct(let c): return "'\(c)'"
        case .end: return "end of line"
        }
    }
}

/// The tokens of one line and a cursor over them.
struct GraphLineScanner {
    let line: Int
    private var tokens: [GraphToken] = []
    private var position = 0

    /// Tokenizes `text`, the line numbered `line` (from 1); `#` outside quotes starts a comment.
    init(_ text: String, line: Int) throws {
        self.line = line
        let chars = Array(text.unicodeScalars)
        var i = 0
        while i < chars.count {
            let c = chars[i]
            switch c {
            case " ", "\t", "\r": i += 1
            case "#": i = chars.count
            case "(", "[", "{": tokens.append(.open(Character(c))); i += 1
            case ")", "]", "}": tokens.append(.close(Character(c))); i += 1
            case "%", ",", "=", ":": tokens.append(.punct(Character(c))); i += 1
            case "\"":
                var s = String.UnicodeScalarView()
                i += 1
                while true {
                    guard i < chars.count else { throw GraphError.parse(line: line, message: "expected '\"' closing a quoted name, found end of line") }
                    let d = chars[i]; i += 1
                    if d == "\"" { break }
                    if d == "\\" {
                        guard i < chars.count else { throw GraphError.parse(line: line, message: "expected an escaped character after '\\'") }
                        let e = chars[i]; i += 1
                        switch e {
                        case "n": s.append("\n")
                        case "t": s.append("\t")
                        case "\"", "\\": s.append(e)
                        default: throw GraphError.parse(line: line, message: "unknown escape '\\\(e)' in a quoted name")
                        }
                    } else {
                        s.append(d)
                    }
                }
                tokens.append(.quoted(String(s)))
            default:
                guard GraphPrinter.isWordScalar(c) else {
                    throw GraphError.parse(line: line, message: "unexpected character '\(c)'")
                }
                var j = i
                while j < chars.count, GraphPrinter.isWordScalar(chars[j]) { j += 1 }
                var end = j
                while end > i + 1, chars[end - 1] == ":" { end -= 1 }
                tokens.append(.word(String(String.UnicodeScalarView(chars[i..<end]))))
                i = end
            }
        }
    }

    var atEnd: Bool { position >= tokens.count }
    var peek: GraphToken { atEnd ? .end : tokens[position] }
    mutating func advance() { position += 1 }

    /// A parse error on this line.
    func error(_ message: String) -> GraphError { .parse(line: line, message: message) }

    /// Consumes `token` if it is next.
    mutating func skip(_ token: GraphToken) -> Bool {
        guard peek == token else { return false }
        advance()
        return true
    }

    mutating func expect(_ token: GraphToken) throws {
        guard skip(token) else { throw error("expected \(token), found \(peek)") }
    }

    mutating func expectWord(_ w: String) throws { try expect(.word(w)) }

    mutating func expectEnd() throws {
        guard atEnd else { throw error("expected end of line, found \(peek)") }
    }

    /// A bare word; `what` says what it should be in the error.
    mutating func word(_ what: String) throws -> String {
        guard case .word(let w) = peek else { throw error("expected \(what), found \(peek)") }
        advance()
        return w
    }

    /// A bare word or a quoted name.
    mutating func name(_ what: String) throws -> String {
        switch peek {
        case .word(let w), .quoted(let w): advance(); return w
        default: throw error("expected \(what), found \(peek)")
        }
    }

    /// `f32[d, ...]`
    mutating func tensorType() throws -> TensorType {
        let code = try word("a tensor type such as f32[batch, 384]")
        let dims = try bracketList("dims")
        do { return try TensorType(parsing: code + dims) } catch let e as GraphError { throw error(e.messageWithoutPrefix) }
    }

    /// An attribute value: a word, or a bracketed list of words returned as `[a, b, c]`.
    mutating func attributeValue() throws -> String {
        if peek == .open("[") { return try bracketList("list items") }
        return try word("an attribute value")
    }

    /// `[w, w, ...]` as the canonical text `[w, w]`.
    private mutating func bracketList(_ what: String) throws -> String {
        try expect(.open("["))
        var items: [String] = []
        if !skip(.close("]")) {
            repeat { items.append(try word(what)) } while skip(.punct(","))
            try expect(.close("]"))
        }
        return "[" + items.joined(separator: ", ") + "]"
    }
}
