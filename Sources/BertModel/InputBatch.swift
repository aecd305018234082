import BertGraph

/// A packed example without padding: `[CLS] a [SEP] b [SEP]` ids and type ids, and its label
/// (a class index for classification, a score for regression; 0 when unlabeled).
public struct EncodedExample: Hashable, Sendable {
    public var tokenIDs: [Int32]
    public var typeIDs: [Int32]
    public var label: Float

    public init(tokenIDs: [Int32], typeIDs: [Int32], label: Float = 0) {
        precondition(tokenIDs.count == typeIDs.count)
        self.tokenIDs = tokenIDs
        self.typeIDs = typeIDs
        self.label = label
    }

    public var length: Int { tokenIDs.count }
}

/// The graph inputs for a batch of examples padded to one sequence length.
public enum InputBatch {
    /// `input_ids`, `token_type_ids`, `attention_mask` i32[batch, seq] and, when `head` is given,
    /// `labels` (i32 for classification, f32 for regression). Examples longer than
    /// `sequenceLength` are a programming error: packing truncates before batching.
    public static func make(_ examples: [EncodedExample], sequenceLength seq: Int, head: TaskHead? = nil) -> [String: HostTensor] {
        let b = examples.count
        var ids = [Int32](repeating: 0, count: b * seq)
        var types = [Int32](repeating: 0, count: b * seq)
        var mask = [Int32](repeating: 0, count: b * seq)
        for (i, e) in examples.enumerated() {
            precondition(e.length <= seq, "example of \(e.length) tokens in a batch padded to \(seq)")
            for t in 0..<e.length {
                ids[i * seq + t] = e.tokenIDs[t]
                types[i * seq + t] = e.typeIDs[t]
                mask[i * seq + t] = 1
            }
        }
        var inputs: [String: HostTensor] = [
            "input_ids": HostTensor(shape: [b, seq], int32s: ids),
            "token_type_ids": HostTensor(shape: [b, seq], int32s: types),
            "attention_mask": HostTensor(shape: [b, seq], int32s: mask),
        ]
        switch head {
        case .classification?: inputs["labels"] = HostTensor(shape: [b], int32s: examples.map { Int32($0.label) })
        case .regression?: inputs["labels"] = HostTensor(shape: [b], floats: examples.map(\.label))
        case nil: break
        }
        return inputs
    }
}
