// A checkpoint's table of contents, for `bertc inspect` and logs.

import Foundation

/// One tensor of a listing (`bertc inspect`): its name, element type and shape.
public struct TensorListing: Codable, Equatable, Sendable {
    public var name: String
    public var dtype: String
    public var shape: [Int]

    public init(name: String, dtype: String, shape: [Int]) {
        (self.name, self.dtype, self.shape) = (name, dtype, shape)
    }
}

/// The tensors of a checkpoint with their dtypes and shapes.
public struct CheckpointListing: Encodable, Equatable, Sendable {
    public typealias Tensor = TensorListing

    public var format: CheckpointFormat
    /// The file that was listed (the index for a TensorFlow checkpoint).
    public var path: String
    public var tensors: [Tensor]
    /// Elements in floating-point tensors (integer buffers such as `position_ids` or
    /// `global_step` are not parameters).
    public var parameters: Int

    /// Lists the checkpoint at `url` (safetensors file, TensorFlow index/prefix, or directory)
    /// from its header or index alone; no tensor data is read.
    public init(url: URL) throws {
        try self.init(reader: try CheckpointFormat.open(url))
    }

    /// - Throws: `CheckpointError.malformedHeader` when the element counts overflow (the
    ///   readers check each tensor; a TensorFlow index listed without its shards can still
    ///   promise more elements in total than an `Int` counts).
    public init(reader: CheckpointReader) throws {
        format = reader.format
        path = reader.path
        tensors = reader.tensors.map { Tensor(name: $0.name, dtype: $0.dtype.description, shape: $0.shape) }
        var total = 0
        for tensor in reader.tensors where tensor.dtype.hostDType == .float32 {
            let sum = tensor.elementCount.map { total.addingReportingOverflow($0) }
            guard let sum, !sum.overflow else {
                throw CheckpointError.malformedHeader(
                    file: reader.path, detail: "the tensors up to '\(tensor.name)' hold more than 2^63 elements")
            }
            total = sum.partialValue
        }
        parameters = total
    }

    private enum CodingKeys: String, CodingKey { case format, tensors, parameters }
}

extension CheckpointFormat: Encodable {}
