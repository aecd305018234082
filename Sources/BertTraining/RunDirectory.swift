// A training run's directory:
//   metrics.jsonl                one JSON object per logged step and per evaluation
//   events.out.tfevents.*        TensorBoard scalars (train/loss, train/learning_rate, dev/*)
//   learning_rate.svg, loss.svg  the schedule and the loss curve
//   training.json                the options and optimizer config of the run
//   checkpoint/                  model.safetensors, optimizer.safetensors, state.json;
//                                replaced atomically after every epoch
//   model/                       the fine-tuned model directory (written by the caller)
import BertGraph
import BertModel
import BertRuntime
import BertText
import Foundation

/// What a checkpoint records besides tensors: where the run was, so `--resume` continues it
/// exactly (shuffles are keyed by (seed, epoch) and dropout by (seed, step): no generator
/// state to save).
public struct CheckpointState: Codable, Sendable {
    public var epoch: Int
    public var step: Int
    public var seed: UInt64
    public var trainSeconds: Double
    public var options: TrainingOptions
    public var evaluations: [EpochEvaluation]

    enum CodingKeys: String, CodingKey {
        case epoch, step, seed, trainSeconds = "train_seconds", options, evaluations
    }
}

/// Writes and reads a run directory.
public final class RunDirectory {
    public let url: URL
    private var board: TensorBoardWriter?

    public init(_ url: URL) {
        self.url = url
    }

    public var checkpointURL: URL { url.appendingPathComponent("checkpoint") }
    public var modelURL: URL { url.appendingPathComponent(ModelDirectory.runModelFolder) }
    public var metricsURL: URL { url.appendingPathComponent("metrics.jsonl") }

    /// The checkpoint's path when one exists (for error messages).
    public var checkpointPathIfPresent: String? {
        FileManager.default.fileExists(atPath: checkpointURL.appendingPathComponent("state.json").path) ? checkpointURL.path : nil
    }

    /// Starts a fresh run: refuses a directory that already holds one (use --resume or another
    /// directory), so no good run is overwritten.
    func prepare(options: TrainingOptions, optimization: OptimizationConfig) throws {
        let fm = FileManager.default
        if fm.fileExists(atPath: metricsURL.path) || checkpointPathIfPresent != nil {
            throw TrainingError.io(url.path, "it already holds a run; pass --resume to continue it or choose another --out")
        }
        do {
            try fm.createDirectory(at: url, withIntermediateDirectories: true)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            struct Recipe: Encodable { var options: TrainingOptions; var optimization: OptimizationConfig }
            try encoder.encode(Recipe(options: options, optimization: optimization))
                .write(to: url.appendingPathComponent("training.json"), options: .atomic)
        } catch let error as TrainingError { throw error } catch {
            throw TrainingError.io(url.path, FileAccess.reason(for: error))
        }
    }

    // MARK: - Logs

    func logStep(step: Int, epoch: Int, loss: Float, learningRate: Double, gradientNorm: Double,
                 examplesPerSecond: Double) throws {
        try appendMetrics(["kind": "train", "step": step, "epoch": epoch, "loss": Double(loss),
                           "learning_rate": learningRate, "grad_norm": gradientNorm,
                           "examples_per_second": examplesPerSecond])
        try tensorBoard().scalars([("train/loss", loss), ("train/learning_rate", Float(learningRate)),
                                   ("train/grad_norm", Float(gradientNorm))], step: step)
    }

    func logEvaluation(_ e: Evaluation, epoch: Int, step: Int) throws {
        var object: [String: Any] = ["kind": "eval", "split": "dev", "epoch": epoch, "step": step,
                                     "loss": e.loss, "examples": e.examples]
        var scalars: [(String, Float)] = [("dev/loss", Float(e.loss))]
        for (name, value) in [("accuracy", e.accuracy), ("f1", e.f1), ("matthews", e.matthews),
                              ("pearson", e.pearson), ("spearman", e.spearman)] {
            guard let value else { continue }
            object[name] = value
            scalars.append(("dev/\(name)", Float(value)))
        }
        try appendMetrics(object)
        try tensorBoard().scalars(scalars.map { (tag: $0.0, value: $0.1) }, step: step)
    }

    private func appendMetrics(_ object: [String: Any]) throws {
        do {
            var line = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
            line.append(0x0A)
            if !FileManager.default.fileExists(atPath: metricsURL.path),
               !FileManager.default.createFile(atPath: metricsURL.path, contents: nil) {
                throw TrainingError.io(metricsURL.path, "cannot create the file")
            }
            let handle = try FileHandle(forWritingTo: metricsURL)
            defer { try? handle.close() }
            try handle.seekToEnd()
            try handle.write(contentsOf: line)
        } catch {
            throw TrainingError.io(metricsURL.path, FileAccess.reason(for: error))
        }
    }

    private func tensorBoard() throws -> TensorBoardWriter {
        if let board { return board }
        let made = try TensorBoardWriter(directory: url)
        board = made
        return made
    }

    /// The learning-rate schedule over the whole run and the logged loss curve, as SVG.
    func writePlots(totalSteps: Int, optimizer: AdamW) throws {
        let every = max(1, totalSteps / 400)
        let schedule = stride(from: 0, through: totalSteps, by: every).map { (x: Double($0), y: optimizer.schedule($0)) }
        // The whole run's curve from metrics.jsonl, including steps logged before a resume.
        let text = (try? String(contentsOf: metricsURL, encoding: .utf8)) ?? ""
        let losses = text.split(separator: "\n").compactMap { line -> (x: Double, y: Double)? in
            guard let o = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                  o["kind"] as? String == "train", let s = o["step"] as? Int, let l = o["loss"] as? Double else { return nil }
            return (Double(s), l)
        }
        do {
            try CurvePlot(title: "Learning rate", xLabel: "step", yLabel: "learning rate", points: schedule).svg()
                .write(to: url.appendingPathComponent("learning_rate.svg"), atomically: true, encoding: .utf8)
            try CurvePlot(title: "Training loss", xLabel: "step", yLabel: "loss", points: losses).svg()
                .write(to: url.appendingPathComponent("loss.svg"), atomically: true, encoding: .utf8)
        } catch {
            throw TrainingError.io(url.path, FileAccess.reason(for: error))
        }
    }

    // MARK: - Checkpoints

    /// Writes parameters, optimizer moments and state into a staging folder, then swaps it in.
    func saveCheckpoint(parameters: ParameterStore, optimizer: AdamW, state: CheckpointState) throws {
        let staging = url.appendingPathComponent(".checkpoint.partial")
        let fm = FileManager.default
        do {
            try? fm.removeItem(at: staging)
            try fm.createDirectory(at: staging, withIntermediateDirectories: true)
            var tensors: [String: HostTensor] = [:]
            for name in parameters.names { tensors[name] = parameters.tensor(name)! }
            try SafetensorsWriter.write(tensors, to: staging.appendingPathComponent("model.safetensors"))
            let s = optimizer.state
            try SafetensorsWriter.write(["adam.m": HostTensor(shape: [s.m.count], floats: s.m),
                                         "adam.v": HostTensor(shape: [s.v.count], floats: s.v)],
                                        metadata: ["step": String(s.step)],
                                        to: staging.appendingPathComponent("optimizer.safetensors"))
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try encoder.encode(state).write(to: staging.appendingPathComponent("state.json"))
            try ModelDirectory.replace(checkpointURL, with: staging)
        } catch {
            try? fm.removeItem(at: staging)
            throw TrainingError.io(checkpointURL.path, "\(error)")
        }
    }

    /// Restores parameters and optimizer state; the run's options must match the checkpoint's.
    func loadCheckpoint(parameters: ParameterStore, optimizer: AdamW, options: TrainingOptions) throws -> CheckpointState {
        let path = checkpointURL.path
        guard let data = try? Data(contentsOf: checkpointURL.appendingPathComponent("state.json")) else {
            throw TrainingError.badCheckpoint(path, "no checkpoint/state.json: nothing to resume")
        }
        let state: CheckpointState
        do { state = try JSONDecoder().decode(CheckpointState.self, from: data) } catch {
            throw TrainingError.badCheckpoint(path, "state.json is unreadable: \(error)")
        }
        var saved = state.options, asked = options
        saved.epochs = 0; asked.epochs = 0
        guard saved == asked else {
            throw TrainingError.badCheckpoint(path, "the run was started with other options (\(state.options)); resume with the same ones")
        }
        let weights = try SafetensorsReader(url: checkpointURL.appendingPathComponent("model.safetensors"))
        for name in parameters.names { try parameters.set(name, weights.read(name)) }
        let moments = try SafetensorsReader(url: checkpointURL.appendingPathComponent("optimizer.safetensors"))
        guard let m = try moments.read("adam.m").floats, let v = try moments.read("adam.v").floats else {
            throw TrainingError.badCheckpoint(path, "optimizer moments are not f32")
        }
        try optimizer.restore(OptimizerState(m: m, v: v, step: state.step))
        return state
    }
}
