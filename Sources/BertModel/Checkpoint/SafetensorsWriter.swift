// Writes safetensors files for training checkpoints and bundles. The output is a pure
// function of the tensors and metadata: keys are sorted bytewise, tensors are laid out in
// that order, and the header is padded with spaces to a multiple of 8 bytes (as the
// reference writer does) so that every tensor starts 8-byte aligned. The file is written
// under a temporary name in the target directory and renamed into place, so a crash or a
// full disk never leaves a half-written checkpoint under the real name.

import BertGraph
import BertRuntime
import BertText
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Writes `[String: HostTensor]` as a safetensors file.
public enum SafetensorsWriter {
    /// Writes `tensors` (and the optional `__metadata__` map) to `url`, atomically.
    /// - Throws: `CheckpointError.writeFailed` naming the file; an existing file at `url` is
    ///   then left as it was.
    public static func write(_ tensors: [String: HostTensor], metadata: [String: String] = [:], to url: URL) throws {
        let bytes = encode(tensors, metadata: metadata)
        try writeAtomically(bytes, to: url)
    }

    /// The complete file contents.
    public static func encode(_ tensors: [String: HostTensor], metadata: [String: String] = [:]) -> Data {
        let names = tensors.keys.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
        var header = "{"
        var fields: [String] = []
        if !metadata.isEmpty {
            let pairs = metadata.keys.sorted().map { key in
                QuotedString.quote(key, json: true) + ":" + QuotedString.quote(metadata[key]!, json: true)
            }
            fields.append("\"__metadata__\":{" + pairs.joined(separator: ",") + "}")
        }
        var offset = 0
        for name in names {
            let tensor = tensors[name]!
            let size = tensor.elementCount * tensor.dtype.byteSize
            let shape = tensor.shape.map(String.init).joined(separator: ",")
            fields.append("\(QuotedString.quote(name, json: true)):{\"dtype\":\"\(SafetensorsReader.name(of: tensor.dtype))\","
                + "\"shape\":[\(shape)],\"data_offsets\":[\(offset),\(offset + size)]}")
            offset += size
        }
        header += fields.joined(separator: ",") + "}"
        var headerBytes = Array(header.utf8)
        headerBytes += [UInt8](repeating: 0x20, count: (8 - headerBytes.count % 8) % 8)

        var out = Data(capacity: 8 + headerBytes.count + offset)
        withUnsafeBytes(of: UInt64(headerBytes.count).littleEndian) { out.append(contentsOf: $0) }
        out.append(contentsOf: headerBytes)
        for name in names {
            switch tensors[name]!.storage {
            case .float32(let values): values.withUnsafeBytes { out.append(contentsOf: $0) }
            case .int32(let values): values.withUnsafeBytes { out.append(contentsOf: $0) }
            case .int64(let values): values.withUnsafeBytes { out.append(contentsOf: $0) }
            }
        }
        return out
    }

    /// Writes `bytes` to a temporary file next to `url`, flushes it, then renames it over `url`.
    static func writeAtomically(_ bytes: Data, to url: URL) throws {
        let directory = url.deletingLastPathComponent()
        let unique = "\(ProcessInfo.processInfo.processIdentifier)-\(UInt32.random(in: 0...UInt32.max))"
        let temporary = directory.appendingPathComponent(".\(url.lastPathComponent).tmp-\(unique)")
        do { try FileAccess.writeFlushed(bytes, to: temporary) } catch {
            try? FileManager.default.removeItem(at: temporary)
            throw CheckpointError.writeFailed(file: url.path, reason: FileAccess.reason(for: error))
        }
        guard rename(temporary.path, url.path) == 0 else {
            let reason = String(cString: strerror(errno))
            try? FileManager.default.removeItem(at: temporary)
            throw CheckpointError.writeFailed(file: url.path, reason: reason)
        }
    }
}
