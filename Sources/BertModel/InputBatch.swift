import BertGraph
import BertRuntime

/// A packed example without padding: `[CLS] a [SEP] b [SEP]` ids and type ids, and its label
/// (a class index for classification, a score for regression; 0 when unlabeled), or for a
/// span head the answer's first and last token (0 and 0, the [CLS] token, when the window
/// holds no answer, as run_squad.py).
public struct EncodedExample: Hashable, Sendable {
    public var tokenIDs: [Int32]
    public var typeIDs: [Int32]
    public var label: Float
    public var startPosition: Int32
    public var endPosition: Int32

    public init(tokenIDs: [Int32], typeIDs: [Int32], label: Float = 0, startPosition: Int32 = 0, endPosition: Int32 = 0) {
        precondition(tokenIDs.count == typeIDs.count)
        self.tokenIDs = tokenIDs
        self.typeIDs = typeIDs
        self.label = label
        self.startPosition = startPosition
        self.endPosition = endPosition
    }

    public var length: Int { tokenIDs.count }
}

/// The graph inputs for a batch of examples padded to one sequence length.
public enum InputBatch {
    /// `input_ids`, `token_type_ids`, `attention_mask` i32[batch, seq] and, when `head` is given,
    /// `labels` (i32 for classification, f32 for regression) or `start_positions` and
    /// `end_positions` (i32, for the span head). Examples longer than
    /// `sequenceLength` are a programming error: packing truncates before batching.
    /// - Parameter packedRows: for graphs with packed tokens (`GraphOptions.packedTokens`), the
    ///   `tokens` dim, from `packedRowCount`: adds `token_rows` and `class_rows`.
    public static func make(_ examples: [EncodedExample], sequenceLength seq: Int, head: TaskHead? = nil,
                            packedRows: Int? = nil) -> [String: HostTensor] {
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
        if let rows = packedRows {
            let (tokenRows, classRows) = packing(examples, sequenceLength: seq, rows: rows)
            inputs["token_rows"] = HostTensor(shape: [rows], int32s: tokenRows)
            inputs["class_rows"] = HostTensor(shape: [b], int32s: classRows)
        }
        switch head {
        case .classification?: inputs["labels"] = HostTensor(shape: [b], int32s: examples.map { Int32($0.label) })
        case .regression?: inputs["labels"] = HostTensor(shape: [b], floats: examples.map(\.label))
        case .span?:
            inputs[GraphNames.startPositions] = HostTensor(shape: [b], int32s: examples.map(\.startPosition))
            inputs[GraphNames.endPositions] = HostTensor(shape: [b], int32s: examples.map(\.endPosition))
        case nil: break
        }
        return inputs
    }

    /// The `tokens` dim for a batch of examples of `lengths` padded to `sequenceLength`: the
    /// real tokens rounded up to a multiple of `quantum` (so that a few plans serve every
    /// batch), at most every position of the batch.
    public static func packedRowCount(lengths: [Int], sequenceLength seq: Int, quantum: Int) -> Int {
        let real = lengths.reduce(0, +)
        let q = max(quantum, 1)
        return min((real + q - 1) / q * q, lengths.count * seq)
    }

    /// `token_rows`: each example's real positions `i * seq + t` in order, then padding
    /// positions until there are `rows`; `class_rows`: where each example's first row went.
    static func packing(_ examples: [EncodedExample], sequenceLength seq: Int, rows: Int) -> (tokenRows: [Int32], classRows: [Int32]) {
        let real = examples.reduce(0) { $0 + $1.length }
        precondition(real <= rows && rows <= examples.count * seq,
                     "\(rows) packed rows for \(real) tokens in a batch of \(examples.count) x \(seq)")
        var tokenRows: [Int32] = []
        tokenRows.reserveCapacity(rows)
        var classRows: [Int32] = []
        classRows.reserveCapacity(examples.count)
        for (i, e) in examples.enumerated() {
            classRows.append(Int32(tokenRows.count))
            for t in 0..<e.length { tokenRows.append(Int32(i * seq + t)) }
        }
        // Padding rows fill up to the planned count; no real token ever reads them.
        for (i, e) in examples.enumerated() where tokenRows.count < rows {
            for t in e.length..<seq where tokenRows.count < rows { tokenRows.append(Int32(i * seq + t)) }
        }
        return (tokenRows, classRows)
    }
}
