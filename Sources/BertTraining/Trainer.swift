// Fine-tuning: the training graph (forward, loss, backward from Differentiate) run by one
// interpreter per (batch, bucket) shape, AdamW as one fused update over the contiguous
// parameter buffer, evaluation before training and after every epoch, and a run directory
// with metrics.jsonl, TensorBoard events, SVG curves and an atomically replaced checkpoint.
import BertGraph
import BertModel
import BertPasses
import BertRuntime
import Foundation

/// What a finished run reports (`bertc train --json` prints it).
public struct TrainingSummary: Codable, Sendable {
    public var accuracy: Double?
    /// As `Evaluation.f1`: 0-1 for classification, x100 for SQuAD.
    public var f1: Double?
    public var exactMatch: Double?
    public var loss: Double
    public var trainSeconds: Double
    public var steps: Int
    public var epochs: Int
    public var examplesPerSecond: Double
    public var evaluations: [EpochEvaluation]

    enum CodingKeys: String, CodingKey {
        case accuracy, f1, exactMatch = "exact_match", loss, trainSeconds = "train_seconds", steps, epochs
        case examplesPerSecond = "examples_per_second", evaluations
    }
}

/// The dev evaluation after `epoch` epochs (0: before training).
public struct EpochEvaluation: Codable, Sendable {
    public var epoch: Int
    public var step: Int
    public var evaluation: Evaluation
}

/// Fine-tunes a model's parameters in place.
public final class Trainer {
    public let config: BertConfig
    public let head: TaskHead
    public let options: TrainingOptions
    public let optimization: OptimizationConfig
    public let parameters: ParameterStore
    public let trainingGraph: Graph
    private let gradients: ParameterStore
    private let interpreters: InterpreterCache
    private let evaluator: Evaluator

    /// - Parameters:
    ///   - parameters: the model's weights, updated in place by `train`.
    ///   - spanScorer: for the span head, what turns dev logits into exact match and F1.
    public init(config: BertConfig, head: TaskHead, parameters: ParameterStore,
                options: TrainingOptions, optimization: OptimizationConfig, spanScorer: SpanScorer? = nil) throws {
        self.config = config
        self.head = head
        self.options = options
        self.optimization = optimization
        self.parameters = parameters
        trainingGraph = try ModelCompiler.graph(config, head: head, mode: .train, packedTokens: options.packTokens > 0)
        gradients = try ParameterStore.matching(trainingGraph)
        for name in parameters.names where gradients.slot(name) != parameters.slot(name) {
            throw TrainingError.badCheckpoint(name, "gradient and parameter layouts differ")
        }
        // Batches visit the buckets in random order: keep every shape's interpreter (per
        // bucket: a full and a short batch, and with packed tokens each row count).
        let packedShapes = options.packTokens > 0 ? options.batchSize * options.maxSequenceLength / options.packTokens + 1 : 1
        interpreters = InterpreterCache(graph: trainingGraph,
                                        limit: max(2 * options.effectiveBuckets.count * packedShapes, 4),
                                        planner: ModelCompiler.plan)
        evaluator = try Evaluator(config: config, head: head, batchSize: options.evalBatchSize,
                                  buckets: options.effectiveBuckets, spanScorer: spanScorer)
    }

    /// Evaluates the current parameters.
    public func evaluate(_ examples: [EncodedExample]) throws -> Evaluation {
        try evaluator.evaluate(examples, parameters: parameters)
    }

    /// Trains for `options.epochs` epochs, evaluating on `dev` before training and after
    /// every epoch, writing the run directory as it goes.
    /// - Parameters:
    ///   - resume: continue from `run/checkpoint` (bit-identical to an uninterrupted run); a
    ///     run that never published a checkpoint starts again from the beginning.
    ///   - stopAfterEpoch: end after this many epochs as if interrupted (the schedule still
    ///     spans `options.epochs`); a later `resume` continues the run.
    ///   - task: the task's name, recorded in the run's `training.json`.
    public func train(train: [EncodedExample], dev: [EncodedExample], run: RunDirectory, resume: Bool,
                      stopAfterEpoch: Int? = nil, task: String? = nil) throws -> TrainingSummary {
        guard !train.isEmpty else { throw TrainingError.noExamples("the training set") }
        let batcher = LengthBatcher(buckets: options.effectiveBuckets, batchSize: options.batchSize, seed: options.seed,
                                    groupBatches: options.groupBatches)
        let lengths = train.map(\.length)
        let stepsPerEpoch = batcher.batches(lengths: lengths, epoch: 0).count
        let totalSteps = stepsPerEpoch * options.epochs
        let optimizer = try AdamW(config: optimization, slots: parameters.names.map { ($0, parameters.slot($0)!) },
                                  count: parameters.count, totalSteps: totalSteps)
        var step = 0
        var firstEpoch = 0
        var evaluations: [EpochEvaluation] = []
        var trainSeconds = 0.0
        var recentLoss: [Float] = []
        try run.recover()
        let progress = ProgressReporter(totalSteps: totalSteps)
        let continuing = resume && run.checkpointPathIfPresent != nil
        if continuing {
            let state = try run.loadCheckpoint(parameters: parameters, optimizer: optimizer, options: options,
                                               optimization: optimization, totalSteps: totalSteps)
            step = state.step
            firstEpoch = state.epoch
            evaluations = state.evaluations
            trainSeconds = state.trainSeconds
            recentLoss = state.unloggedLosses ?? []
        } else if resume {
            progress.line("\(run.url.path) holds no checkpoint yet: starting the run from the beginning")
            try run.restart(task: task, options: options, optimization: optimization)
        } else {
            try run.prepare(task: task, options: options, optimization: optimization)
        }

        if !continuing {
            let before = try evaluate(dev)
            guard before.loss.isFinite else {
                throw TrainingError.nonFiniteLoss(step: 0, epoch: -1, value: Float(before.loss), checkpoint: nil)
            }
            evaluations.append(EpochEvaluation(epoch: 0, step: 0, evaluation: before))
            progress.line("dev before training: \(before.summary)")
            try run.logEvaluation(before, epoch: 0, step: 0)
        }

        for epoch in firstEpoch..<min(options.epochs, stopAfterEpoch ?? options.epochs) {
            var epochExamples = 0
            let epochStart = Date()
            for batch in batcher.batches(lengths: lengths, epoch: epoch) {
                let examples = batch.indices.map { train[$0] }
                let stepStart = Date()
                var bindings = ["batch": examples.count, "seq": batch.sequenceLength]
                if options.packTokens > 0 {
                    bindings["tokens"] = InputBatch.packedRowCount(lengths: examples.map(\.length), sequenceLength: batch.sequenceLength,
                                                                   quantum: options.packTokens)
                }
                let interpreter = try interpreters.interpreter(bindings: bindings)
                let inputs = InputBatch.make(examples, sequenceLength: batch.sequenceLength, head: head, packedRows: bindings["tokens"])
                let out = try interpreter.run(inputs: inputs, parameters: parameters, gradients: gradients,
                                              seed: options.seed, step: step)
                let loss = out[GraphNames.loss]!.floats![0]
                guard loss.isFinite else {
                    throw TrainingError.nonFiniteLoss(step: step, epoch: epoch, value: loss, checkpoint: run.checkpointPathIfPresent)
                }
                let update: UpdateReport
                do {
                    update = try parameters.withUnsafeMutableBufferPointer { p in
                        try gradients.withUnsafeMutableBufferPointer { g in
                            try optimizer.update(parameters: p, gradients: UnsafeBufferPointer(g))
                        }
                    }
                } catch OptimizerError.nonFiniteGradient(let parameter, _) {
                    throw TrainingError.nonFiniteGradient(parameter: parameter, step: step, epoch: epoch,
                                                          checkpoint: run.checkpointPathIfPresent)
                }
                step += 1
                let seconds = Date().timeIntervalSince(stepStart)
                trainSeconds += seconds
                epochExamples += examples.count
                recentLoss.append(loss)
                let rate = Double(epochExamples) / Date().timeIntervalSince(epochStart)
                progress.update(step: step, loss: loss, examplesPerSecond: rate, epoch: epoch + 1)
                if step % options.logEvery == 0 || step == totalSteps {
                    let mean = recentLoss.reduce(0, +) / Float(recentLoss.count)
                    recentLoss.removeAll()
                    try run.logStep(step: step, epoch: epoch + 1, loss: mean, learningRate: update.learningRate,
                                    gradientNorm: update.gradientNorm, examplesPerSecond: rate)
                }
            }
            let after = try evaluate(dev)
            guard after.loss.isFinite else {
                throw TrainingError.nonFiniteLoss(step: step, epoch: epoch, value: Float(after.loss), checkpoint: run.checkpointPathIfPresent)
            }
            evaluations.append(EpochEvaluation(epoch: epoch + 1, step: step, evaluation: after))
            progress.line("dev after epoch \(epoch + 1): \(after.summary)")
            try run.logEvaluation(after, epoch: epoch + 1, step: step)
            try run.saveCheckpoint(parameters: parameters, optimizer: optimizer,
                                   state: CheckpointState(epoch: epoch + 1, step: step, seed: options.seed,
                                                          trainSeconds: trainSeconds, options: options,
                                                          optimization: optimization, evaluations: evaluations,
                                                          unloggedLosses: recentLoss))
        }
        try run.writePlots(totalSteps: totalSteps, optimizer: optimizer)
        let last = evaluations.last!.evaluation
        return TrainingSummary(accuracy: last.accuracy, f1: last.f1, exactMatch: last.exactMatch, loss: last.loss, trainSeconds: trainSeconds,
                               steps: step, epochs: evaluations.last!.epoch,
                               examplesPerSecond: trainSeconds > 0 ? Double(train.count * evaluations.last!.epoch) / trainSeconds : 0,
                               evaluations: evaluations)
    }
}
