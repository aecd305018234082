// Where `bertc export` and `bertc verify` find ONNX Runtime: the script `tools/ort_run.py` and
// a Python interpreter with the onnxruntime package, both in the repository bertc is run from
// or was built in (the interpreter is the project venv's, `.venv/bin/python`; the repository
// is found by `Repository.root`).
// `$BERTC_ORT_RUNNER` names the script and `$BERTC_PYTHON` the interpreter instead.

import BertONNX
import Foundation

enum ONNXRuntimeLocation {
    /// The environment variable naming the Python interpreter.
    static let pythonVariable = "BERTC_PYTHON"
    /// The environment variable naming the runner script.
    static let scriptVariable = "BERTC_ORT_RUNNER"

    /// The runner, or why there is none (`ONNXRuntimeRunError.unavailable`, saying what is
    /// missing and how to get it).
    static func runner(environment: [String: String] = ProcessInfo.processInfo.environment)
        -> Result<ONNXRuntimeRunner, ONNXRuntimeRunError> {
        Result { () throws(ONNXRuntimeRunError) in try locate(environment) }
    }

    private static func locate(_ environment: [String: String]) throws(ONNXRuntimeRunError) -> ONNXRuntimeRunner {
        func given(_ name: String) -> URL? {
            environment[name].flatMap { $0.isEmpty ? nil : URL(fileURLWithPath: $0) }
        }
        let root = Repository.root(containing: "tools/ort_run.py")
        guard let script = given(scriptVariable) ?? root?.appendingPathComponent("tools/ort_run.py") else {
            throw .unavailable(reason: "tools/ort_run.py not found above the current directory or the bertc executable")
        }
        guard FileManager.default.fileExists(atPath: script.path) else {
            throw .unavailable(reason: "no script at \(script.path) (\(scriptVariable))")
        }
        let candidate = given(pythonVariable) ?? root?.appendingPathComponent(".venv/bin/python")
        guard let python = candidate, FileManager.default.isExecutableFile(atPath: python.path) else {
            let place = candidate.map { " at \($0.path)" } ?? ""
            throw .unavailable(reason: "no Python\(place) (run tools/setup.sh venv, or set \(pythonVariable))")
        }
        return ONNXRuntimeRunner(python: python, script: script)
    }
}
