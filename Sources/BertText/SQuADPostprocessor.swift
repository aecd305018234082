// From start and end logits back to answers in the context, as google-research/bert's
// `write_predictions` (run_squad.py 741-925) does for each question:
//   1. per window: the `nBestSize` highest start and end positions (a stable sort, so the
//      lower position wins a tie), over every position the logits give;
//   2. the pairs that can be an answer: both inside the window's context, the start in its
//      max-context window, end >= start, at most `maxAnswerLength` pieces; in v2.0 also the
//      null answer, whose score is the lowest start[0] + end[0] over the question's windows;
//   3. those pairs by start + end logit (stable), projected onto the original text
//      (SQuADPostprocessor+FinalText.swift), skipping texts already taken, until there are
//      `nBestSize`; the nonce "empty" when no pair is valid;
//   4. the softmax of the n-best scores (in Double); the first entry is the answer, or in
//      v2.0 "" when null score - best non-null score > `nullScoreDiffThreshold` (strict).
// Logits are Float and every sum is taken in Double, as the original sums Python floats.

import Foundation

/// Start and end logits of one feature, one entry per position (at least the feature's token
/// count). Every position given takes part in the top-n choice, as in the original (which
/// reads all max_seq_length positions), though only positions inside the tokens can answer.
public struct SQuADSpanLogits: Sendable {
    public var start: [Float]
    public var end: [Float]

    public init(start: [Float], end: [Float]) {
        self.start = start
        self.end = end
    }
}

/// run_squad.py's post-processing flags.
public struct SQuADPostprocessingOptions: Sendable {
    /// How many answers to keep per question (`n_best_size`).
    public var nBestSize: Int
    /// The longest answer, in WordPieces (`max_answer_length`).
    public var maxAnswerLength: Int
    /// SQuAD v2.0: questions may have no answer (`version_2_with_negative`).
    public var versionTwoWithNegative: Bool
    /// v2.0: answer "" when null score - best non-null score exceeds this.
    public var nullScoreDiffThreshold: Double
    /// The model's `do_lower_case`, for re-tokenising the original text.
    public var lowercase: Bool

    public init(nBestSize: Int = 20, maxAnswerLength: Int = 30, versionTwoWithNegative: Bool = false,
                nullScoreDiffThreshold: Double = 0.0, lowercase: Bool = true) {
        self.nBestSize = nBestSize
        self.maxAnswerLength = maxAnswerLength
        self.versionTwoWithNegative = versionTwoWithNegative
        self.nullScoreDiffThreshold = nullScoreDiffThreshold
        self.lowercase = lowercase
    }
}

/// One entry of a question's n-best list (nbest_predictions.json).
public struct SQuADNBestEntry: Sendable, Equatable {
    /// The answer text ("" for the null answer, "empty" for the nonce).
    public var text: String
    /// Its share of the softmax over the list's scores.
    public var probability: Double
    public var startLogit: Double
    public var endLogit: Double
    /// The answer's offsets in the context, in Unicode scalars; nil for "" and "empty".
    public var characters: Range<Int>?

    public init(text: String, probability: Double, startLogit: Double, endLogit: Double, characters: Range<Int>?) {
        self.text = text
        self.probability = probability
        self.startLogit = startLogit
        self.endLogit = endLogit
        self.characters = characters
    }
}

/// The answer to one question.
public struct SQuADPrediction: Sendable, Equatable {
    /// The question's id.
    public var id: String
    /// predictions.json's value ("" = no answer, in v2.0).
    public var text: String
    /// The chosen entry's probability in the n-best softmax.
    public var probability: Double
    /// The chosen entry's start + end logit.
    public var score: Double
    /// The answer's offsets in the context, in Unicode scalars (as Python's); nil for "" and
    /// the nonce "empty". Over these offsets the context holds `text`, except that the
    /// whitespace between two words is the context's own (the text has one space there).
    public var characters: Range<Int>?
    /// The n-best list, best first.
    public var nbest: [SQuADNBestEntry]
    /// v2.0: null score - best non-null score (null_odds.json's value); nil in v1.1.
    public var nullScoreDiff: Double?

    public init(id: String, text: String, probability: Double, score: Double, characters: Range<Int>?,
                nbest: [SQuADNBestEntry], nullScoreDiff: Double?) {
        self.id = id
        self.text = text
        self.probability = probability
        self.score = score
        self.characters = characters
        self.nbest = nbest
        self.nullScoreDiff = nullScoreDiff
    }
}

/// Logits that do not fit the features they are given with.
public enum SQuADPostprocessingError: Error, CustomStringConvertible, Equatable {
    /// Not one logits entry per feature.
    case logitCount(features: Int, logits: Int)
    /// A feature's `exampleIndex` is not an index of the examples.
    case missingExample(feature: Int, exampleIndex: Int, examples: Int)
    /// A window's logits are shorter than its tokens, or not finite.
    case badLogits(question: String, window: Int, reason: String)
    /// Settings no answer can satisfy.
    case badOptions(String)
    /// An output file could not be written.
    case unwritable(file: String, reason: String)

    public var description: String {
        switch self {
        case let .logitCount(features, logits):
            return "SQuAD post-processing needs one pair of start/end logits per feature: \(features) features, "
                + "\(logits) logits"
        case let .missingExample(feature, exampleIndex, examples):
            return "SQuAD feature \(feature) belongs to example \(exampleIndex), but there are \(examples) examples"
        case let .badLogits(question, window, reason):
            return "question \"\(question)\" window \(window): \(reason)"
        case let .badOptions(reason):
            return "bad SQuAD post-processing settings: \(reason)"
        case let .unwritable(file, reason):
            return "cannot write \(file): \(reason)"
        }
    }
}

/// Turns span logits into answers and writes them as run_squad.py writes them.
public struct SQuADPostprocessor: Sendable {
    public let options: SQuADPostprocessingOptions
    let basic: BasicTokenizer

    public init(options: SQuADPostprocessingOptions) {
        self.options = options
        basic = BasicTokenizer(lowercase: options.lowercase)
    }

    /// One prediction per example that has at least one feature, in example order.
    /// - Parameters:
    ///   - features: `features[i].exampleIndex` indexes `examples`.
    ///   - logits: `logits[i]` belongs to `features[i]`.
    /// - Throws: `SQuADPostprocessingError` when the logits do not fit the features.
    public func predictions(examples: [SQuADExample], features: [SQuADFeature],
                            logits: [SQuADSpanLogits]) throws -> [SQuADPrediction] {
        guard options.nBestSize >= 1, options.maxAnswerLength >= 1 else {
            throw SQuADPostprocessingError.badOptions("n_best_size (\(options.nBestSize)) and max_answer_length "
                                                      + "(\(options.maxAnswerLength)) must be positive")
        }
        guard logits.count == features.count else {
            throw SQuADPostprocessingError.logitCount(features: features.count, logits: logits.count)
        }
        var windowsOfExample = [[Int]](repeating: [], count: examples.count)
        for (index, feature) in features.enumerated() {
            guard examples.indices.contains(feature.exampleIndex) else {
                throw SQuADPostprocessingError.missingExample(feature: index, exampleIndex: feature.exampleIndex,
                                                             examples: examples.count)
            }
            windowsOfExample[feature.exampleIndex].append(index)
        }
        var predictions: [SQuADPrediction] = []
        for (example, windows) in zip(examples, windowsOfExample) where !windows.isEmpty {
            predictions.append(try prediction(for: example, windows: windows.map { (features[$0], logits[$0]) }))
        }
        return predictions
    }

    // MARK: - One question

    /// A pair of positions that can answer (`_PrelimPrediction`).
    struct Candidate {
        var window: Int
        var start: Int
        var end: Int
        var startLogit: Double
        var endLogit: Double
        var score: Double { startLogit + endLogit }
    }

    /// An n-best entry before the softmax.
    typealias RankedAnswer = (text: String, startLogit: Double, endLogit: Double, characters: Range<Int>?)

    func prediction(for example: SQuADExample, windows: [(SQuADFeature, SQuADSpanLogits)]) throws -> SQuADPrediction {
        let (candidates, null) = try spanCandidates(of: example, windows: windows)
        let nbest = rankedAnswers(candidates, null: null?.candidate, example: example, windows: windows)
        let probabilities = Self.softmax(nbest.map { $0.startLogit + $0.endLogit })
        let entries = zip(nbest, probabilities).map {
            SQuADNBestEntry(text: $0.text, probability: $1, startLogit: $0.startLogit, endLogit: $0.endLogit,
                            characters: $0.characters)
        }
        var chosen = 0
        var nullScoreDiff: Double?
        if let null {
            // "" when null score - best non-null score > the threshold (strictly).
            let bestNonNull = entries.firstIndex { !$0.text.isEmpty } ?? 0
            let difference = null.score - entries[bestNonNull].startLogit - entries[bestNonNull].endLogit
            nullScoreDiff = difference
            chosen = difference > options.nullScoreDiffThreshold
                ? entries.firstIndex { $0.text.isEmpty } ?? bestNonNull : bestNonNull
        }
        let answer = entries[chosen]
        return SQuADPrediction(id: example.id, text: answer.text, probability: answer.probability,
                               score: answer.startLogit + answer.endLogit, characters: answer.characters,
                               nbest: entries, nullScoreDiff: nullScoreDiff)
    }

    /// The valid spans of every window in the original's order (window, start rank, end rank),
    /// and in v2.0 the null answer of the window with the lowest null score.
    func spanCandidates(of example: SQuADExample, windows: [(SQuADFeature, SQuADSpanLogits)]) throws
        -> (candidates: [Candidate], null: (candidate: Candidate, score: Double)?) {
        var candidates: [Candidate] = []
        // The original's starting value: a window's null score replaces it only when lower.
        var null = (candidate: Candidate(window: 0, start: 0, end: 0, startLogit: 0, endLogit: 0), score: 1_000_000.0)
        for (windowIndex, (feature, logits)) in windows.enumerated() {
            try check(logits, of: feature, question: example.id)
            let start = Double(logits.start[0]), end = Double(logits.end[0])
            if start + end < null.score {
                null = (Candidate(window: windowIndex, start: 0, end: 0, startLogit: start, endLogit: end), start + end)
            }
            let ends = Self.bestIndexes(logits.end, count: options.nBestSize)
            for start in Self.bestIndexes(logits.start, count: options.nBestSize) {
                for end in ends where isValidSpan(start: start, end: end, in: feature) {
                    candidates.append(Candidate(window: windowIndex, start: start, end: end,
                                                startLogit: Double(logits.start[start]),
                                                endLogit: Double(logits.end[end])))
                }
            }
        }
        guard options.versionTwoWithNegative else { return (candidates, nil) }
        candidates.append(null.candidate)
        return (candidates, null)
    }

    /// The n-best list: candidates by score (stable), each distinct answer text once; in v2.0
    /// the null answer added when absent; the nonce "empty" when no text is left.
    func rankedAnswers(_ candidates: [Candidate], null: Candidate?, example: SQuADExample,
                       windows: [(SQuADFeature, SQuADSpanLogits)]) -> [RankedAnswer] {
        // Highest score first; equal scores keep their order (Python's stable sort).
        let order = candidates.indices.sorted {
            let left = candidates[$0].score, right = candidates[$1].score
            return left > right || (left == right && $0 < $1)
        }
        var nbest: [RankedAnswer] = []
        var seen = Set<[UInt8]>()
        for candidate in order.lazy.map({ candidates[$0] }) {
            if nbest.count >= options.nBestSize { break }
            if candidate.start > 0 {
                let answer = finalText(of: candidate, feature: windows[candidate.window].0, example: example)
                guard seen.insert(Array(answer.text.utf8)).inserted else { continue }
                nbest.append((answer.text, candidate.startLogit, candidate.endLogit, answer.characters))
            } else {
                seen.insert([])
                nbest.append(("", candidate.startLogit, candidate.endLogit, nil))
            }
        }
        if let null, !seen.contains([]) {
            nbest.append(("", null.startLogit, null.endLogit, nil))
        }
        // The original's nonce for a question with no valid span. In v2.0 it crashes when only
        // the null answer is left; the nonce stands in as the best non-null answer there too.
        if !nbest.contains(where: { !$0.text.isEmpty }) && (nbest.isEmpty || null != nil) {
            nbest.append(("empty", 0, 0, nil))
        }
        return nbest
    }

    /// The logits cover the tokens and are numbers.
    private func check(_ logits: SQuADSpanLogits, of feature: SQuADFeature, question: String) throws {
        let needed = feature.tokens.count
        guard logits.start.count >= needed, logits.end.count >= needed else {
            throw SQuADPostprocessingError.badLogits(
                question: question, window: feature.docSpanIndex,
                reason: "\(logits.start.count) start and \(logits.end.count) end logits for \(needed) tokens")
        }
        guard logits.start.allSatisfy(\.isFinite), logits.end.allSatisfy(\.isFinite) else {
            throw SQuADPostprocessingError.badLogits(question: question, window: feature.docSpanIndex,
                                                     reason: "the logits are not all finite")
        }
    }

    /// run_squad.py 790-804: both ends in the window's context, the start in the window where
    /// it has the most context, and a span of 1...maxAnswerLength pieces.
    func isValidSpan(start: Int, end: Int, in feature: SQuADFeature) -> Bool {
        let context = feature.contextPositions
        guard context.contains(start), context.contains(end), end >= start,
              end - start + 1 <= options.maxAnswerLength else { return false }
        return feature.tokenIsMaxContext[start - context.lowerBound]
    }

    // MARK: - Numerics

    /// `_get_best_indexes`: the positions of the `count` highest logits, highest first, the
    /// lower position first among equal logits.
    static func bestIndexes(_ logits: [Float], count: Int) -> [Int] {
        var best: [Int] = []
        best.reserveCapacity(count + 1)
        for (position, logit) in logits.enumerated() {
            if best.count >= count, let last = best.last, logits[last] >= logit { continue }
            // After every position with a logit at least as high: the earlier position stays
            // ahead on a tie, as in a stable sort.
            best.insert(position, at: best.firstIndex { logits[$0] < logit } ?? best.count)
            if best.count > count { best.removeLast() }
        }
        return best
    }

    /// `_compute_softmax`: exp(score - max) over their sum, summed in order.
    static func softmax(_ scores: [Double]) -> [Double] {
        guard let maximum = scores.max() else { return [] }
        let exponentials = scores.map { Foundation.exp($0 - maximum) }
        var total = 0.0
        for value in exponentials { total += value }
        return exponentials.map { $0 / total }
    }
}
