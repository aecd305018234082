// `bertc inspect PATH`: what a weights file or bundle holds: safetensors files, TensorFlow
// checkpoints, bertc bundles and ONNX models. Each kind of file is one case of `Inspection`,
// with its own detection, JSON and text. A damaged bundle is listed and then exits non-zero.

import ArgumentParser
import BertBundle
import BertModel
import BertONNX
import Foundation

struct Inspect: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List the tensors of a safetensors file, TensorFlow checkpoint or ONNX model, or a bundle's contents.",
        discussion: """
            PATH is a .safetensors file, a TensorFlow checkpoint (its .index file or its prefix), \
            or a model directory holding either. Prints each tensor's name, dtype and shape and the \
            number of parameters (elements of floating-point tensors). For a bundle directory (one \
            with manifest.json), prints the manifest summary, the serving signature and every file \
            with its size and checksum status, and exits non-zero when any file is damaged. For a \
            .onnx file (checked by libonnx first), prints its inputs, outputs and initializers.
            """)

    @Argument(help: "The file, checkpoint prefix or model directory to inspect.")
    var path: String

    @OptionGroup var output: ReportOptions

    func validate() throws {
        let files = FileManager.default
        guard files.fileExists(atPath: path) || files.fileExists(atPath: path + ".index") else {
            throw ValidationError("\(path): no such file, directory or checkpoint prefix")
        }
    }

    func run() throws {
        let inspection = try Inspection(url: URL(fileURLWithPath: path))
        print(output.json ? try inspection.json() : inspection.text())
        // A damaged bundle is listed (each file's status says what is wrong), then refused.
        if case .bundle(let bundle) = inspection, let damage = bundle.damage { throw damage }
    }
}

/// What `bertc inspect` found at a path, one case per kind of file it understands.
enum Inspection {
    case checkpoint(CheckpointListing)
    case bundle(BundleInspection)
    case onnx(ONNXInspection)

    init(url: URL) throws {
        if BundleInspection.isBundle(url) {
            self = .bundle(try BundleInspection(directory: url))
        } else if ONNXInspection.isONNX(url) {
            self = .onnx(try ONNXInspection(url: url))
        } else {
            self = .checkpoint(try CheckpointListing(url: url))
        }
    }

    /// One JSON object, keys sorted so that the output is stable.
    func json() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        switch self {
        case .checkpoint(let listing):
            return String(decoding: try encoder.encode(listing), as: UTF8.self)
        case .bundle(let inspection):
            return String(decoding: try encoder.encode(inspection), as: UTF8.self)
        case .onnx(let inspection):
            return String(decoding: try encoder.encode(inspection), as: UTF8.self)
        }
    }

    /// An aligned table for people.
    func text() -> String {
        switch self {
        case .checkpoint(let listing):
            let kind = listing.format == .safetensors ? "safetensors" : "TensorFlow checkpoint"
            let width = listing.tensors.map(\.name.count).max() ?? 0
            var lines = ["\(listing.path): \(kind), \(listing.tensors.count) tensors"]
            for tensor in listing.tensors {
                let name = tensor.name.padding(toLength: max(width, tensor.name.count), withPad: " ", startingAt: 0)
                let dtype = tensor.dtype.padding(toLength: 5, withPad: " ", startingAt: 0)
                lines.append("  \(name)  \(dtype) [" + tensor.shape.map(String.init).joined(separator: ", ") + "]")
            }
            lines.append("parameters: \(formatted(listing.parameters))")
            return lines.joined(separator: "\n")
        case .bundle(let inspection):
            return inspection.text
        case .onnx(let inspection):
            return inspection.text
        }
    }
}

/// 11170560 -> "11,170,560".
private func formatted(_ n: Int) -> String {
    let digits = Array(String(n))
    var out = ""
    for (index, digit) in digits.enumerated() {
        if index > 0, (digits.count - index) % 3 == 0 { out.append(",") }
        out.append(digit)
    }
    return out
}
