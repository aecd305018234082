// Fuzz target: a TensorFlow checkpoint index (a LevelDB table of BundleEntryProtos) through
// TFCheckpointReader, with the data shard of golden/tf-checkpoint/tiny_bert in memory: the
// table, the header and entries, the listing `bertc inspect` prints, and a read of every
// tensor (size, bounds and CRC checks, then decoding).
//
// Every block of the table and every tensor carries a CRC32C, so almost every mutation would
// stop at the first checksum. The custom mutator repairs them after libFuzzer's mutation: the
// table magic, each block's masked CRC (LevelDB's block trailer), and each entry's `crc32c`
// field for the shard bytes it names, so mutations reach the parser. One mutation in 16 is
// left unrepaired so that the checksum checks themselves are fuzzed too.

import Foundation
import FuzzerInterface
@testable import BertModel

/// The tiny_bert checkpoint's data shard (29 KB), the shard every fuzzed index reads from.
let shard: Data = {
    let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../../golden/tf-checkpoint/tiny_bert.ckpt.data-00000-of-00001").standardized
    guard let data = try? Data(contentsOf: url) else { fatalError("cannot read the fuzz data shard \(url.path)") }
    return data
}()

let prefix = URL(fileURLWithPath: "/nonexistent/bertc-fuzz/model.ckpt")

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let bytes = start.map { Array(UnsafeBufferPointer(start: $0, count: count)) } ?? []
    guard let reader = try? TFCheckpointReader(prefix: prefix, index: bytes, shards: [0: shard]) else { return 0 }
    _ = try? CheckpointListing(reader: reader)
    for tensor in reader.tensors { _ = try? reader.read(tensor.name) }
    return 0
}

// MARK: - Checksum repair

@_cdecl("LLVMFuzzerCustomMutator")
public func fuzzCustomMutator(_ data: UnsafeMutablePointer<UInt8>?, _ size: Int, _ maxSize: Int,
                              _ seed: CUnsignedInt) -> Int {
    guard let data else { return 0 }
    let newSize = LLVMFuzzerMutate(data, size, maxSize)
    if seed % 16 != 0 { repairChecksums(UnsafeMutableBufferPointer(start: data, count: newSize)) }
    return newSize
}

/// Rewrites the magic, the block checksums and the tensor checksums of a table in place,
/// following its handles as far as they lead inside the buffer.
func repairChecksums(_ table: UnsafeMutableBufferPointer<UInt8>) {
    let footerLength = 48, trailerLength = 5
    let n = table.count
    guard n >= footerLength else { return }
    writeLittleEndian(LevelDBTable.magic, to: table, at: n - 8)
    let footerStart = n - footerLength
    func inTable(_ block: Range<Int>) -> Bool { block.upperBound + trailerLength <= footerStart }
    var position = footerStart
    guard let metaindex = readHandle(table, &position, end: n - 8),
          let index = readHandle(table, &position, end: n - 8) else { return }
    if inTable(index) {
        for handleBytes in blockValues(table, index) {
            var p = handleBytes.lowerBound
            guard let block = readHandle(table, &p, end: handleBytes.upperBound), inTable(block) else { continue }
            for entry in blockValues(table, block) { repairEntryChecksum(table, entry) }
            writeBlockChecksum(table, block)
        }
        writeBlockChecksum(table, index)
    }
    if inTable(metaindex) { writeBlockChecksum(table, metaindex) }
}

/// LevelDB's trailer after `block`: a type byte, then the masked CRC32C of contents + type.
func writeBlockChecksum(_ table: UnsafeMutableBufferPointer<UInt8>, _ block: Range<Int>) {
    let crc = CRC32C.checksum(UnsafeRawBufferPointer(UnsafeMutableBufferPointer(rebasing: table[block.lowerBound...block.upperBound])))
    writeLittleEndian(CRC32C.mask(crc), to: table, at: block.upperBound + 1)
}

/// Sets the `crc32c` field (6, fixed32) of a BundleEntryProto to the masked CRC32C of the shard
/// bytes its `offset` (4) and `size` (5) name, when they lie inside the shard.
func repairEntryChecksum(_ table: UnsafeMutableBufferPointer<UInt8>, _ entry: Range<Int>) {
    var p = entry.lowerBound
    var offset: UInt64?, size: UInt64?, crcPosition: Int?
    while p < entry.upperBound, let tag = readVarint(table, &p, end: entry.upperBound) {
        switch tag & 7 {
        case 0:
            guard let value = readVarint(table, &p, end: entry.upperBound) else { return }
            if tag >> 3 == 4 { offset = value }
            if tag >> 3 == 5 { size = value }
        case 1: p += 8
        case 2:
            guard let length = readVarint(table, &p, end: entry.upperBound), length <= UInt64(entry.upperBound - p) else { return }
            p += Int(length)
        case 5:
            if tag >> 3 == 6 { crcPosition = p }
            p += 4
        default: return
        }
    }
    guard let offset, let size, let crcPosition, crcPosition + 4 <= entry.upperBound,
          offset <= UInt64(shard.count), size <= UInt64(shard.count) - offset else { return }
    let crc = shard.withUnsafeBytes { CRC32C.checksum(UnsafeRawBufferPointer(rebasing: $0[Int(offset)..<Int(offset + size)])) }
    writeLittleEndian(CRC32C.mask(crc), to: table, at: crcPosition)
}

/// The value ranges of a block's entries (prefix-compressed keys skipped), as far as they parse.
func blockValues(_ table: UnsafeMutableBufferPointer<UInt8>, _ block: Range<Int>) -> [Range<Int>] {
    guard block.count >= 4 else { return [] }
    var p = block.upperBound - 4
    let restarts = Int(readLittleEndian32(table, at: p))
    guard restarts <= (block.count - 4) / 4 else { return [] }
    let end = block.upperBound - 4 - 4 * restarts
    p = block.lowerBound
    var values: [Range<Int>] = []
    while p < end {
        guard readVarint(table, &p, end: end) != nil, let unshared = readVarint(table, &p, end: end),
              let length = readVarint(table, &p, end: end),
              unshared <= UInt64(end - p), length <= UInt64(end - p) - unshared else { break }
        p += Int(unshared)
        values.append(p..<(p + Int(length)))
        p += Int(length)
    }
    return values
}

func readHandle(_ table: UnsafeMutableBufferPointer<UInt8>, _ p: inout Int, end: Int) -> Range<Int>? {
    guard let offset = readVarint(table, &p, end: end), let size = readVarint(table, &p, end: end),
          offset <= UInt64(Int32.max), size <= UInt64(Int32.max) else { return nil }
    return Int(offset)..<Int(offset + size)
}

func readVarint(_ bytes: UnsafeMutableBufferPointer<UInt8>, _ p: inout Int, end: Int) -> UInt64? {
    var result: UInt64 = 0
    var shift: UInt64 = 0
    while p < end, shift < 64 {
        let byte = bytes[p]
        p += 1
        result |= UInt64(byte & 0x7f) << shift
        if byte & 0x80 == 0 { return result }
        shift += 7
    }
    return nil
}

func readLittleEndian32(_ bytes: UnsafeMutableBufferPointer<UInt8>, at p: Int) -> UInt32 {
    (0..<4).reduce(0) { $0 | UInt32(bytes[p + $1]) << (8 * $1) }
}

func writeLittleEndian<T: FixedWidthInteger>(_ value: T, to bytes: UnsafeMutableBufferPointer<UInt8>, at p: Int) {
    for i in 0..<MemoryLayout<T>.size { bytes[p + i] = UInt8(truncatingIfNeeded: value >> (8 * i)) }
}
