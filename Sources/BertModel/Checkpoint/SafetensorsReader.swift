// Reads safetensors files (https://github.com/huggingface/safetensors):
//
//   [u64 little-endian N][N bytes of JSON header][data section]
//
// The header maps each tensor name to {"dtype", "shape", "data_offsets": [begin, end]} with
// offsets relative to the data section, plus an optional "__metadata__" string map. The file
// is memory-mapped; the header is validated completely before any tensor is touched, so a
// bad header can never make a read leave the file: every range lies inside the data
// section, its length equals dtype size * element count, and no two ranges overlap.

import BertGraph
import BertRuntime
import BertText
import Foundation

/// A memory-mapped safetensors file.
public final class SafetensorsReader: CheckpointReader {
    /// Headers larger than this are rejected before parsing (the reference reader's limit).
    static let maximumHeaderLength = 100_000_000

    public let path: String
    public var format: CheckpointFormat { .safetensors }
    /// Every tensor, sorted by name.
    public let tensors: [CheckpointTensorInfo]
    /// The optional `__metadata__` map of the header.
    public let metadata: [String: String]

    private let data: Data
    /// Absolute byte range in `data` of each tensor.
    private let ranges: [String: Range<Int>]
    private let infos: [String: CheckpointTensorInfo]

    /// Maps and validates a safetensors file.
    /// - Throws: `CheckpointError` naming the file (and tensor) when the file cannot be read or
    ///   its header is inconsistent.
    public convenience init(url: URL) throws {
        let data: Data
        do {
            data = try FileAccess.read(url.path, limit: Int.max, what: "a safetensors file", mapped: true)
        } catch {
            throw CheckpointError.unreadable(file: url.path, reason: FileAccess.reason(for: error))
        }
        try self.init(data: data, path: url.path)
    }

    /// Validates a safetensors file already in memory; `path` only names it in errors.
    public init(data: Data, path: String) throws {
        self.path = path
        self.data = data
        let header = try Self.parseHeader(data, path: path)
        metadata = header.metadata
        var infos: [String: CheckpointTensorInfo] = [:]
        var ranges: [String: Range<Int>] = [:]
        for (name, entry) in header.entries.sorted(by: { $0.key < $1.key }) {
            let info = CheckpointTensorInfo(name: name, dtype: Self.dtype(named: entry.dtype), shape: entry.shape)
            infos[name] = info
            ranges[name] = try Self.validatedRange(entry, info: info, header: header, fileSize: data.count, path: path)
        }
        try Self.checkNoOverlap(ranges, path: path)
        self.infos = infos
        self.ranges = ranges
        tensors = infos.values.sorted { $0.name < $1.name }
    }

    /// Reads one tensor. f16/bf16/f64 are widened or narrowed to f32.
    public func read(_ name: String) throws -> HostTensor {
        guard let info = infos[name], let range = ranges[name] else {
            throw CheckpointError.tensorNotFound(file: path, tensor: name)
        }
        let tensor = data.withUnsafeBytes { raw in
            info.dtype.decode(UnsafeRawBufferPointer(rebasing: raw[range]), shape: info.shape)
        }
        guard let tensor else {
            throw CheckpointError.unsupportedDType(file: path, tensor: name, dtype: info.dtype.description)
        }
        return tensor
    }

    // MARK: - Header

    struct Header {
        var entries: [String: Entry]
        var metadata: [String: String]
        /// Absolute offset of the data section.
        var dataStart: Int
    }

    struct Entry: Decodable {
        var dtype: String
        var shape: [Int]
        var data_offsets: [Int]
    }

    /// The header object: tensor entries under their names, and `__metadata__`.
    private struct HeaderJSON: Decodable {
        var entries: [String: Entry] = [:]
        var metadata: [String: String] = [:]

        private struct Key: CodingKey {
            var stringValue: String
            var intValue: Int? { nil }
            init(stringValue: String) { self.stringValue = stringValue }
            init?(intValue: Int) { nil }
        }

        init(from decoder: Decoder) throws {
            let container = try decoder.container(keyedBy: Key.self)
            for key in container.allKeys {
                if key.stringValue == "__metadata__" {
                    metadata = try container.decode([String: String].self, forKey: key)
                } else {
                    entries[key.stringValue] = try container.decode(Entry.self, forKey: key)
                }
            }
        }
    }

    private static func parseHeader(_ data: Data, path: String) throws -> Header {
        guard data.count >= 8 else {
            throw CheckpointError.truncated(file: path, detail: "\(data.count) bytes, shorter than the 8-byte header length")
        }
        let length = data.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
        guard length <= UInt64(data.count - 8) else {
            throw CheckpointError.malformedHeader(
                file: path, detail: "header length \(length) is larger than the \(data.count - 8) bytes after it")
        }
        guard length <= UInt64(maximumHeaderLength) else {
            throw CheckpointError.malformedHeader(file: path, detail: "header length \(length) exceeds 100 MB")
        }
        let json = data.subdata(in: 8..<(8 + Int(length)))
        let decoded: HeaderJSON
        do {
            decoded = try JSONDecoder().decode(HeaderJSON.self, from: json)
        } catch {
            throw CheckpointError.malformedHeader(file: path, detail: "header is not valid safetensors JSON (\(describe(error)))")
        }
        return Header(entries: decoded.entries, metadata: decoded.metadata, dataStart: 8 + Int(length))
    }

    /// Checks one entry against the file and returns its absolute byte range.
    private static func validatedRange(_ entry: Entry, info: CheckpointTensorInfo, header: Header,
                                       fileSize: Int, path: String) throws -> Range<Int> {
        let name = info.name
        guard entry.data_offsets.count == 2 else {
            throw CheckpointError.malformedTensor(file: path, tensor: name, detail: "data_offsets must hold two numbers")
        }
        let begin = entry.data_offsets[0], end = entry.data_offsets[1]
        guard begin >= 0, begin <= end else {
            throw CheckpointError.malformedTensor(
                file: path, tensor: name, detail: "data_offsets [\(begin), \(end)] are not a range")
        }
        let dataLength = fileSize - header.dataStart
        guard end <= dataLength else {
            throw CheckpointError.truncated(
                file: path, detail: "tensor '\(name)' ends at byte \(end) of the data section, which holds \(dataLength) bytes")
        }
        guard let width = byteWidth(ofDTypeNamed: entry.dtype) else {
            throw CheckpointError.unsupportedDType(file: path, tensor: name, dtype: entry.dtype)
        }
        var expected = width
        for dim in entry.shape {
            let (product, overflow) = expected.multipliedReportingOverflow(by: dim)
            guard dim >= 0, !overflow else {
                throw CheckpointError.malformedTensor(file: path, tensor: name, detail: "invalid shape \(entry.shape)")
            }
            expected = product
        }
        guard end - begin == expected else {
            throw CheckpointError.malformedTensor(
                file: path, tensor: name,
                detail: "\(entry.dtype) \(entry.shape) needs \(expected) bytes "
                    + "but data_offsets [\(begin), \(end)] hold \(end - begin)")
        }
        return (header.dataStart + begin)..<(header.dataStart + end)
    }

    private static func checkNoOverlap(_ ranges: [String: Range<Int>], path: String) throws {
        let sorted = ranges.filter { !$0.value.isEmpty }.sorted { ($0.value.lowerBound, $0.key) < ($1.value.lowerBound, $1.key) }
        for (previous, next) in zip(sorted, sorted.dropFirst()) where next.value.lowerBound < previous.value.upperBound {
            throw CheckpointError.malformedTensor(
                file: path, tensor: next.key, detail: "its bytes overlap those of '\(previous.key)'")
        }
    }

    // MARK: - DTypes

    /// The safetensors dtype names and their element widths.
    private static let widths: [String: Int] = [
        "BOOL": 1, "U8": 1, "I8": 1, "F8_E4M3": 1, "F8_E5M2": 1,
        "I16": 2, "U16": 2, "F16": 2, "BF16": 2,
        "I32": 4, "U32": 4, "F32": 4,
        "I64": 8, "U64": 8, "F64": 8,
    ]

    private static func byteWidth(ofDTypeNamed name: String) -> Int? { widths[name] }

    static func dtype(named name: String) -> CheckpointDType {
        switch name {
        case "F32": return .float32
        case "F16": return .float16
        case "BF16": return .bfloat16
        case "F64": return .float64
        case "I32": return .int32
        case "I64": return .int64
        default: return .other(name)
        }
    }

    /// The safetensors name of a dtype bertc writes.
    static func name(of dtype: DType) -> String {
        switch dtype {
        case .float32: return "F32"
        case .int32: return "I32"
        case .int64: return "I64"
        }
    }
}

/// A one-line reason from a decoding error, without Foundation's debug noise.
private func describe(_ error: Error) -> String {
    switch error {
    case DecodingError.dataCorrupted(let context):
        return context.underlyingError.map { _ in "the JSON is malformed" } ?? context.debugDescription
    case DecodingError.keyNotFound(let key, let context):
        return "missing \"\(key.stringValue)\" at \(codingPath(context))"
    case DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context):
        return "\(context.debugDescription) at \(codingPath(context))"
    default:
        return String(describing: error)
    }
}

private func codingPath(_ context: DecodingError.Context) -> String {
    context.codingPath.isEmpty ? "top level" : context.codingPath.map(\.stringValue).joined(separator: ".")
}
