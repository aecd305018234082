// Validation of exported models by libonnx itself, in-process (see Sources/ONNXChecker).

import Foundation
import ONNXChecker

/// Runs libonnx's `check_model` followed by strict shape inference with type checks on a
/// serialised `onnx.ModelProto` — what Python's `onnx.checker.check_model(m, full_check=True)`
/// does — through the C function `bertc_onnx_check`.
public enum ONNXValidator {
    /// Validates `data`, a serialised ModelProto.
    /// - Parameters:
    ///   - data: the model's bytes.
    ///   - directory: the directory that the initializers' `external_data` locations are
    ///     relative to (libonnx checks that the files exist); nil for a self-contained model.
    /// - Throws: `ONNXExportError.invalidModel` carrying libonnx's message.
    public static func validate(_ data: Data, directory: URL? = nil) throws {
        var message = [CChar](repeating: 0, count: 4096)
        let capacity = message.count
        let status: Int32 = data.withUnsafeBytes { bytes in
            message.withUnsafeMutableBufferPointer { error in
                if let directory {
                    return bertc_onnx_check_in_directory(bytes.baseAddress, bytes.count, directory.path,
                                                         error.baseAddress, capacity)
                }
                return bertc_onnx_check(bytes.baseAddress, bytes.count, error.baseAddress, capacity)
            }
        }
        guard status == 0 else {
            let text = message.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
            throw ONNXExportError.invalidModel(message: text)
        }
    }
}
