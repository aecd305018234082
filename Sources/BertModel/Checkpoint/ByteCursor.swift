// A bounds-checked reader over bytes for the binary formats of TensorFlow checkpoints: LEB128
// varints, little-endian fixed-width integers and length-prefixed slices, as used by both
// LevelDB tables and the protocol buffer wire format. Every read checks the remaining length
// first, so malformed input becomes an error, never a read outside the buffer.

/// A malformed or short byte sequence; callers add the file and what they were decoding.
struct ByteCursorError: Error {
    var detail: String
}

/// Reads forward through `bytes`.
struct ByteCursor {
    let bytes: ArraySlice<UInt8>
    private(set) var position: Int

    init(_ bytes: ArraySlice<UInt8>) {
        self.bytes = bytes
        position = bytes.startIndex
    }

    init(_ bytes: [UInt8]) { self.init(bytes[...]) }

    var isAtEnd: Bool { position >= bytes.endIndex }
    var remaining: Int { bytes.endIndex - position }

    /// A base-128 varint of at most 10 bytes (64 bits).
    mutating func readVarint() throws -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard position < bytes.endIndex else { throw ByteCursorError(detail: "varint runs past the end") }
            let byte = bytes[position]
            position += 1
            guard shift < 64, !(shift == 63 && byte > 1) else { throw ByteCursorError(detail: "varint longer than 64 bits") }
            result |= UInt64(byte & 0x7f) << shift
            if byte & 0x80 == 0 { return result }
            shift += 7
        }
    }

    /// A varint that must fit a non-negative `Int` no larger than `limit`.
    mutating func readVarintInt(limit: Int = Int.max) throws -> Int {
        let value = try readVarint()
        guard value <= UInt64(limit) else { throw ByteCursorError(detail: "value \(value) is out of range") }
        return Int(value)
    }

    mutating func readFixed32() throws -> UInt32 {
        let raw = try readBytes(4)
        return raw.reversed().reduce(0) { $0 << 8 | UInt32($1) }
    }

    mutating func readFixed64() throws -> UInt64 {
        let raw = try readBytes(8)
        return raw.reversed().reduce(0) { $0 << 8 | UInt64($1) }
    }

    mutating func readBytes(_ count: Int) throws -> ArraySlice<UInt8> {
        guard count >= 0, count <= remaining else {
            throw ByteCursorError(detail: "needs \(count) bytes but only \(remaining) remain")
        }
        defer { position += count }
        return bytes[position..<(position + count)]
    }

    // MARK: - Protocol buffer wire format

    /// The next field's number and wire type, or nil at the end of the message.
    mutating func readFieldTag() throws -> (number: Int, wireType: Int)? {
        guard !isAtEnd else { return nil }
        let tag = try readVarint()
        guard tag >> 3 > 0, tag >> 3 <= UInt64(Int32.max) else { throw ByteCursorError(detail: "invalid field tag \(tag)") }
        return (Int(tag >> 3), Int(tag & 7))
    }

    /// Reads the message in `bytes` field by field: `read` gets each field's number and wire
    /// type with the cursor at its value and returns false for a field it does not read, which
    /// is then skipped (a decoder skips unknown fields, as protobuf requires).
    static func readMessage(_ bytes: ArraySlice<UInt8>,
                            _ read: (_ field: (number: Int, wireType: Int), _ cursor: inout ByteCursor) throws -> Bool) throws {
        var cursor = ByteCursor(bytes)
        while let field = try cursor.readFieldTag() {
            if try !read(field, &cursor) { try cursor.skipField(wireType: field.wireType) }
        }
    }

    /// A length-delimited field's payload (wire type 2).
    mutating func readLengthDelimited() throws -> ArraySlice<UInt8> {
        try readBytes(try readVarintInt(limit: remaining))
    }

    /// Skips a field of the given wire type that the decoder does not need.
    mutating func skipField(wireType: Int) throws {
        switch wireType {
        case 0: _ = try readVarint()
        case 1: _ = try readBytes(8)
        case 2: _ = try readLengthDelimited()
        case 5: _ = try readBytes(4)
        default: throw ByteCursorError(detail: "unsupported wire type \(wireType)")
        }
    }
}
