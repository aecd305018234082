// The canonical text of a SQuAD feature and its sha256, as golden/squad/README.md defines them
// (Python's `json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)` of the
// feature's fields): keys byte-sorted, no whitespace, strings as raw UTF-8 with `"`, `\` and
// control characters escaped, the maps as sorted `[position, value]` pairs, positions `null`
// in evaluation. Two conversions agree exactly when their digests do.

extension SQuADFeature {
    /// The canonical JSON bytes; `withImpossible` adds `is_impossible` (v2.0 goldens).
    public func canonicalJSON(withImpossible: Bool = false) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(8 * inputIDs.count + 12 * tokens.count + 16 * tokenToOrigMap.count)
        func append(_ text: String) { out += text.utf8 }
        func appendIntegers(_ values: [Int32]) {
            out.append(UInt8(ascii: "["))
            for (index, value) in values.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                Self.appendDecimal(Int(value), to: &out)
            }
            out.append(UInt8(ascii: "]"))
        }
        func appendPairs(_ count: Int, _ value: (Int, inout [UInt8]) -> Void) {
            out.append(UInt8(ascii: "["))
            for index in 0..<count {
                out += index > 0 ? [UInt8(ascii: ","), UInt8(ascii: "[")] : [UInt8(ascii: "[")]
                Self.appendDecimal(contextPositions.lowerBound + index, to: &out)
                out.append(UInt8(ascii: ","))
                value(index, &out)
                out.append(UInt8(ascii: "]"))
            }
            out.append(UInt8(ascii: "]"))
        }
        append("{\"doc_span_index\":\(docSpanIndex),\"end_position\":\(endPosition.map(String.init) ?? "null")")
        append(",\"input_ids\":")
        appendIntegers(inputIDs)
        append(",\"input_mask\":")
        appendIntegers(inputMask)
        if withImpossible { append(",\"is_impossible\":\(isImpossible)") }
        append(",\"segment_ids\":")
        appendIntegers(segmentIDs)
        append(",\"start_position\":\(startPosition.map(String.init) ?? "null")")
        append(",\"token_is_max_context\":")
        appendPairs(tokenIsMaxContext.count) { $1 += (tokenIsMaxContext[$0] ? "true" : "false").utf8 }
        append(",\"token_to_orig_map\":")
        appendPairs(tokenToOrigMap.count) { Self.appendDecimal(tokenToOrigMap[$0], to: &$1) }
        append(",\"tokens\":[")
        for (index, token) in tokens.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            Self.appendJSONString(token, to: &out)
        }
        append("]}")
        return out
    }

    /// The lowercase hex sha256 of `canonicalJSON(withImpossible:)`.
    public func digest(withImpossible: Bool = false) -> String {
        var digest = SHA256Digest()
        canonicalJSON(withImpossible: withImpossible).withUnsafeBytes { digest.update($0) }
        return digest.finalizeHex()
    }

    /// `value` in decimal (without a String per number: a feature holds over a thousand).
    static func appendDecimal(_ value: Int, to out: inout [UInt8]) {
        if value < 0 || value >= 10 {
            if value < 0 {
                out += String(value).utf8
                return
            }
            appendDecimal(value / 10, to: &out)
        }
        out.append(UInt8(ascii: "0") + UInt8(value % 10))
    }

    /// A JSON string as Python's `json.dumps(..., ensure_ascii=False)` writes it.
    static func appendJSONString(_ text: String, to out: inout [UInt8]) {
        let hex = Array("0123456789abcdef".utf8)
        out.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out += [UInt8(ascii: "\\"), UInt8(ascii: "\"")]
            case UInt8(ascii: "\\"): out += [UInt8(ascii: "\\"), UInt8(ascii: "\\")]
            case 0x0A: out += [UInt8(ascii: "\\"), UInt8(ascii: "n")]
            case 0x0D: out += [UInt8(ascii: "\\"), UInt8(ascii: "r")]
            case 0x09: out += [UInt8(ascii: "\\"), UInt8(ascii: "t")]
            case 0x08: out += [UInt8(ascii: "\\"), UInt8(ascii: "b")]
            case 0x0C: out += [UInt8(ascii: "\\"), UInt8(ascii: "f")]
            case 0..<0x20: out += Array("\\u00".utf8) + [hex[Int(byte >> 4)], hex[Int(byte & 15)]]
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}
