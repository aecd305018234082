// Runs an exported ONNX model under ONNX Runtime, which only exists in Python here: a Python
// interpreter runs a script (the repository's `tools/ort_run.py`) that reads a JSON request
// and prints the outputs as JSON. The caller says where both are (`bertc` finds them beside
// its repository, see Sources/bertc/ONNXRuntimeLocation.swift). Used to compare a bundle or an
// in-memory model with its ONNX export.
//
// Inputs are encoded exactly as the `Predictor` encodes them (same tokenizer, packing and
// truncation), all pairs in one batch padded to the longest pair; padding only changes
// masked positions, so logits agree with the interpreter's to float rounding. The stated
// tolerance for that comparison is `ONNXRuntimeRunner.tolerance`.

import BertGraph
import BertModel
import BertText
import Foundation

/// Errors of running ONNX Runtime through Python.
public enum ONNXRuntimeRunError: Error, CustomStringConvertible, Equatable {
    /// No interpreter or no `tools/ort_run.py` was found.
    case unavailable(reason: String)
    /// The file is not an ONNX model libonnx accepts (checked before ONNX Runtime is started).
    case badModel(file: String, reason: String)
    /// The script failed on `model`; carries its stderr.
    case failed(model: String, status: Int32, stderr: String)
    /// The script's stdout was not the expected JSON.
    case badOutput(reason: String)

    public var description: String {
        switch self {
        case .unavailable(let reason): return "ONNX Runtime is not available: \(reason)"
        case .badModel(let file, let reason): return "\(file) is not a valid ONNX model: \(reason)"
        case .failed(let model, let status, let stderr):
            return "ONNX Runtime could not run \(model) (tools/ort_run.py exited with status \(status)): \(stderr)"
        case .badOutput(let reason): return "tools/ort_run.py printed unexpected output: \(reason)"
        }
    }
}

/// ONNX Runtime through a Python script (`tools/ort_run.py`).
public struct ONNXRuntimeRunner {
    /// Max abs difference allowed between ONNX Runtime's and the interpreter's logits: both
    /// compute in float32 but fuse and order reductions differently.
    public static let tolerance: Float = 1e-5

    /// The Python interpreter, one with the `onnxruntime` package.
    public let python: URL
    /// The script it runs (`tools/ort_run.py`).
    public let script: URL

    public init(python: URL, script: URL) {
        self.python = python
        self.script = script
    }

    /// The most bytes an ONNX model file may have (protobuf's limit for one message).
    public static let maxModelBytes = Int(Int32.max)

    /// Checks that `model` is a regular file holding a model libonnx accepts (external data
    /// relative to its directory), so that ONNX Runtime is only ever started on one.
    /// - Returns: the file's bytes.
    /// - Throws: `ONNXRuntimeRunError.badModel` naming the file.
    @discardableResult
    public static func checkModel(_ model: URL) throws -> Data {
        func bad(_ reason: String) -> ONNXRuntimeRunError { .badModel(file: model.path, reason: reason) }
        let data: Data
        do { data = try RegularFile.contents(of: model, limit: maxModelBytes) } catch {
            switch error {
            case .missing: throw bad("it does not exist")
            case .notRegular(let kind): throw bad("it is \(kind), not a regular file")
            case .unreadable: throw bad("it cannot be read")
            case .tooLarge(let size): throw bad("it has \(size) bytes, more than the \(maxModelBytes) of one protobuf message")
            case .readFailed(let reason): throw bad("it cannot be read (\(reason))")
            }
        }
        do { try ONNXValidator.validate(data, directory: model.deletingLastPathComponent()) } catch {
            if case ONNXExportError.invalidModel(let message) = error { throw bad(message) }
            throw bad("\(error)")
        }
        return data
    }

    /// Logits `[pairs, labels]` of the ONNX model at `model` for `examples`, run as one batch.
    /// - Throws: `ONNXRuntimeRunError.badModel` when libonnx refuses the file.
    public func logits(model: URL, examples: [EncodedExample]) throws -> [[Float]] {
        guard !examples.isEmpty else { return [] }
        try Self.checkModel(model)
        let seq = examples.map(\.length).max() ?? 1
        let batch = InputBatch.make(examples, sequenceLength: seq)
        var inputs: [String: Any] = [:]
        for (name, tensor) in batch {
            inputs[name] = ["shape": tensor.shape, "data": (tensor.int32s ?? []).map(Int.init)]
        }
        let request: [String: Any] = ["model": model.path, "inputs": inputs, "outputs": ["logits"]]
        let requestURL = FileManager.default.temporaryDirectory
            .appendingPathComponent("bertc-ort-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).json")
        try JSONSerialization.data(withJSONObject: request).write(to: requestURL)
        defer { try? FileManager.default.removeItem(at: requestURL) }

        let stdout = try runScript(arguments: [requestURL.path], model: model)
        guard let object = try? JSONSerialization.jsonObject(with: stdout) as? [String: Any],
              let logits = object["logits"] as? [String: Any], let shape = logits["shape"] as? [Int],
              let data = logits["data"] as? [Double] else {
            throw ONNXRuntimeRunError.badOutput(reason: String(decoding: stdout.prefix(200), as: UTF8.self))
        }
        guard shape.count == 2, shape[0] == examples.count, data.count == shape[0] * shape[1] else {
            throw ONNXRuntimeRunError.badOutput(reason: "logits shape \(shape) for \(examples.count) pairs")
        }
        return (0..<shape[0]).map { i in data[i * shape[1]..<(i + 1) * shape[1]].map { Float($0) } }
    }

    /// Runs the script and returns its stdout; stderr is kept for the error message.
    private func runScript(arguments: [String], model: URL) throws -> Data {
        let process = Process()
        process.executableURL = python
        process.arguments = [script.path] + arguments
        // stderr goes to a file and stdout is drained before waiting, so a full pipe cannot
        // stall the script.
        let errURL = FileManager.default.temporaryDirectory
            .appendingPathComponent("bertc-ort-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).stderr")
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: errURL) }
        let out = Pipe()
        let err = try FileHandle(forWritingTo: errURL)
        defer { try? err.close() }
        process.standardOutput = out
        process.standardError = err
        do { try process.run() } catch {
            throw ONNXRuntimeRunError.unavailable(reason: "cannot start \(python.path): \(FileAccess.reason(for: error))")
        }
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let errData = (try? Data(contentsOf: errURL)) ?? Data()
        guard process.terminationStatus == 0 else {
            let text = String(decoding: errData, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            throw ONNXRuntimeRunError.failed(model: model.path, status: process.terminationStatus,
                                             stderr: String(text.suffix(2000)))
        }
        return outData
    }
}
