// What the checkpoint readers have in common: element types as stored on disk, a tensor's
// listing entry, and the protocol the loader and `bertc inspect` read through.

import BertGraph
import BertRuntime

/// Element types as checkpoints store them. Readers convert the float types to f32 and the
/// integer types to i32/i64 `HostTensor`s; the rest can be listed but not read.
public enum CheckpointDType: Hashable, Sendable, CustomStringConvertible {
    case float32, float16, bfloat16, float64, int32, int64
    /// A type bertc lists but cannot read (strings, bools, bytes, ...), by its format's name.
    case other(String)

    /// Short name shared by all formats: f32, f16, bf16, f64, i32, i64, or the format's name.
    public var description: String {
        switch self {
        case .float32: return "f32"
        case .float16: return "f16"
        case .bfloat16: return "bf16"
        case .float64: return "f64"
        case .int32: return "i32"
        case .int64: return "i64"
        case .other(let name): return name
        }
    }

    /// The bytes of a tensor of `shape`, or nil when the type has no fixed width, a dim is
    /// negative or the size overflows.
    public func byteCount(shape: [Int]) -> Int? {
        guard let width = byteSize, let count = CheckpointTensorInfo.elementCount(of: shape) else { return nil }
        let (bytes, overflow) = count.multipliedReportingOverflow(by: width)
        return overflow ? nil : bytes
    }

    /// Bytes per element, or nil for a type without a fixed width.
    public var byteSize: Int? {
        switch self {
        case .float16, .bfloat16: return 2
        case .float32, .int32: return 4
        case .float64, .int64: return 8
        case .other: return nil
        }
    }

    /// The dtype of the `HostTensor` a read produces, or nil when the type cannot be read.
    public var hostDType: DType? {
        switch self {
        case .float32, .float16, .bfloat16, .float64: return .float32
        case .int32: return .int32
        case .int64: return .int64
        case .other: return nil
        }
    }
}

/// One tensor as a checkpoint lists it, without its values.
public struct CheckpointTensorInfo: Hashable, Sendable {
    public var name: String
    public var dtype: CheckpointDType
    public var shape: [Int]

    public init(name: String, dtype: CheckpointDType, shape: [Int]) {
        self.name = name
        self.dtype = dtype
        self.shape = shape
    }

    /// The number of elements, or nil when a dim is negative or the product overflows (the
    /// readers reject such shapes when they open a file).
    public var elementCount: Int? { Self.elementCount(of: shape) }

    /// The product of `shape`'s dims, or nil when a dim is negative or the product overflows.
    public static func elementCount(of shape: [Int]) -> Int? {
        var product = 1
        for dim in shape {
            guard dim >= 0 else { return nil }
            let (next, overflow) = product.multipliedReportingOverflow(by: dim)
            guard !overflow else { return nil }
            product = next
        }
        return product
    }
}

/// A checkpoint file (or TensorFlow bundle) opened for reading.
public protocol CheckpointReader: AnyObject {
    /// The path shown in errors and listings.
    var path: String { get }
    /// The file format, which also decides the naming family.
    var format: CheckpointFormat { get }
    /// Every tensor, sorted by name.
    var tensors: [CheckpointTensorInfo] { get }
    /// The values of one tensor, converted to a `HostTensor`.
    func read(_ name: String) throws -> HostTensor
}

// MARK: - Element decoding

extension CheckpointDType {
    /// Decodes little-endian elements into a host tensor. `bytes.count` must equal
    /// `shape.product * byteSize` (the readers check that before calling).
    func decode(_ bytes: UnsafeRawBufferPointer, shape: [Int]) -> HostTensor? {
        let count = shape.reduce(1, *)
        switch self {
        case .float32:
            return HostTensor(shape: shape, floats: copyElements(bytes, count: count, as: Float.self))
        case .int32:
            return HostTensor(shape: shape, int32s: copyElements(bytes, count: count, as: Int32.self))
        case .int64:
            return HostTensor(shape: shape, int64s: copyElements(bytes, count: count, as: Int64.self))
        case .float64:
            let doubles = copyElements(bytes, count: count, as: Double.self)
            return HostTensor(shape: shape, floats: doubles.map { Float($0) })
        case .float16:
            let halves = copyElements(bytes, count: count, as: UInt16.self)
            return HostTensor(shape: shape, floats: halves.map(floatFromHalfBits))
        case .bfloat16:
            let halves = copyElements(bytes, count: count, as: UInt16.self)
            return HostTensor(shape: shape, floats: halves.map { Float(bitPattern: UInt32($0) << 16) })
        case .other:
            return nil
        }
    }
}

#if _endian(big)
#error("checkpoint decoding assumes a little-endian host, like the files it reads")
#endif

/// Copies `count` little-endian elements out of a possibly unaligned (memory-mapped) buffer.
private func copyElements<T>(_ bytes: UnsafeRawBufferPointer, count: Int, as type: T.Type) -> [T] {
    guard count > 0, let base = bytes.baseAddress else { return [] }
    return [T](unsafeUninitializedCapacity: count) { buffer, initialized in
        UnsafeMutableRawBufferPointer(buffer).copyMemory(
            from: UnsafeRawBufferPointer(start: base, count: count * MemoryLayout<T>.stride))
        initialized = count
    }
}

/// IEEE 754 binary16 to binary32, exact (every half is representable as a float).
private func floatFromHalfBits(_ h: UInt16) -> Float {
    let sign = UInt32(h >> 15) << 31
    let exponent = Int(h >> 10) & 0x1f
    let mantissa = UInt32(h & 0x3ff)
    switch exponent {
    case 0:
        // Zero or subnormal: mantissa * 2^-24.
        let magnitude = Float(mantissa) * Float(sign: .plus, exponent: -24, significand: 1)
        return sign == 0 ? magnitude : -magnitude
    case 0x1f:
        return Float(bitPattern: sign | 0x7f80_0000 | (mantissa << 13))
    default:
        return Float(bitPattern: sign | (UInt32(exponent - 15 + 127) << 23) | (mantissa << 13))
    }
}
