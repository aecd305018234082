// Reads TensorFlow checkpoints (the "tensor bundle" V2 format that tf.train.Saver and
// tf.train.Checkpoint write): `<prefix>.index`, a LevelDB table whose empty key holds a
// BundleHeaderProto and whose other keys are tensor names holding BundleEntryProtos, and data
// shards `<prefix>.data-NNNNN-of-MMMMM` holding the raw little-endian tensor bytes.
//
// The index is read and validated when the reader opens: every entry's shape product, byte
// size and end offset are computed with overflow checks, its size must equal dtype size times
// elements, and its bytes must lie inside its shard when the shard is present. Data shards are
// memory-mapped on the first read from them, so a checkpoint can be listed from its index
// alone. Each read checks the CRC32C of the bytes against the index.

import BertGraph
import BertRuntime
import BertText
import Foundation

/// A TensorFlow checkpoint opened through its index.
public final class TFCheckpointReader: CheckpointReader {
    /// The checkpoint prefix, e.g. `/models/bert/bert_model.ckpt`.
    public let prefix: URL
    /// The index path, shown in errors and listings.
    public let path: String
    public var format: CheckpointFormat { .tfCheckpoint }
    /// Every tensor, sorted by name.
    public let tensors: [CheckpointTensorInfo]
    /// The index entries, by tensor name (exposed for tests and `bertc inspect`).
    let entries: [String: TFBundleEntry]
    let shardCount: Int

    private var shards: [Int: Data] = [:]

    /// Opens the checkpoint at `location`: an index file, a prefix, or a directory holding
    /// exactly one `*.index` file (or `bert_model.ckpt.index` among several).
    public convenience init(url location: URL) throws {
        try self.init(prefix: try Self.prefix(for: location))
    }

    /// Opens the checkpoint with the given prefix (`<prefix>.index` must exist).
    public convenience init(prefix: URL) throws {
        let indexPath = prefix.path + ".index"
        let bytes: [UInt8]
        do {
            bytes = [UInt8](try FileAccess.read(indexPath, limit: Self.maximumIndexSize, what: "a checkpoint index"))
        } catch {
            throw CheckpointError.unreadable(file: indexPath, reason: FileAccess.reason(for: error))
        }
        try self.init(prefix: prefix, index: bytes)
    }

    /// Opens a checkpoint whose index bytes are already in memory. `shards` holds data shards
    /// by id that are read from memory instead of from `<prefix>.data-*` (for the fuzz targets).
    init(prefix: URL, index bytes: [UInt8], shards: [Int: Data] = [:]) throws {
        self.prefix = prefix
        path = prefix.path + ".index"
        self.shards = shards
        let table = try LevelDBTable(bytes, path: path)
        guard let first = table.entries.first, first.key.isEmpty else {
            throw CheckpointError.malformedHeader(file: path, detail: "no bundle header (empty key) in the index")
        }
        let header: TFBundleHeader
        do {
            header = try TFBundleHeader(decoding: first.value)
        } catch let error as ByteCursorError {
            throw CheckpointError.malformedHeader(file: path, detail: "bundle header: \(error.detail)")
        }
        guard header.endianness == 0 else {
            throw CheckpointError.unsupportedFeature(file: path, detail: "big-endian checkpoint")
        }
        guard header.shardCount >= 1 else {
            throw CheckpointError.malformedHeader(file: path, detail: "bundle header names \(header.shardCount) shards")
        }
        shardCount = header.shardCount
        var entries: [String: TFBundleEntry] = [:]
        var tensors: [CheckpointTensorInfo] = []
        for (key, value) in table.entries.dropFirst() {
            guard let name = String(validating: key, as: UTF8.self) else {
                throw CheckpointError.malformedHeader(file: path, detail: "an index key is not UTF-8 text")
            }
            guard entries[name] == nil else {
                throw CheckpointError.malformedTensor(file: path, tensor: name, detail: "the index lists the tensor twice")
            }
            let entry: TFBundleEntry
            do {
                entry = try TFBundleEntry(decoding: value)
            } catch let error as ByteCursorError {
                throw CheckpointError.malformedTensor(file: path, tensor: name, detail: "bad index entry: \(error.detail)")
            }
            guard entry.shardID < header.shardCount else {
                throw CheckpointError.malformedTensor(
                    file: path, tensor: name, detail: "shard \(entry.shardID) of a \(header.shardCount)-shard checkpoint")
            }
            try Self.checkExtent(entry, name: name, path: path)
            entries[name] = entry
            tensors.append(CheckpointTensorInfo(name: name, dtype: entry.dtype, shape: entry.shape))
        }
        self.entries = entries
        self.tensors = tensors  // index keys are sorted bytewise, which is name order
        try checkShardSizes()
    }

    /// The largest index read (BERT-large's is about 40 KB).
    static let maximumIndexSize = 256 << 20

    /// Checks an entry's shape, size and byte range for overflow and consistency.
    private static func checkExtent(_ entry: TFBundleEntry, name: String, path: String) throws {
        func bad(_ detail: String) -> CheckpointError { .malformedTensor(file: path, tensor: name, detail: detail) }
        guard !entry.unknownRank else { throw bad("the index records an unknown rank") }
        guard let count = CheckpointTensorInfo.elementCount(of: entry.shape) else {
            throw bad("shape \(entry.shape) holds more than 2^63 elements")
        }
        if let width = entry.dtype.byteSize, entry.sliceCount == 0 {
            let (bytes, overflow) = count.multipliedReportingOverflow(by: width)
            guard !overflow, bytes == entry.size else {
                throw bad("\(entry.dtype) \(entry.shape) needs \(overflow ? "more than 2^63" : "\(bytes)") bytes "
                    + "but the index records \(entry.size)")
            }
        }
        guard !entry.offset.addingReportingOverflow(entry.size).overflow else {
            throw bad("offset \(entry.offset) plus size \(entry.size) overflows")
        }
    }

    /// Checks that every entry's bytes lie inside its shard, for the shards that exist (a
    /// missing shard is reported when a tensor is read from it).
    private func checkShardSizes() throws {
        var sizes: [Int: Int] = [:]
        for (name, entry) in entries.sorted(by: { $0.key < $1.key }) {
            let url = shardURL(entry.shardID)
            if sizes[entry.shardID] == nil, let inMemory = shards[entry.shardID] { sizes[entry.shardID] = inMemory.count }
            if sizes[entry.shardID] == nil {
                guard FileManager.default.fileExists(atPath: url.path) else { continue }
                do { sizes[entry.shardID] = try FileAccess.regularFileSize(url.path) } catch {
                    throw CheckpointError.unreadable(file: url.path, reason: FileAccess.reason(for: error))
                }
            }
            guard let size = sizes[entry.shardID] else { continue }
            guard entry.offset + entry.size <= size else {
                throw CheckpointError.truncated(
                    file: url.path, detail: "tensor '\(name)' needs bytes \(entry.offset)..<\(entry.offset + entry.size) "
                        + "but the shard holds \(size)")
            }
        }
    }

    /// Reads one tensor from its data shard, checking size and CRC32C.
    public func read(_ name: String) throws -> HostTensor {
        guard let entry = entries[name] else { throw CheckpointError.tensorNotFound(file: path, tensor: name) }
        guard entry.sliceCount == 0 else {
            throw CheckpointError.unsupportedFeature(
                file: path, detail: "tensor '\(name)' is a partitioned variable saved in \(entry.sliceCount) slices")
        }
        let dtype = entry.dtype
        guard dtype.byteSize != nil, dtype.hostDType != nil else {
            throw CheckpointError.unsupportedDType(file: path, tensor: name, dtype: dtype.description)
        }
        let expected = dtype.byteCount(shape: entry.shape)
        guard !entry.unknownRank, let expected, entry.size == expected else {
            throw CheckpointError.malformedTensor(
                file: path, tensor: name,
                detail: "\(dtype) \(entry.shape) needs \(expected.map(String.init) ?? "too many") bytes "
                    + "but the index records \(entry.size)")
        }
        let shard = try shardData(entry.shardID)
        let shardPath = shardURL(entry.shardID).path
        // The index check at open rules out overflow; the shard may have changed since.
        guard entry.offset <= shard.count, entry.size <= shard.count - entry.offset else {
            throw CheckpointError.truncated(
                file: shardPath, detail: "tensor '\(name)' needs \(entry.size) bytes at offset \(entry.offset) "
                    + "but the shard holds \(shard.count)")
        }
        let range = entry.offset..<(entry.offset + entry.size)
        return try shard.withUnsafeBytes { raw in
            let bytes = UnsafeRawBufferPointer(rebasing: raw[range])
            let computed = CRC32C.mask(CRC32C.checksum(bytes))
            guard computed == entry.maskedCRC32C else {
                throw CheckpointError.checksumMismatch(
                    file: shardPath, what: "tensor '\(name)'", stored: entry.maskedCRC32C, computed: computed)
            }
            guard let tensor = dtype.decode(bytes, shape: entry.shape) else {
                throw CheckpointError.unsupportedDType(file: path, tensor: name, dtype: dtype.description)
            }
            return tensor
        }
    }

    // MARK: - Files

    /// `<prefix>.data-00000-of-00001` and friends.
    func shardURL(_ id: Int) -> URL {
        URL(fileURLWithPath: prefix.path + ".data-" + fiveDigits(id) + "-of-" + fiveDigits(shardCount))
    }

    private func shardData(_ id: Int) throws -> Data {
        if let data = shards[id] { return data }
        let url = shardURL(id)
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw CheckpointError.missingShard(file: path, shard: url.lastPathComponent)
        }
        do {
            let data = try FileAccess.read(url.path, limit: Int.max, what: "a data shard", mapped: true)
            shards[id] = data
            return data
        } catch {
            throw CheckpointError.unreadable(file: url.path, reason: FileAccess.reason(for: error))
        }
    }

    /// The checkpoint prefix for an index path, a prefix, or a directory.
    public static func prefix(for location: URL) throws -> URL {
        let path = location.path
        if path.hasSuffix(".index") { return URL(fileURLWithPath: String(path.dropLast(".index".count))) }
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
            let indexes = ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? [])
                .filter { $0.hasSuffix(".index") }.sorted()
            let chosen = indexes.count == 1 ? indexes.first : indexes.first { $0 == "bert_model.ckpt.index" }
            guard let chosen else { throw CheckpointError.unknownFormat(path: path) }
            return location.appendingPathComponent(String(chosen.dropLast(".index".count)))
        }
        return location
    }
}

private func fiveDigits(_ n: Int) -> String {
    let digits = String(n)
    return String(repeating: "0", count: max(0, 5 - digits.count)) + digits
}
