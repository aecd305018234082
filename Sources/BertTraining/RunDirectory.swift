// A training run's directory:
//   training.json                the task, options and optimizer config of the run
//   metrics.jsonl                one JSON object per logged step and per evaluation
//   events.out.tfevents.*        TensorBoard scalars (train/loss, train/learning_rate, dev/*)
//   learning_rate.svg, loss.svg  the schedule and the loss curve
//   checkpoints/epoch-N/         model.safetensors, optimizer.safetensors, state.json
//   checkpoint                   a symbolic link to the published checkpoint folder
//   model/                       the fine-tuned model directory (written by the caller)
//
// Crash consistency: a checkpoint is written into a staging folder, renamed to its own
// folder, and published by one atomic rename of a new `checkpoint` link over the old one, so
// a kill at any instant leaves either the old or the new checkpoint published, never none.
// Each checkpoint records how long metrics.jsonl and the event file were when it was made;
// resuming truncates both to those lengths, so no step is logged twice. `recover()` removes
// what a killed run left (staging folders, unpublished checkpoints, temporary links).
import BertGraph
import BertModel
import BertRuntime
import BertText
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// What a checkpoint records besides tensors: where the run was, so `--resume` continues it
/// exactly (shuffles are keyed by (seed, epoch) and dropout by (seed, step): no generator
/// state to save), and how far the logs had got.
public struct CheckpointState: Codable, Sendable {
    public var epoch: Int
    public var step: Int
    public var seed: UInt64
    public var trainSeconds: Double
    public var options: TrainingOptions
    public var optimization: OptimizationConfig?
    public var evaluations: [EpochEvaluation]
    /// Bytes of metrics.jsonl when the checkpoint was made.
    public var metricsBytes: Int?
    /// The event file's name and its bytes when the checkpoint was made.
    public var eventsFile: String?
    public var eventsBytes: Int?
    /// Losses of the steps since the last logged line (the next line logs their mean).
    public var unloggedLosses: [Float]?

    enum CodingKeys: String, CodingKey {
        case epoch, step, seed, trainSeconds = "train_seconds", options, optimization, evaluations
        case metricsBytes = "metrics_bytes", eventsFile = "events_file", eventsBytes = "events_bytes"
        case unloggedLosses = "unlogged_losses"
    }
}

/// The settings a run was started with (`training.json`).
public struct RunRecipe: Codable, Sendable {
    public var task: String?
    public var options: TrainingOptions
    public var optimization: OptimizationConfig
}

/// Writes and reads a run directory.
public final class RunDirectory {
    public let url: URL
    private var board: TensorBoardWriter?
    /// The event file and length to continue after a resume.
    private var resumeEvents: (name: String, bytes: Int)?

    /// The most bytes `training.json` or a checkpoint's `state.json` may have.
    static let maximumRecordSize = 16 << 20

    public init(_ url: URL) {
        self.url = url
    }

    /// The published checkpoint (a link to a folder of `checkpoints/`).
    public var checkpointURL: URL { url.appendingPathComponent("checkpoint") }
    public var checkpointsURL: URL { url.appendingPathComponent("checkpoints") }
    public var modelURL: URL { url.appendingPathComponent(ModelDirectory.runModelFolder) }
    public var metricsURL: URL { url.appendingPathComponent("metrics.jsonl") }
    public var recipeURL: URL { url.appendingPathComponent("training.json") }

    /// The checkpoint's path when one is published (for error messages).
    public var checkpointPathIfPresent: String? {
        guard publishedFolderName() != nil || isLegacyCheckpoint() else { return nil }
        return FileManager.default.fileExists(atPath: checkpointURL.appendingPathComponent("state.json").path) ? checkpointURL.path : nil
    }

    /// The settings the run in this directory was started with, when it holds one.
    public func savedRecipe() throws -> RunRecipe? {
        guard FileManager.default.fileExists(atPath: recipeURL.path) else { return nil }
        do {
            let data = try FileAccess.read(recipeURL.path, limit: Self.maximumRecordSize, what: "a training.json")
            return try JSONDecoder().decode(RunRecipe.self, from: data)
        } catch {
            throw TrainingError.badCheckpoint(recipeURL.path, "it is not a readable training.json (\(FileAccess.reason(for: error)))")
        }
    }

    /// Starts a fresh run: refuses a directory that already holds one (use --resume or another
    /// directory), so no good run is overwritten.
    func prepare(task: String?, options: TrainingOptions, optimization: OptimizationConfig) throws {
        let fm = FileManager.default
        if checkpointPathIfPresent != nil {
            throw TrainingError.io(url.path, "it already holds a run; pass --resume to continue it or choose another --out")
        }
        if fm.fileExists(atPath: metricsURL.path) || fm.fileExists(atPath: recipeURL.path) {
            throw TrainingError.io(url.path, "it holds a run that stopped before its first checkpoint; pass --resume to "
                + "start it again from the beginning or choose another --out")
        }
        try writeRecipe(task: task, options: options, optimization: optimization)
    }

    /// Starts the run again from the beginning: the logs of an attempt that never published
    /// a checkpoint describe nothing that was kept.
    func restart(task: String?, options: TrainingOptions, optimization: OptimizationConfig) throws {
        let fm = FileManager.default
        for name in (try? fm.contentsOfDirectory(atPath: url.path)) ?? []
        where name == "metrics.jsonl" || name.hasPrefix("events.out.tfevents.") || name.hasSuffix(".svg") {
            try? fm.removeItem(at: url.appendingPathComponent(name))
        }
        CrashPoints.reached("run.restart-cleared")
        try writeRecipe(task: task, options: options, optimization: optimization)
    }

    private func writeRecipe(task: String?, options: TrainingOptions, optimization: OptimizationConfig) throws {
        try lock()
        do {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try encoder.encode(RunRecipe(task: task, options: options, optimization: optimization))
                .write(to: recipeURL, options: .atomic)
        } catch let error as TrainingError { throw error } catch {
            throw TrainingError.io(url.path, FileAccess.reason(for: error))
        }
        CrashPoints.reached("run.recipe-written")
    }

    // MARK: - Recovery

    private var lockDescriptor: Int32 = -1

    deinit {
        if lockDescriptor >= 0 { close(lockDescriptor) }
    }

    /// Takes the run's lock (`.lock`, held until the process ends), so two processes never
    /// write one run directory.
    func lock() throws {
        guard lockDescriptor < 0 else { return }
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        let path = url.appendingPathComponent(".lock").path
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw TrainingError.io(path, String(cString: strerror(errno))) }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            close(fd)
            throw TrainingError.io(url.path, "another bertc process is training in this run directory")
        }
        lockDescriptor = fd
    }

    /// Removes what a killed run left behind: checkpoint staging folders, checkpoint folders
    /// that were never published or have been superseded, temporary links, and the staging
    /// folders of model saves whose process is gone. When no checkpoint is published but a
    /// complete one exists, publishes the newest.
    func recover() throws {
        let fm = FileManager.default
        guard fm.fileExists(atPath: url.path) else { return }
        try lock()
        for name in (try? fm.contentsOfDirectory(atPath: url.path)) ?? [] where Self.isLeftover(name) {
            try? fm.removeItem(at: url.appendingPathComponent(name))
        }
        guard fm.fileExists(atPath: checkpointsURL.path) else { return }
        let folders = ((try? fm.contentsOfDirectory(atPath: checkpointsURL.path)) ?? []).sorted()
        var published = publishedFolderName()
        if published == nil, isLegacyCheckpoint() == false,
           let newest = folders.filter({ Self.epochNumber($0) != nil && isComplete($0) })
                .max(by: { Self.epochNumber($0)! < Self.epochNumber($1)! }) {
            try publish(folder: newest)
            published = newest
        }
        for name in folders where name != published {
            try? fm.removeItem(at: checkpointsURL.appendingPathComponent(name))
        }
    }

    /// `.checkpoint.link-PID`, `.checkpoint.partial`, `.checkpoint.old-PID`, `.model.partial-PID`,
    /// `.model.old-PID` of processes that are gone, and the temporary files of atomic writes
    /// (Foundation's `.dat.nosync*`, `SafetensorsWriter`'s `.NAME.tmp-*`); the run's lock
    /// keeps any other process out while these are removed.
    private static func isLeftover(_ name: String) -> Bool {
        if name.hasPrefix(".dat.nosync") || (name.hasPrefix(".") && name.contains(".tmp-")) { return true }
        guard name.hasPrefix(".checkpoint.") || name.hasPrefix(".model.") else { return false }
        guard let dash = name.lastIndex(of: "-"), let pid = Int32(name[name.index(after: dash)...]) else {
            return name == ".checkpoint.partial"
        }
        return pid != getpid() && kill(pid, 0) != 0 && errno == ESRCH
    }

    private static func epochNumber(_ folder: String) -> Int? {
        folder.hasPrefix("epoch-") ? Int(folder.dropFirst("epoch-".count)) : nil
    }

    private func isComplete(_ folder: String) -> Bool {
        let dir = checkpointsURL.appendingPathComponent(folder)
        return ["model.safetensors", "optimizer.safetensors", "state.json"].allSatisfy {
            FileManager.default.fileExists(atPath: dir.appendingPathComponent($0).path)
        }
    }

    /// The folder of `checkpoints/` that the `checkpoint` link names, if it is one.
    private func publishedFolderName() -> String? {
        guard let target = try? FileManager.default.destinationOfSymbolicLink(atPath: checkpointURL.path) else { return nil }
        let parts = target.split(separator: "/")
        guard parts.count == 2, parts[0] == "checkpoints", Self.epochNumber(String(parts[1])) != nil else { return nil }
        return String(parts[1])
    }

    /// A checkpoint written as a plain `checkpoint/` folder by earlier versions.
    private func isLegacyCheckpoint() -> Bool {
        var isDir: ObjCBool = false
        let isLink = (try? FileManager.default.destinationOfSymbolicLink(atPath: checkpointURL.path)) != nil
        return !isLink && FileManager.default.fileExists(atPath: checkpointURL.path, isDirectory: &isDir) && isDir.boolValue
    }

    /// Points `checkpoint` at `checkpoints/<folder>` with one atomic rename.
    private func publish(folder: String) throws {
        let link = url.appendingPathComponent(".checkpoint.link-\(getpid())")
        unlink(link.path)
        guard symlink("checkpoints/\(folder)", link.path) == 0 else {
            throw TrainingError.io(link.path, "cannot create the checkpoint link: \(String(cString: strerror(errno)))")
        }
        CrashPoints.reached("checkpoint.link-made")
        if isLegacyCheckpoint() {
            // A plain folder cannot be replaced by a link in one rename: it becomes a
            // superseded folder of checkpoints/ (removed below); recovery publishes the newest
            // complete folder if a kill lands in between.
            let moved = checkpointsURL.appendingPathComponent("superseded-\(getpid())")
            guard rename(checkpointURL.path, moved.path) == 0 else {
                throw TrainingError.io(checkpointURL.path, "cannot move the earlier checkpoint: \(String(cString: strerror(errno)))")
            }
            CrashPoints.reached("checkpoint.legacy-moved")
        }
        guard rename(link.path, checkpointURL.path) == 0 else {
            throw TrainingError.io(checkpointURL.path, "cannot publish the checkpoint: \(String(cString: strerror(errno)))")
        }
        CrashPoints.reached("checkpoint.published")
    }

    // MARK: - Logs

    func logStep(step: Int, epoch: Int, loss: Float, learningRate: Double, gradientNorm: Double,
                 examplesPerSecond: Double) throws {
        try appendMetrics(["kind": "train", "step": step, "epoch": epoch, "loss": Double(loss),
                           "learning_rate": learningRate, "grad_norm": gradientNorm,
                           "examples_per_second": examplesPerSecond])
        try tensorBoard().scalars([("train/loss", loss), ("train/learning_rate", Float(learningRate)),
                                   ("train/grad_norm", Float(gradientNorm))], step: step)
        CrashPoints.reached("log.step-written")
    }

    func logEvaluation(_ e: Evaluation, epoch: Int, step: Int) throws {
        var object: [String: Any] = ["kind": "eval", "split": "dev", "epoch": epoch, "step": step,
                                     "loss": e.loss, "examples": e.examples]
        var scalars: [(String, Float)] = [("dev/loss", Float(e.loss))]
        for (name, value) in [("exact_match", e.exactMatch), ("accuracy", e.accuracy), ("f1", e.f1), ("matthews", e.matthews),
                              ("pearson", e.pearson), ("spearman", e.spearman)] {
            guard let value else { continue }
            object[name] = value
            scalars.append(("dev/\(name)", Float(value)))
        }
        try appendMetrics(object)
        try tensorBoard().scalars(scalars.map { (tag: $0.0, value: $0.1) }, step: step)
        CrashPoints.reached("log.evaluation-written")
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
        let made: TensorBoardWriter
        if let resumeEvents {
            made = try TensorBoardWriter(continuing: url.appendingPathComponent(resumeEvents.name), at: resumeEvents.bytes)
        } else {
            made = try TensorBoardWriter(directory: url)
        }
        board = made
        return made
    }

    /// Cuts metrics.jsonl and the event file back to what they held when `state` was saved,
    /// so a resumed run logs every step once.
    private func truncateLogs(to state: CheckpointState) throws {
        let fm = FileManager.default
        if let bytes = state.metricsBytes {
            let size = (try? fm.attributesOfItem(atPath: metricsURL.path)[.size] as? Int) ?? 0
            guard size >= bytes else {
                throw TrainingError.badCheckpoint(metricsURL.path, "it holds \(size) bytes, fewer than the \(bytes) the checkpoint recorded")
            }
            guard truncate(metricsURL.path, off_t(bytes)) == 0 || bytes == 0 else {
                throw TrainingError.io(metricsURL.path, String(cString: strerror(errno)))
            }
        } else if let text = try? String(contentsOf: metricsURL, encoding: .utf8) {
            // A checkpoint of an earlier version: keep the lines up to its step.
            let kept = text.split(separator: "\n").filter { line in
                guard let o = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                      let s = o["step"] as? Int else { return false }
                return s <= state.step && !(o["kind"] as? String == "eval" && (o["epoch"] as? Int ?? 0) > state.epoch)
            }
            try Data(kept.map { $0 + "\n" }.joined().utf8).write(to: metricsURL, options: .atomic)
        }
        if let name = state.eventsFile, let bytes = state.eventsBytes {
            guard !name.contains("/"), name.hasPrefix("events.out.tfevents.") else {
                throw TrainingError.badCheckpoint(checkpointURL.path, "state.json names the event file \(name)")
            }
            let events = url.appendingPathComponent(name)
            let size = (try? fm.attributesOfItem(atPath: events.path)[.size] as? Int) ?? -1
            if size >= bytes {
                guard truncate(events.path, off_t(bytes)) == 0 else {
                    throw TrainingError.io(events.path, String(cString: strerror(errno)))
                }
                resumeEvents = (name, bytes)
            }
        }
        CrashPoints.reached("log.truncated")
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
            CrashPoints.reached("plot.learning-rate-written")
            try CurvePlot(title: "Training loss", xLabel: "step", yLabel: "loss", points: losses).svg()
                .write(to: url.appendingPathComponent("loss.svg"), atomically: true, encoding: .utf8)
            CrashPoints.reached("plot.loss-written")
        } catch {
            throw TrainingError.io(url.path, FileAccess.reason(for: error))
        }
    }

    // MARK: - Checkpoints

    /// Writes parameters, optimizer moments and state into a staging folder, renames it to
    /// `checkpoints/epoch-N`, publishes it and removes the one it supersedes.
    func saveCheckpoint(parameters: ParameterStore, optimizer: AdamW, state: CheckpointState) throws {
        let fm = FileManager.default
        let staging = checkpointsURL.appendingPathComponent(".partial-\(getpid())")
        let folder = "epoch-\(state.epoch)"
        let final = checkpointsURL.appendingPathComponent(folder)
        var state = state
        state.metricsBytes = (try? fm.attributesOfItem(atPath: metricsURL.path)[.size] as? Int) ?? 0
        if let board {
            state.eventsFile = board.url.lastPathComponent
            state.eventsBytes = board.bytesWritten
        }
        do {
            try? fm.removeItem(at: staging)
            try fm.createDirectory(at: staging, withIntermediateDirectories: true)
            CrashPoints.reached("checkpoint.staging-made")
            var tensors: [String: HostTensor] = [:]
            for name in parameters.names { tensors[name] = parameters.tensor(name)! }
            try SafetensorsWriter.write(tensors, to: staging.appendingPathComponent("model.safetensors"))
            CrashPoints.reached("checkpoint.weights-written")
            let s = optimizer.state
            try SafetensorsWriter.write(["adam.m": HostTensor(shape: [s.m.count], floats: s.m),
                                         "adam.v": HostTensor(shape: [s.v.count], floats: s.v)],
                                        metadata: ["step": String(s.step)],
                                        to: staging.appendingPathComponent("optimizer.safetensors"))
            CrashPoints.reached("checkpoint.moments-written")
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try encoder.encode(state).write(to: staging.appendingPathComponent("state.json"), options: .atomic)
            CrashPoints.reached("checkpoint.state-written")
            guard publishedFolderName() != folder else {
                throw TrainingError.io(final.path, "the published checkpoint already has this name")
            }
            try? fm.removeItem(at: final)
            guard rename(staging.path, final.path) == 0 else {
                throw TrainingError.io(final.path, String(cString: strerror(errno)))
            }
            CrashPoints.reached("checkpoint.folder-renamed")
            try publish(folder: folder)
        } catch {
            try? fm.removeItem(at: staging)
            if let error = error as? TrainingError { throw error }
            throw TrainingError.io(checkpointURL.path, FileAccess.reason(for: error))
        }
        for name in (try? fm.contentsOfDirectory(atPath: checkpointsURL.path)) ?? [] where name != folder {
            try? fm.removeItem(at: checkpointsURL.appendingPathComponent(name))
        }
        CrashPoints.reached("checkpoint.superseded-removed")
    }

    /// Restores parameters and optimizer state after checking that the checkpoint belongs
    /// to a run with these settings and that its state is one this run can reach.
    func loadCheckpoint(parameters: ParameterStore, optimizer: AdamW, options: TrainingOptions,
                        optimization: OptimizationConfig, totalSteps: Int) throws -> CheckpointState {
        let path = checkpointURL.path
        let stateURL = checkpointURL.appendingPathComponent("state.json")
        guard let data = try? FileAccess.read(stateURL.path, limit: Self.maximumRecordSize, what: "a state.json") else {
            throw TrainingError.badCheckpoint(path, "no checkpoint/state.json: nothing to resume")
        }
        let state: CheckpointState
        do { state = try JSONDecoder().decode(CheckpointState.self, from: data) } catch {
            throw TrainingError.badCheckpoint(path + "/state.json", "it is unreadable: \(FileAccess.reason(for: error))")
        }
        let changed = Self.differences(saved: state.options, asked: options, prefix: "")
            + (state.optimization.map { Self.differences(saved: $0, asked: optimization, prefix: "optimization.") } ?? [])
        guard changed.isEmpty else {
            throw TrainingError.badCheckpoint(path, "the run was started with other settings (\(changed.joined(separator: "; "))); "
                + "a resumed run keeps its settings: drop those options or start a new run")
        }
        guard (0...options.epochs).contains(state.epoch), (0...totalSteps).contains(state.step),
              state.evaluations.count == state.epoch + 1,
              state.trainSeconds.isFinite, state.trainSeconds >= 0 else {
            throw TrainingError.badCheckpoint(path + "/state.json", "epoch \(state.epoch), step \(state.step) and "
                + "\(state.evaluations.count) evaluations do not describe a point of this run "
                + "(\(options.epochs) epochs, \(totalSteps) steps)")
        }
        let weights = try SafetensorsReader(url: checkpointURL.appendingPathComponent("model.safetensors"))
        for name in parameters.names { try parameters.set(name, weights.read(name)) }
        let moments = try SafetensorsReader(url: checkpointURL.appendingPathComponent("optimizer.safetensors"))
        guard let m = try moments.read("adam.m").floats, let v = try moments.read("adam.v").floats else {
            throw TrainingError.badCheckpoint(path, "optimizer moments are not f32")
        }
        try optimizer.restore(OptimizerState(m: m, v: v, step: state.step))
        try truncateLogs(to: state)
        return state
    }

    /// "max_seq_length 64 (asked 128)" for every top-level field that differs.
    static func differences<T: Encodable>(saved: T, asked: T, prefix: String) -> [String] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        func flat(_ value: T) -> [String: String] {
            guard let data = try? encoder.encode(value),
                  let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return [:] }
            var out: [String: String] = [:]
            func walk(_ v: Any, _ key: String) {
                if let o = v as? [String: Any] {
                    for (k, x) in o { walk(x, key.isEmpty ? k : key + "." + k) }
                } else if let data = try? JSONSerialization.data(withJSONObject: [v], options: [.sortedKeys]),
                          let text = String(data: data, encoding: .utf8) {
                    out[key] = String(text.dropFirst().dropLast())
                }
            }
            walk(object, "")
            return out
        }
        let a = flat(saved), b = flat(asked)
        return Set(a.keys).union(b.keys).sorted().compactMap { key in
            a[key] == b[key] ? nil : "\(prefix)\(key) \(a[key] ?? "unset") (asked \(b[key] ?? "unset"))"
        }
    }
}
