// `bertc verify`: loads a bundle (every checksum verified) and compares it with the model it
// came from (bitwise) and with an ONNX export (ONNX Runtime, 1e-5) on sample pairs
// (library: `BundleVerification`).

import ArgumentParser
import BertBundle
import Foundation

struct Verify: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Verify a bundle's checksums and compare it with its model and ONNX export.",
        discussion: """
            Loads the bundle, refusing it when any file is missing, not a regular file, truncated \
            or modified, when the manifest or model config is invalid, when the graph fails \
            verification or a weight is not finite, and runs it on the pairs (every logit must \
            be finite). With \
            --model, runs the model and the bundle on the same pairs and requires bitwise identical \
            logits; with --onnx, runs the ONNX file under ONNX Runtime (the project venv's Python, \
            or $BERTC_PYTHON) and requires a max abs difference of at most 1e-5. Pairs: --input \
            FILE.tsv, else all 408 MRPC dev pairs when the data is found, else built-in pairs. \
            Exits non-zero when a check fails.
            """)

    @Option(help: "The bundle directory.") var bundle: String
    @Option(help: "An ONNX export of the same model to compare with.") var onnx: String?
    @Option(help: "The model or run directory the bundle was exported from.") var model: String?
    @Option(help: "Sample pairs: a TSV with sentence1/sentence2 columns.") var input: String?
    @OptionGroup var output: ReportOptions

    func run() throws {
        let pairs = try SamplePairs.resolve(input: input, limit: .max)
        let report: VerificationReport
        do {
            report = try BundleVerification.run(bundle: URL(fileURLWithPath: bundle), model: model,
                                                onnx: onnx.map { URL(fileURLWithPath: $0) }, pairs: pairs,
                                                onnxRuntime: ONNXRuntimeLocation.runner())
        } catch let error as BundleError where output.json {
            // A refused bundle is a verification result too: still one JSON object on stdout.
            try printJSON(RefusedBundle(bundle: bundle, passed: false, error: error.description))
            throw error
        }
        if output.json {
            try printJSON(report)
        } else {
            print("\(report.bundle): \(report.files.count) files verified (size and sha256)")
            print("ran \(report.pairs) pairs (\(report.pairsSource))")
            for check in report.checks {
                let c = check.comparison
                print("against \(check.against) \(check.path): max abs diff \(c.maxAbsDiff), "
                    + (c.identical ? "bitwise identical" : "not bitwise identical")
                    + ", \(c.differingClasses) differing classes, tolerance \(check.tolerance): "
                    + (check.passed ? "PASS" : "FAIL"))
            }
            if report.checks.isEmpty {
                print("no --model or --onnx given: files, manifest, graph and weights verified and the bundle run "
                    + "(every logit finite); nothing compared")
            }
        }
        guard report.passed else {
            let failed = report.checks.filter { !$0.passed }.map(\.against).joined(separator: ", ")
            throw CheckFailed("verification failed against \(failed)")
        }
    }
}

/// `verify --json` output for a bundle that could not be loaded (tampered, truncated, ...).
private struct RefusedBundle: Encodable {
    var bundle: String
    var passed: Bool
    var error: String
}

/// A parity check that failed: ArgumentParser prints the message and exits with status 1.
struct CheckFailed: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
