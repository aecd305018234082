// Reads a LevelDB-format sorted string table, the format of a TensorFlow checkpoint's
// `.index` file (tensorflow/core/lib/io/table, the same layout as LevelDB's table_format.md):
//
//   1. Footer: the last 48 bytes hold the metaindex and index block handles (varint offset,
//      varint size, zero padded to 40 bytes) and the magic number 0xdb4775248b80fb57.
//   2. Blocks: `size` bytes of contents followed by a 5-byte trailer, a compression type byte
//      (0 none, 1 snappy) and the masked CRC32C of contents + type byte.
//   3. Block contents: entries (varint shared key length, varint unshared length, varint
//      value length, unshared key bytes, value), then a uint32 array of restart offsets and
//      its uint32 count. Keys are prefix-compressed against the previous entry.
//   4. The index block maps a separator key per data block to that block's handle; reading
//      every data block in index order yields all entries in key order. The data blocks lie
//      one after another, so each must start after the previous one ends: a hostile index
//      cannot make the reader checksum and decode one block over and over.
//
// Keys are limited in length and in total, so that prefix compression (a key can repeat all
// of the previous key's bytes for one byte of input) cannot blow a small file up into
// gigabytes of keys.

/// The entries of a table, in key order.
struct LevelDBTable {
    static let magic: UInt64 = 0xdb47_7524_8b80_fb57
    static let footerLength = 48
    static let trailerLength = 5
    /// The longest key (a TensorFlow variable name; BERT's are under 100 bytes).
    static let maximumKeyLength = 4096
    /// The most key bytes of a whole table, after prefix expansion.
    static let maximumKeyBytes = 64 << 20

    var entries: [(key: [UInt8], value: ArraySlice<UInt8>)] = []

    /// Parses and checks a whole table; `path` only names the file in errors.
    init(_ bytes: [UInt8], path: String) throws {
        guard bytes.count >= Self.footerLength else {
            throw CheckpointError.truncated(
                file: path, detail: "\(bytes.count) bytes, shorter than the \(Self.footerLength)-byte table footer")
        }
        let footerStart = bytes.count - Self.footerLength
        var footer = ByteCursor(bytes[footerStart...])
        let magic = try Self.decoding("footer", path) { () throws -> UInt64 in
            var tail = ByteCursor(bytes[(bytes.count - 8)...])
            return try tail.readFixed64()
        }
        guard magic == Self.magic else {
            throw CheckpointError.malformedHeader(
                file: path, detail: "bad table magic 0x\(String(magic, radix: 16)): not a TensorFlow checkpoint index, "
                    + "or the file is truncated")
        }
        let indexHandle = try Self.decoding("footer", path) { () throws -> Range<Int> in
            _ = try Self.readHandle(&footer)  // metaindex: TensorFlow leaves it empty, bertc ignores it
            return try Self.readHandle(&footer)
        }
        let indexBlock = try Self.block(at: indexHandle, in: bytes, limit: footerStart, path: path, name: "index block")
        var keyBytes = 0
        var nextBlockStart = 0
        for (separator, handleBytes) in try Self.blockEntries(indexBlock, path: path, name: "index block", keyBytes: &keyBytes) {
            var cursor = ByteCursor(handleBytes)
            let handle = try Self.decoding("index entry \(printable(separator))", path) { try Self.readHandle(&cursor) }
            let name = "data block at offset \(handle.lowerBound)"
            guard handle.lowerBound >= nextBlockStart else {
                throw CheckpointError.malformedHeader(
                    file: path, detail: "\(name) overlaps the previous data block, which ends at \(nextBlockStart)")
            }
            nextBlockStart = handle.upperBound + Self.trailerLength
            let block = try Self.block(at: handle, in: bytes, limit: footerStart, path: path, name: name)
            for entry in try Self.blockEntries(block, path: path, name: name, keyBytes: &keyBytes) {
                if let previous = entries.last?.key, !previous.lexicographicallyPrecedes(entry.key) {
                    throw CheckpointError.malformedHeader(
                        file: path, detail: "keys out of order: \(printable(entry.key)) after \(printable(previous))")
                }
                entries.append(entry)
            }
        }
    }

    // MARK: - Blocks

    /// A block handle as a byte range: varint offset, varint size.
    private static func readHandle(_ cursor: inout ByteCursor) throws -> Range<Int> {
        let offset = try cursor.readVarintInt(limit: Int(Int32.max))
        let size = try cursor.readVarintInt(limit: Int(Int32.max))
        return offset..<(offset + size)
    }

    /// The contents of the block at `range`, after checking its trailer's type and checksum.
    private static func block(at range: Range<Int>, in bytes: [UInt8], limit: Int, path: String,
                              name: String) throws -> ArraySlice<UInt8> {
        guard range.upperBound + trailerLength <= limit else {
            throw CheckpointError.truncated(
                file: path, detail: "\(name) (\(range.count) bytes) runs past the end of the table")
        }
        let compression = bytes[range.upperBound]
        guard compression == 0 else {
            throw CheckpointError.unsupportedFeature(
                file: path, detail: "\(name) is compressed (type \(compression)); TensorFlow writes checkpoint "
                    + "indexes uncompressed and bertc reads only those")
        }
        var trailer = ByteCursor(bytes[(range.upperBound + 1)..<(range.upperBound + trailerLength)])
        let stored = try decoding(name, path) { try trailer.readFixed32() }
        let computed = CRC32C.mask(bytes[range.lowerBound...range.upperBound].withUnsafeBytes { CRC32C.checksum($0) })
        guard stored == computed else {
            throw CheckpointError.checksumMismatch(file: path, what: name, stored: stored, computed: computed)
        }
        return bytes[range]
    }

    /// Decodes the prefix-compressed entries of one block's contents.
    /// `keyBytes` counts the key bytes decoded so far in the table.
    private static func blockEntries(_ block: ArraySlice<UInt8>, path: String, name: String,
                                     keyBytes: inout Int) throws -> [(key: [UInt8], value: ArraySlice<UInt8>)] {
        try decoding(name, path) {
            guard block.count >= 4 else { throw ByteCursorError(detail: "shorter than its restart count") }
            var countCursor = ByteCursor(block[(block.endIndex - 4)...])
            let restartCount = Int(try countCursor.readFixed32())
            guard restartCount <= (block.count - 4) / 4 else {
                throw ByteCursorError(detail: "\(restartCount) restart points do not fit in \(block.count) bytes")
            }
            let entriesEnd = block.endIndex - 4 - 4 * restartCount
            var cursor = ByteCursor(block[block.startIndex..<entriesEnd])
            var restarts = ByteCursor(block[entriesEnd..<(block.endIndex - 4)])
            for _ in 0..<restartCount {
                let restart = Int(try restarts.readFixed32())
                guard restart <= entriesEnd - block.startIndex else {
                    throw ByteCursorError(detail: "restart point \(restart) lies past the entries")
                }
            }
            var entries: [(key: [UInt8], value: ArraySlice<UInt8>)] = []
            var key: [UInt8] = []
            while !cursor.isAtEnd {
                let shared = try cursor.readVarintInt(limit: key.count)
                let unshared = try cursor.readVarintInt(limit: cursor.remaining)
                let valueLength = try cursor.readVarintInt(limit: cursor.remaining)
                guard shared + unshared <= maximumKeyLength else {
                    throw ByteCursorError(detail: "a key of \(shared + unshared) bytes, more than \(maximumKeyLength)")
                }
                keyBytes += shared + unshared
                guard keyBytes <= maximumKeyBytes else {
                    throw ByteCursorError(detail: "the keys add up to more than \(maximumKeyBytes) bytes")
                }
                key = Array(key[0..<shared]) + (try cursor.readBytes(unshared))
                entries.append((key, try cursor.readBytes(valueLength)))
            }
            return entries
        }
    }

    /// Runs a decoding step, turning a `ByteCursorError` into a `CheckpointError` naming `what`.
    private static func decoding<T>(_ what: String, _ path: String, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as ByteCursorError {
            throw CheckpointError.malformedHeader(file: path, detail: "\(what): \(error.detail)")
        }
    }
}

/// A key for error messages: UTF-8 when it is, hex otherwise.
func printable(_ key: [UInt8]) -> String {
    if let text = String(validating: key, as: UTF8.self) { return "'\(text)'" }
    return "0x" + key.map { String($0, radix: 16) }.joined()
}
