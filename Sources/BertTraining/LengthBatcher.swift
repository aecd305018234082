import BertGraph

/// Groups examples into batches by sequence-length bucket so short pairs stop paying for the
/// longest bucket. Deterministic in (seed, epoch): examples are shuffled, assigned to the
/// smallest bucket that holds them, cut into batches per bucket, and the batches shuffled;
/// every example appears exactly once per epoch.
public struct LengthBatcher: Sendable {
    /// Bucket sequence lengths, ascending; the last is the maximum sequence length.
    public let buckets: [Int]
    public let batchSize: Int
    public let seed: UInt64

    /// One batch: example indices and the sequence length to pad them to.
    public struct Batch: Hashable, Sendable {
        public var indices: [Int]
        public var sequenceLength: Int
    }

    public init(buckets: [Int], batchSize: Int, seed: UInt64) {
        precondition(!buckets.isEmpty && batchSize > 0)
        self.buckets = buckets.sorted()
        self.batchSize = batchSize
        self.seed = seed
    }

    /// The smallest bucket that holds `length` tokens (the largest when none does).
    public func bucket(for length: Int) -> Int {
        buckets.first { $0 >= length } ?? buckets.last!
    }

    /// The batches of one epoch for examples of the given token lengths. With `shuffle` false
    /// (evaluation) examples keep their order within a bucket and batches go by bucket.
    public func batches(lengths: [Int], epoch: Int, shuffle: Bool = true) -> [Batch] {
        var rng = SplitMix64(seed: seed &+ UInt64(epoch) &* 0x9E37_79B9_7F4A_7C15)
        var order = Array(lengths.indices)
        if shuffle { rng.shuffle(&order) }
        var byBucket: [Int: [Int]] = [:]
        for i in order { byBucket[bucket(for: lengths[i]), default: []].append(i) }
        var out: [Batch] = []
        for b in buckets {
            let members = byBucket[b] ?? []
            for start in stride(from: 0, to: members.count, by: batchSize) {
                out.append(Batch(indices: Array(members[start..<min(start + batchSize, members.count)]), sequenceLength: b))
            }
        }
        if shuffle { rng.shuffle(&out) }
        return out
    }
}
