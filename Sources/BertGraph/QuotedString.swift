/// Double-quoted string literals, as the IR text and the JSON that bertc writes by hand
/// (safetensors headers, `bertc tokenize --json`) spell them.
public enum QuotedString {
    /// `text` between double quotes with `"`, `\`, newline and tab escaped as `\"`, `\\`, `\n`,
    /// `\t`. With `json`, carriage return (`\r`) and the other control characters below
    /// U+0020 (`\u001b`) are escaped too, as JSON requires; the IR text keeps them as they are.
    public static func quote(_ text: String, json: Bool) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r" where json: out += "\\r"
            case _ where json && scalar.value < 0x20:
                let digits = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - digits.count) + digits
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
