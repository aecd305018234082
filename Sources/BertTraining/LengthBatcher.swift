import BertGraph
import BertRuntime

/// Groups examples into batches of similar length so short pairs stop paying for the longest
/// bucket. Deterministic in (seed, epoch), every example exactly once per epoch.
///
/// Training (`shuffle`), default (`groupBatches` 0): the examples are shuffled, assigned to
/// the smallest bucket that holds them, cut into batches per bucket (so each bucket ends in a
/// short batch), and the batches shuffled.
///
/// Training with `groupBatches` > 0: the examples are shuffled and cut into groups of
/// `groupBatches` batches; each group is sorted by bucket (stable, so the shuffle still
/// orders examples of one bucket) and cut into full batches, each padded to the bucket of its
/// longest member; then the batches are shuffled. Only an epoch's last batch can be short, so
/// buckets can be fine (every 8 tokens) without adding steps, and batches still mix examples
/// from all over the set (the "group by length" of Hugging Face's trainer, which uses
/// megabatches of 50).
///
/// Evaluation (no `shuffle`): examples go to the smallest bucket that holds them, in order,
/// and each bucket is cut into batches.
public struct LengthBatcher: Sendable {
    /// Bucket sequence lengths, ascending; the last is the maximum sequence length.
    public let buckets: [Int]
    public let batchSize: Int
    public let seed: UInt64
    /// Batches per sorted group in training epochs. One batch per group means no sorting
    /// (each batch padded to its own longest member's bucket); 0 means no groups: each
    /// bucket's shuffled examples are cut into batches of their own, so every bucket ends in
    /// a short batch.
    public let groupBatches: Int

    /// One batch: example indices and the sequence length to pad them to.
    public struct Batch: Hashable, Sendable {
        public var indices: [Int]
        public var sequenceLength: Int
    }

    public init(buckets: [Int], batchSize: Int, seed: UInt64, groupBatches: Int = 0) {
        precondition(!buckets.isEmpty && batchSize > 0 && groupBatches >= 0)
        self.buckets = buckets.sorted()
        self.batchSize = batchSize
        self.seed = seed
        self.groupBatches = groupBatches
    }

    /// The smallest bucket that holds `length` tokens (the largest when none does).
    public func bucket(for length: Int) -> Int {
        buckets.first { $0 >= length } ?? buckets.last!
    }

    /// The batches of one epoch for examples of the given token lengths. With `shuffle` false
    /// (evaluation) examples keep their order within a bucket and batches go by bucket.
    public func batches(lengths: [Int], epoch: Int, shuffle: Bool = true) -> [Batch] {
        guard shuffle else { return bucketBatches(lengths: lengths, order: Array(lengths.indices)) }
        var rng = SplitMix64(seed: seed &+ UInt64(epoch) &* 0x9E37_79B9_7F4A_7C15)
        var order = Array(lengths.indices)
        rng.shuffle(&order)
        guard groupBatches > 0 else {
            var out = bucketBatches(lengths: lengths, order: order)
            rng.shuffle(&out)
            return out
        }
        var out: [Batch] = []
        let group = batchSize * groupBatches
        for groupStart in stride(from: 0, to: order.count, by: group) {
            // Stable: examples of one bucket keep their shuffled order.
            let sorted = order[groupStart..<min(groupStart + group, order.count)]
                .enumerated()
                .sorted { (bucket(for: lengths[$0.element]), $0.offset) < (bucket(for: lengths[$1.element]), $1.offset) }
                .map(\.element)
            for start in stride(from: 0, to: sorted.count, by: batchSize) {
                let members = Array(sorted[start..<min(start + batchSize, sorted.count)])
                out.append(Batch(indices: members, sequenceLength: bucket(for: lengths[members.last!])))
            }
        }
        rng.shuffle(&out)
        return out
    }

    /// Each bucket's examples in `order`, cut into batches; the buckets in ascending order.
    private func bucketBatches(lengths: [Int], order: [Int]) -> [Batch] {
        var byBucket: [Int: [Int]] = [:]
        for i in order { byBucket[bucket(for: lengths[i]), default: []].append(i) }
        var out: [Batch] = []
        for b in buckets {
            let members = byBucket[b] ?? []
            for start in stride(from: 0, to: members.count, by: batchSize) {
                out.append(Batch(indices: Array(members[start..<min(start + batchSize, members.count)]), sequenceLength: b))
            }
        }
        return out
    }
}
