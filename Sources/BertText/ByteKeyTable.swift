// An immutable open-addressing hash table from byte strings to token ids.
//
// WordPiece looks up every candidate sub-word of every word; keying a `Dictionary<String, Int>`
// would build a `String` per probe. This table hashes and compares UTF-8 bytes in place, so a
// lookup of a slice of a word buffer allocates nothing.

/// A hash table from UTF-8 byte strings to `Int32` values, built once and then read only.
struct ByteKeyTable: Sendable {
    /// All keys, back to back.
    private var keyBytes: [UInt8] = []
    /// Per entry: start of its key in `keyBytes`, key length, value.
    private var keyStarts: [Int32] = []
    private var keyLengths: [Int32] = []
    private var values: [Int32] = []
    /// Per slot: entry index, or -1 when empty. The slot count is a power of two.
    private var slots: [Int32]
    private var slotMask: Int
    /// The longest key, in bytes; no longer slice can match.
    private(set) var longestKeyLength = 0

    /// Makes an empty table with room for `capacity` keys at a load factor of at most 1/2.
    init(capacity: Int) {
        var slotCount = 16
        while slotCount < 2 * max(capacity, 1) { slotCount <<= 1 }
        slots = [Int32](repeating: -1, count: slotCount)
        slotMask = slotCount - 1
    }

    /// Inserts `key`, replacing the value of an equal key already present (a later line of a
    /// vocabulary file wins, as in Hugging Face `tokenizers`).
    mutating func insert<Key: Collection<UInt8>>(_ key: Key, value: Int32) {
        let bytes = Array(key)
        var slot = bytes.withUnsafeBufferPointer { Self.hash($0) } & slotMask
        while true {
            let entry = Int(slots[slot])
            if entry < 0 { break }
            if keyLengths[entry] == bytes.count,
               keyBytes[Int(keyStarts[entry])..<Int(keyStarts[entry]) + bytes.count].elementsEqual(bytes) {
                values[entry] = value
                return
            }
            slot = (slot + 1) & slotMask
        }
        precondition(values.count < slots.count / 2, "ByteKeyTable capacity exceeded")
        slots[slot] = Int32(values.count)
        keyStarts.append(Int32(keyBytes.count))
        keyLengths.append(Int32(bytes.count))
        values.append(value)
        keyBytes.append(contentsOf: bytes)
        longestKeyLength = max(longestKeyLength, bytes.count)
    }

    /// The value stored for the bytes `key`, or nil.
    @inline(__always)
    func value(for key: UnsafeBufferPointer<UInt8>) -> Int32? {
        let length = key.count
        if length > longestKeyLength { return nil }
        var slot = Self.hash(key) & slotMask
        return slots.withUnsafeBufferPointer { slots in
            keyBytes.withUnsafeBufferPointer { keyBytes in
                keyLengths.withUnsafeBufferPointer { keyLengths in
                    while true {
                        let entry = Int(slots[slot])
                        if entry < 0 { return nil }
                        if Int(keyLengths[entry]) == length {
                            let start = Int(keyStarts[entry])
                            if length == 0 || memoryEqual(keyBytes.baseAddress! + start, key.baseAddress!, length) {
                                return values[entry]
                            }
                        }
                        slot = (slot + 1) & slotMask
                    }
                }
            }
        }
    }

    /// FNV-1a over the bytes, folded to `Int`.
    @inline(__always)
    private static func hash(_ bytes: UnsafeBufferPointer<UInt8>) -> Int {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes {
            hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3
        }
        return Int(truncatingIfNeeded: hash ^ (hash >> 29))
    }
}

/// Byte-wise equality of two buffers of `count` bytes.
@inline(__always)
private func memoryEqual(_ a: UnsafePointer<UInt8>, _ b: UnsafePointer<UInt8>, _ count: Int) -> Bool {
    var index = 0
    while index < count {
        if a[index] != b[index] { return false }
        index += 1
    }
    return true
}
