import Foundation

/// How a fine-tuning run goes: the knobs `bertc train` exposes. Optimizer and schedule are
/// described separately by an `OptimizationConfig`.
public struct TrainingOptions: Codable, Hashable, Sendable {
    public var epochs: Int = 3
    public var batchSize: Int = 32
    /// Longest packed sequence; longer pairs are truncated.
    public var maxSequenceLength: Int = 128
    /// Sequence-length buckets (ascending); batches are padded to a bucket, not to
    /// `maxSequenceLength`. `[maxSequenceLength]` turns bucketing off. The bucket shapes share
    /// one arena (`InterpreterCache`), so buckets cost no memory, only a plan each (a few
    /// milliseconds).
    public var buckets: [Int] = [32, 64, 96, 128]
    /// Training batches per length-sorted group (`LengthBatcher`); 0 (the default) cuts each
    /// bucket's shuffled examples into batches of its own. Groups of similar lengths pad less
    /// and train faster, but every batch of a group holds examples of one length range, which
    /// changes what each step of the optimizer sees; the measurements are in
    /// docs/performance.md.
    public var groupBatches: Int = 0
    /// Train with packed tokens (`GraphOptions.packedTokens`): the encoder's dense layers see
    /// only the batch's real tokens, rounded up to a multiple of this many rows so that a
    /// few plans per bucket serve every batch. 0 runs every position of the padded batch.
    /// Packed rows draw the dropout masks of their padded positions, so only float sums over
    /// tokens (the weight gradients) change order.
    public var packTokens: Int = 64
    public var seed: UInt64 = 0
    /// Evaluation batch size.
    public var evalBatchSize: Int = 64
    /// Steps between metric lines in `metrics.jsonl` and TensorBoard.
    public var logEvery: Int = 10
    /// SQuAD's settings (files, articles, windows, post-processing); nil for other tasks.
    public var squad: SQuADOptions?

    public init() {}

    enum CodingKeys: String, CodingKey {
        case epochs, batchSize = "batch_size", maxSequenceLength = "max_seq_length", buckets, seed
        case groupBatches = "group_batches", packTokens = "pack_tokens"
        case evalBatchSize = "eval_batch_size", logEvery = "log_every", squad
    }

    /// Missing keys keep their defaults.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        epochs = try c.decodeIfPresent(Int.self, forKey: .epochs) ?? epochs
        batchSize = try c.decodeIfPresent(Int.self, forKey: .batchSize) ?? batchSize
        maxSequenceLength = try c.decodeIfPresent(Int.self, forKey: .maxSequenceLength) ?? maxSequenceLength
        buckets = try c.decodeIfPresent([Int].self, forKey: .buckets) ?? buckets
        seed = try c.decodeIfPresent(UInt64.self, forKey: .seed) ?? seed
        groupBatches = try c.decodeIfPresent(Int.self, forKey: .groupBatches) ?? groupBatches
        guard groupBatches >= 0 else {
            throw DecodingError.dataCorruptedError(forKey: .groupBatches, in: c,
                                                   debugDescription: "must be 0 or more, got \(groupBatches)")
        }
        packTokens = try c.decodeIfPresent(Int.self, forKey: .packTokens) ?? packTokens
        guard packTokens >= 0 else {
            throw DecodingError.dataCorruptedError(forKey: .packTokens, in: c,
                                                   debugDescription: "must be 0 or more, got \(packTokens)")
        }
        evalBatchSize = try c.decodeIfPresent(Int.self, forKey: .evalBatchSize) ?? evalBatchSize
        logEvery = try c.decodeIfPresent(Int.self, forKey: .logEvery) ?? logEvery
        squad = try c.decodeIfPresent(SQuADOptions.self, forKey: .squad)
        for (key, value) in [(CodingKeys.epochs, epochs), (.batchSize, batchSize), (.evalBatchSize, evalBatchSize),
                             (.logEvery, logEvery)] where value <= 0 {
            throw DecodingError.dataCorruptedError(forKey: key, in: c, debugDescription: "must be positive, got \(value)")
        }
        guard maxSequenceLength >= 3 else {
            throw DecodingError.dataCorruptedError(forKey: .maxSequenceLength, in: c,
                                                   debugDescription: "must be at least 3, got \(maxSequenceLength)")
        }
        guard !buckets.isEmpty, buckets.allSatisfy({ $0 > 0 }) else {
            throw DecodingError.dataCorruptedError(forKey: .buckets, in: c,
                                                   debugDescription: "must be positive lengths, got \(buckets)")
        }
    }

    /// The buckets clipped to the maximum length, which is always the last bucket.
    public var effectiveBuckets: [Int] {
        Array(Set(buckets.filter { $0 < maxSequenceLength } + [maxSequenceLength])).sorted()
    }
}

/// Errors of a training run; each says what to do.
public enum TrainingError: Error, CustomStringConvertible {
    case nonFiniteLoss(step: Int, epoch: Int, value: Float, checkpoint: String?)
    case nonFiniteGradient(parameter: String, step: Int, epoch: Int, checkpoint: String?)
    case badCheckpoint(String, String)
    case noExamples(String)
    case io(String, String)
    /// Something this build cannot do.
    case unsupported(String)

    public var description: String {
        switch self {
        case .nonFiniteLoss(_, -1, let value, _):
            return "the dev loss before training is \(value): the model's weights or inputs hold values that overflow; "
                + "training did not start"
        case .nonFiniteLoss(let step, let epoch, let value, let checkpoint):
            return "loss became \(value) at step \(step) (epoch \(epoch + 1)); training stopped\(Self.kept(checkpoint)). "
                + "Try a lower learning rate."
        case .nonFiniteGradient(let parameter, let step, let epoch, let checkpoint):
            return "the gradient of \(parameter) became non-finite (NaN or Inf) at step \(step + 1) (epoch \(epoch + 1)); "
                + "training stopped\(Self.kept(checkpoint)). Try a lower learning rate."
        case .badCheckpoint(let path, let why): return "cannot resume from \(path): \(why)"
        case .noExamples(let what): return "no examples in \(what)"
        case .io(let path, let why): return "cannot write \(path): \(why)"
        case .unsupported(let what): return what
        }
    }

    private static func kept(_ checkpoint: String?) -> String {
        checkpoint.map { "; the last good checkpoint is intact at \($0)" } ?? "; no checkpoint had been written yet"
    }
}
