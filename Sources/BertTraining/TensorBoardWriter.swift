import BertModel
import Foundation

/// Writes TensorBoard event files (`events.out.tfevents.*`): TFRecord framing (length,
/// masked crc32c of the length, an `Event` protobuf, masked crc32c of the data) with scalar
/// summaries. The protobuf fields are encoded by hand: Event{wall_time=1 (double), step=2
/// (int64), file_version=3 (string), summary=5}, Summary{value=1}, Value{tag=1, simple_value=2}.
public final class TensorBoardWriter {
    public let url: URL
    private let handle: FileHandle
    /// Bytes of the file so far (whole records only).
    public private(set) var bytesWritten = 0

    /// Creates `dir` if needed and opens a new event file in it.
    public init(directory dir: URL) throws {
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let host = ProcessInfo.processInfo.hostName
        let stamp = Int(Date().timeIntervalSince1970)
        url = dir.appendingPathComponent("events.out.tfevents.\(stamp).\(host)")
        guard FileManager.default.createFile(atPath: url.path, contents: nil) else {
            throw TrainingError.io(url.path, "cannot create the TensorBoard event file")
        }
        handle = try FileHandle(forWritingTo: url)
        var event = ProtoWriter()
        event.double(1, Date().timeIntervalSince1970)
        event.string(3, "brain.Event:2")
        try write(record: event.bytes)
    }

    /// Continues the event file at `url` after its first `length` bytes (a resumed run; the
    /// caller has cut the file back to a record boundary it recorded).
    public init(continuing url: URL, at length: Int) throws {
        self.url = url
        do {
            handle = try FileHandle(forWritingTo: url)
            try handle.seek(toOffset: UInt64(length))
        } catch {
            throw TrainingError.io(url.path, "cannot reopen the TensorBoard event file")
        }
        bytesWritten = length
    }

    deinit { try? handle.close() }

    /// Appends scalar summaries for one step and flushes.
    public func scalars(_ values: [(tag: String, value: Float)], step: Int) throws {
        var summary = ProtoWriter()
        for (tag, v) in values {
            var value = ProtoWriter()
            value.string(1, tag)
            value.float(2, v)
            summary.message(1, value.bytes)
        }
        var event = ProtoWriter()
        event.double(1, Date().timeIntervalSince1970)
        event.int64(2, Int64(step))
        event.message(5, summary.bytes)
        try write(record: event.bytes)
    }

    private func write(record data: [UInt8]) throws {
        var out: [UInt8] = []
        var length = UInt64(data.count).littleEndian
        let lengthBytes = withUnsafeBytes(of: &length) { Array($0) }
        out += lengthBytes
        out += le32(CRC32C.mask(CRC32C.checksum(lengthBytes)))
        out += data
        out += le32(CRC32C.mask(CRC32C.checksum(data)))
        try handle.write(contentsOf: Data(out))
        try handle.synchronize()
        bytesWritten += out.count
    }

    private func le32(_ v: UInt32) -> [UInt8] { [UInt8(v & 0xff), UInt8(v >> 8 & 0xff), UInt8(v >> 16 & 0xff), UInt8(v >> 24)] }
}

/// The few protobuf wire-format encodings event files need.
struct ProtoWriter {
    var bytes: [UInt8] = []

    mutating func varint(_ v: UInt64) {
        var v = v
        while v >= 0x80 { bytes.append(UInt8(v & 0x7f) | 0x80); v >>= 7 }
        bytes.append(UInt8(v))
    }
    mutating func key(_ field: Int, _ wire: UInt64) { varint(UInt64(field) << 3 | wire) }
    mutating func double(_ field: Int, _ v: Double) {
        key(field, 1)
        withUnsafeBytes(of: v.bitPattern.littleEndian) { bytes += $0 }
    }
    mutating func float(_ field: Int, _ v: Float) {
        key(field, 5)
        withUnsafeBytes(of: v.bitPattern.littleEndian) { bytes += $0 }
    }
    mutating func int64(_ field: Int, _ v: Int64) { key(field, 0); varint(UInt64(bitPattern: v)) }
    mutating func string(_ field: Int, _ s: String) { message(field, Array(s.utf8)) }
    mutating func message(_ field: Int, _ m: [UInt8]) { key(field, 2); varint(UInt64(m.count)); bytes += m }
}
