// Hand-written decoders for the two messages of tensorflow/core/protobuf/tensor_bundle.proto
// that a checkpoint index stores, so that reading TensorFlow checkpoints needs no protobuf
// dependency. Field numbers (unknown fields are skipped, as protobuf requires):
//
//   BundleHeaderProto { int32 num_shards = 1; Endianness endianness = 2; VersionDef version = 3; }
//   BundleEntryProto  { DataType dtype = 1; TensorShapeProto shape = 2; int32 shard_id = 3;
//                       int64 offset = 4; int64 size = 5; fixed32 crc32c = 6;
//                       repeated TensorSliceProto slices = 7; }
//   TensorShapeProto  { repeated Dim dim = 2 { int64 size = 1; string name = 2; } bool unknown_rank = 3; }

/// The bundle header stored under the empty key of the index.
struct TFBundleHeader: Equatable {
    var shardCount = 0
    /// 0 little-endian, 1 big-endian.
    var endianness = 0

    init(decoding bytes: ArraySlice<UInt8>) throws {
        try ByteCursor.readMessage(bytes) { field, cursor in
            switch field {
            case (1, 0): shardCount = try cursor.readVarintInt(limit: Int(Int32.max))
            case (2, 0): endianness = try cursor.readVarintInt(limit: Int(Int32.max))
            default: return false
            }
            return true
        }
    }
}

/// Where one tensor lives in the data shards, with its type and checksum.
struct TFBundleEntry: Equatable {
    /// tensorflow.DataType enum value.
    var dataType = 0
    var shape: [Int] = []
    var unknownRank = false
    var shardID = 0
    var offset = 0
    var size = 0
    /// As stored in the index: the *masked* CRC32C of the tensor bytes.
    var maskedCRC32C: UInt32 = 0
    /// Non-zero for partitioned variables, which bertc does not read.
    var sliceCount = 0

    init(decoding bytes: ArraySlice<UInt8>) throws {
        try ByteCursor.readMessage(bytes) { field, cursor in
            switch field {
            case (1, 0): dataType = try cursor.readVarintInt(limit: Int(Int32.max))
            case (2, 2): try decodeShape(try cursor.readLengthDelimited())
            case (3, 0): shardID = try cursor.readVarintInt(limit: Int(Int32.max))
            case (4, 0): offset = try cursor.readVarintInt()
            case (5, 0): size = try cursor.readVarintInt()
            case (6, 5): maskedCRC32C = try cursor.readFixed32()
            case (7, 2):
                _ = try cursor.readLengthDelimited()
                sliceCount += 1
            default: return false
            }
            return true
        }
    }

    private mutating func decodeShape(_ bytes: ArraySlice<UInt8>) throws {
        try ByteCursor.readMessage(bytes) { field, cursor in
            switch field {
            case (2, 2):
                var size = 0
                try ByteCursor.readMessage(try cursor.readLengthDelimited()) { field, dim in
                    guard field == (1, 0) else { return false }
                    // Negative sizes (-1, unknown) arrive as 10-byte varints and are rejected.
                    size = try dim.readVarintInt()
                    return true
                }
                shape.append(size)
            case (3, 0): unknownRank = try cursor.readVarint() != 0
            default: return false
            }
            return true
        }
    }

    /// The element type in checkpoint terms.
    var dtype: CheckpointDType {
        switch dataType {
        case 1: return .float32
        case 2: return .float64
        case 3: return .int32
        case 9: return .int64
        case 14: return .bfloat16
        case 19: return .float16
        default: return .other(Self.otherTypeNames[dataType] ?? "tf_dtype_\(dataType)")
        }
    }

    private static let otherTypeNames: [Int: String] = [
        4: "u8", 5: "i16", 6: "i8", 7: "string", 8: "c64", 10: "bool", 17: "u16",
        18: "c128", 20: "resource", 21: "variant", 22: "u32", 23: "u64",
    ]
}
