// predictions.json, nbest_predictions.json and (v2.0) null_odds.json as run_squad.py writes
// them: Python's `json.dumps(..., indent=4)` plus a newline, keys in question order, non-ASCII
// characters as \uXXXX escapes (`ensure_ascii`), numbers as Python's `repr` of a float.
// Each file is written to a temporary name and renamed over the old one.

import Foundation

extension SQuADPostprocessor {
    /// Writes the predictions' files into `directory` (created when missing), each replaced
    /// atomically.
    /// - Throws: `SQuADPostprocessingError.unwritable` naming the file.
    public func write(_ predictions: [SQuADPrediction], to directory: URL) throws {
        var files: [(String, String)] = [
            ("predictions.json", Self.predictionsJSON(predictions)),
            ("nbest_predictions.json", Self.nbestJSON(predictions)),
        ]
        if options.versionTwoWithNegative { files.append(("null_odds.json", Self.nullOddsJSON(predictions))) }
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw SQuADPostprocessingError.unwritable(file: directory.path, reason: error.localizedDescription)
        }
        for (name, text) in files {
            let url = directory.appendingPathComponent(name)
            do {
                try Data(text.utf8).write(to: url, options: .atomic)
            } catch {
                throw SQuADPostprocessingError.unwritable(file: url.path, reason: error.localizedDescription)
            }
        }
    }

    // MARK: - The three files

    /// `{id: text}`.
    static func predictionsJSON(_ predictions: [SQuADPrediction]) -> String {
        object(predictions.map { ($0.id, pythonString($0.text)) }, indent: 0) + "\n"
    }

    /// `{id: [{text, probability, start_logit, end_logit}, ...]}`.
    static func nbestJSON(_ predictions: [SQuADPrediction]) -> String {
        object(predictions.map { prediction in
            (prediction.id, array(prediction.nbest.map { entry in
                object([("text", pythonString(entry.text)), ("probability", pythonFloat(entry.probability)),
                        ("start_logit", pythonFloat(entry.startLogit)), ("end_logit", pythonFloat(entry.endLogit))],
                       indent: 2)
            }, indent: 1))
        }, indent: 0) + "\n"
    }

    /// `{id: null score - best non-null score}`; questions without one (v1.1) are left out.
    static func nullOddsJSON(_ predictions: [SQuADPrediction]) -> String {
        object(predictions.compactMap { prediction in
            prediction.nullScoreDiff.map { (prediction.id, pythonFloat($0)) }
        }, indent: 0) + "\n"
    }

    // MARK: - Python's json.dumps(indent=4)

    /// An object whose opening brace is at nesting depth `indent`.
    private static func object(_ members: [(String, String)], indent: Int) -> String {
        guard !members.isEmpty else { return "{}" }
        let inner = String(repeating: " ", count: 4 * (indent + 1))
        let lines = members.map { inner + pythonString($0.0) + ": " + $0.1 }
        return "{\n" + lines.joined(separator: ",\n") + "\n" + String(repeating: " ", count: 4 * indent) + "}"
    }

    /// An array of already-written values whose opening bracket is at depth `indent`.
    private static func array(_ values: [String], indent: Int) -> String {
        guard !values.isEmpty else { return "[]" }
        let inner = String(repeating: " ", count: 4 * (indent + 1))
        return "[\n" + values.map { inner + $0 }.joined(separator: ",\n") + "\n"
            + String(repeating: " ", count: 4 * indent) + "]"
    }

    /// A JSON string with Python's `ensure_ascii` escapes.
    static func pythonString(_ text: String) -> String {
        var out = "\""
        for unit in text.utf16 {
            switch unit {
            case 0x22: out += "\\\""
            case 0x5C: out += "\\\\"
            case 0x0A: out += "\\n"
            case 0x0D: out += "\\r"
            case 0x09: out += "\\t"
            case 0x08: out += "\\b"
            case 0x0C: out += "\\f"
            case 0x20..<0x7F: out.unicodeScalars.append(Unicode.Scalar(UInt8(unit)))
            default:
                let digits = String(unit, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - digits.count) + digits
            }
        }
        return out + "\""
    }

    /// Python's `repr` of a finite float: the shortest digits that read back, positional for
    /// exponents -4 through 15 (with ".0" when whole), else `d.ddde±XX`.
    static func pythonFloat(_ value: Double) -> String {
        guard value.isFinite else { return value.isNaN ? "NaN" : (value < 0 ? "-Infinity" : "Infinity") }
        if value == 0 { return value.sign == .minus ? "-0.0" : "0.0" }
        // Swift's description has the same shortest digits; only the layout differs.
        let (negative, digits, exponent) = decimalDigits(of: value)
        var text: String
        if exponent < -4 || exponent >= 16 {
            text = String(digits.prefix(1))
            if digits.count > 1 { text += "." + digits.dropFirst() }
            text += "e" + (exponent < 0 ? "-" : "+") + (abs(exponent) < 10 ? "0" : "") + String(abs(exponent))
        } else if exponent < 0 {
            text = "0." + String(repeating: "0", count: -exponent - 1) + digits
        } else if digits.count > exponent + 1 {
            text = String(digits.prefix(exponent + 1)) + "." + digits.dropFirst(exponent + 1)
        } else {
            text = digits + String(repeating: "0", count: exponent + 1 - digits.count) + ".0"
        }
        return (negative ? "-" : "") + text
    }

    /// The shortest round-trip significant digits of a finite non-zero value and the decimal
    /// exponent of the first, read from Swift's description.
    private static func decimalDigits(of value: Double) -> (negative: Bool, digits: String, exponent: Int) {
        var text = Substring(value.description)
        let negative = text.hasPrefix("-")
        if negative { text = text.dropFirst() }
        var exponent = 0
        if let e = text.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            exponent = Int(text[text.index(after: e)...]) ?? 0
            text = text[..<e]
        }
        let point = text.firstIndex(of: ".")
        let integerPart = point.map { text[..<$0] } ?? text
        let fraction = point.map { text[text.index(after: $0)...] } ?? ""
        var digits = String(integerPart) + fraction
        exponent += integerPart.count - 1
        while digits.hasPrefix("0") && digits.count > 1 {
            digits.removeFirst()
            exponent -= 1
        }
        while digits.hasSuffix("0") && digits.count > 1 { digits.removeLast() }
        return (negative, digits, exponent)
    }
}
