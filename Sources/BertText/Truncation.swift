// How a sentence pair is cut to fit a token budget (the sequence length minus the special
// tokens). Each strategy answers one question: how many tokens of each segment to keep; the
// kept tokens are always a prefix.

/// How to shorten one or two token segments to fit a budget.
public enum TruncationStrategy: String, CaseIterable, Sendable {
    /// Hugging Face `tokenizers`' `longest_first`: when both segments must be cut, each keeps
    /// half of the budget, and for an odd budget the originally longer segment keeps the extra
    /// token (the second when they are equally long); otherwise only the longer one is cut.
    ///
    /// google-research/bert's `_truncate_seq_pair` (pop from `a` if `len(a) > len(b)` else
    /// from `b`) agrees except in one case: both segments cut, odd budget and `a` not longer
    /// than `b`. There the loop leaves the extra token to `a`, this rule to `b`. Use
    /// `popLonger` for the loop's behaviour.
    case longestFirst = "longest_first"
    /// Model Garden's `BertPackInputs` default, tf_text's `RoundRobinTrimmer`: the budget is
    /// allotted one token at a time to `a`, `b`, `a`, `b`, ..., skipping exhausted segments.
    case roundRobin = "round_robin"
    /// google-research/bert's `_truncate_seq_pair`: while the pair is too long, drop the last
    /// token of `a` if it is longer than `b`, else of `b`.
    case popLonger = "pop_longer"

    /// The number of tokens to keep of each segment.
    /// - Parameters:
    ///   - first: length of the first segment.
    ///   - second: length of the second segment, or nil for a single segment.
    ///   - budget: the most tokens the segments may hold together (>= 0).
    public func keptLengths(first: Int, second: Int?, budget: Int) -> (first: Int, second: Int?) {
        guard let second else { return (min(first, budget), nil) }
        if first + second <= budget { return (first, second) }
        switch self {
        case .longestFirst:
            return Self.huggingFaceLongestFirst(first, second, budget)
        case .roundRobin:
            // Each segment gets half the budget, `a` the odd token; a short segment keeps all
            // of itself and leaves the rest to the other.
            let firstShare = (budget + 1) / 2, secondShare = budget / 2
            if first <= firstShare { return (first, budget - first) }
            if second <= secondShare { return (budget - second, second) }
            return (firstShare, secondShare)
        case .popLonger:
            // The loop cuts the longer down to the shorter's length, then alternates b, a, b, ...
            if min(first, second) * 2 > budget { return ((budget + 1) / 2, budget / 2) }
            return first < second ? (first, budget - first) : (budget - second, second)
        }
    }

    /// `truncate_encodings` with `LongestFirst` from `tokenizers/src/utils/truncation.rs`.
    private static func huggingFaceLongestFirst(_ first: Int, _ second: Int, _ budget: Int) -> (Int, Int?) {
        var n1 = first, n2 = second
        let swapped = n1 > n2
        if swapped { swap(&n1, &n2) }
        n2 = n1 > budget ? n1 : max(n1, budget - n1)
        if n1 + n2 > budget {
            n1 = budget / 2
            n2 = n1 + budget % 2
        }
        if swapped { swap(&n1, &n2) }
        return (min(first, n1), min(second, n2))
    }
}
