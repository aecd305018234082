// Exact match and F1 as the official SQuAD evaluation scripts compute them:
//   - both normalise an answer the same way: lower-case, drop ASCII punctuation, replace the
//     words "a", "an" and "the" by a space, collapse whitespace;
//   - exact match compares normalised strings; F1 is the harmonic mean of the precision and
//     recall of the normalised words (each word counted as often as it occurs in both);
//   - a question scores the best over its gold answers; the scores are averaged, x100.
// Where the two scripts differ:
//   - v1.1 scores every gold answer and counts an unanswered question as 0 in the mean; a
//     question without gold answers scores 0 (where the script fails);
//   - v2.0 drops gold answers that normalise to "" and scores a question that is left with none
//     (an impossible one) against "" (F1 1 only when the prediction normalises to nothing too);
//     it averages over the answered questions only, and reports those with gold answers
//     (HasAns) and those without (NoAns) apart. Given no-answer odds (`--na-prob-file`, such
//     as null_odds.json), a question whose odds exceed `--na-prob-thresh` counts as answered
//     "", and the best exact match and F1 over all thresholds are reported with them.
// Strings are compared by Unicode scalars, as Python compares code points. Lower-casing maps each
// scalar on its own (Python's `lower` also turns a word-final capital sigma into a final sigma).

/// The official SQuAD v1.1 and v2.0 evaluation.
public enum SQuADMetrics {
    /// The numbers the official scripts print, x100.
    public struct Result: Codable, Sendable, Equatable {
        public var exactMatch: Double
        public var f1: Double
        /// Questions averaged over.
        public var total: Int
        /// v2.0: the questions with a gold answer.
        public var hasAnsExact: Double?
        public var hasAnsF1: Double?
        public var hasAnsTotal: Int?
        /// v2.0: the questions without one.
        public var noAnsExact: Double?
        public var noAnsF1: Double?
        public var noAnsTotal: Int?
        /// v2.0 with no-answer probabilities (`--na-prob-file`): the best exact match and F1 over
        /// every probability threshold, and the thresholds that give them.
        public var bestExact: Double?
        public var bestExactThreshold: Double?
        public var bestF1: Double?
        public var bestF1Threshold: Double?

        enum CodingKeys: String, CodingKey {
            case exactMatch = "exact_match", f1, total
            case hasAnsExact = "HasAns_exact", hasAnsF1 = "HasAns_f1", hasAnsTotal = "HasAns_total"
            case noAnsExact = "NoAns_exact", noAnsF1 = "NoAns_f1", noAnsTotal = "NoAns_total"
            case bestExact = "best_exact", bestExactThreshold = "best_exact_thresh"
            case bestF1 = "best_f1", bestF1Threshold = "best_f1_thresh"
        }
    }

    /// One question's scores: exact match 0 or 1, and F1 in 0...1.
    public struct QuestionScore: Sendable, Equatable {
        public var exact: Double
        public var f1: Double
    }

    /// The official script's numbers for `predictions` (question id -> answer text).
    /// - Parameters:
    ///   - versionTwo: the v2.0 script; else the v1.1 script.
    ///   - noAnswerProbabilities: v2.0's `--na-prob-file` (such as null_odds.json), question id
    ///     -> odds of no answer; a missing question counts 0. Nil: no file.
    ///   - noAnswerThreshold: `--na-prob-thresh`: odds above it count as answering "".
    public static func evaluate(examples: [SQuADExample], predictions: [String: String], versionTwo: Bool,
                                noAnswerProbabilities: [String: Double]? = nil,
                                noAnswerThreshold: Double = 1.0) -> Result {
        let raw = questionScores(examples: examples, predictions: predictions, versionTwo: versionTwo)
        var scored = raw
        if versionTwo, let odds = noAnswerProbabilities {
            for index in scored.indices where odds[scored[index].example.id, default: 0] > noAnswerThreshold {
                let right: Double = scored[index].example.answers.isEmpty ? 1 : 0
                scored[index].score = QuestionScore(exact: right, f1: right)
            }
        }
        guard versionTwo else {
            // v1.1 divides by every question in the file, answered or not.
            let sums = sum(scored.map(\.score))
            return Result(exactMatch: percent(sums.exact, examples.count), f1: percent(sums.f1, examples.count),
                          total: examples.count)
        }
        let all = sum(scored.map(\.score))
        let hasAnswer = scored.filter { !$0.example.answers.isEmpty }.map(\.score)
        let noAnswer = scored.filter { $0.example.answers.isEmpty }.map(\.score)
        var result = Result(exactMatch: percent(all.exact, scored.count), f1: percent(all.f1, scored.count),
                            total: scored.count)
        if !hasAnswer.isEmpty {
            let sums = sum(hasAnswer)
            result.hasAnsExact = percent(sums.exact, hasAnswer.count)
            result.hasAnsF1 = percent(sums.f1, hasAnswer.count)
            result.hasAnsTotal = hasAnswer.count
        }
        if !noAnswer.isEmpty {
            let sums = sum(noAnswer)
            result.noAnsExact = percent(sums.exact, noAnswer.count)
            result.noAnsF1 = percent(sums.f1, noAnswer.count)
            result.noAnsTotal = noAnswer.count
        }
        if let odds = noAnswerProbabilities {
            let examplesWithoutAnswer = examples.filter(\.answers.isEmpty).count
            let best = bestThresholds(raw, predictions: predictions, odds: odds, withoutAnswer: examplesWithoutAnswer)
            (result.bestExact, result.bestExactThreshold) = best.exact
            (result.bestF1, result.bestF1Threshold) = best.f1
        }
        return result
    }

    /// `find_all_best_thresh`: answering "" for the questions whose odds exceed a threshold,
    /// the best exact match and F1 over all thresholds (each question's odds, lowest first),
    /// starting from all questions without an answer right and none with one.
    static func bestThresholds(_ scored: [(example: SQuADExample, score: QuestionScore)], predictions: [String: String],
                               odds: [String: Double], withoutAnswer: Int)
        -> (exact: (Double, Double), f1: (Double, Double)) {
        // The odds in the order Python's stable sort leaves them: by value, then question order.
        var ranked: [(index: Int, odds: Double)] = []
        for (index, entry) in scored.enumerated() {
            if let value = odds[entry.example.id] { ranked.append((index, value)) }
        }
        ranked.sort { $0.odds < $1.odds || ($0.odds == $1.odds && $0.index < $1.index) }
        func best(_ value: (QuestionScore) -> Double) -> (Double, Double) {
            var current = Double(withoutAnswer), bestScore = current, threshold = 0.0
            for (index, questionOdds) in ranked {
                let (example, score) = scored[index]
                if !example.answers.isEmpty {
                    current += value(score)
                } else if !(predictions[example.id] ?? "").isEmpty {
                    current -= 1
                }
                if current > bestScore {
                    bestScore = current
                    threshold = questionOdds
                }
            }
            return (percent(bestScore, scored.count), threshold)
        }
        return (best(\.exact), best(\.f1))
    }

    /// The scores of each answered question, in example order.
    public static func questionScores(examples: [SQuADExample], predictions: [String: String],
                                      versionTwo: Bool) -> [(example: SQuADExample, score: QuestionScore)] {
        examples.compactMap { example in
            predictions[example.id].map { (example, score(prediction: $0, answers: example.answers.map(\.text),
                                                          versionTwo: versionTwo)) }
        }
    }

    /// One question: the best exact match and the best F1 over its gold answers.
    public static func score(prediction: String, answers: [String], versionTwo: Bool) -> QuestionScore {
        let predicted = normalizedAnswer(prediction)
        var golds = answers.map(normalizedAnswer)
        if versionTwo {
            golds = golds.filter { !$0.isEmpty }
            if golds.isEmpty { golds = [[]] }
        }
        var best = QuestionScore(exact: 0, f1: 0)
        for gold in golds {
            best.exact = max(best.exact, gold == predicted ? 1 : 0)
            best.f1 = max(best.f1, f1(predicted: predicted, gold: gold, versionTwo: versionTwo))
        }
        return best
    }

    /// `normalize_answer` as UTF-8 bytes (so that equality is code point equality).
    public static func normalizedAnswer(_ text: String) -> [UInt8] {
        var kept = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            for lower in scalar.properties.lowercaseMapping.unicodeScalars where !isASCIIPunctuation(lower) {
                kept.append(lower)
            }
        }
        // `re.sub(r'\b(a|an|the)\b', ' ', text)`: a whole run of word characters equal to an
        // article becomes one space.
        var withoutArticles = String.UnicodeScalarView()
        var run = String.UnicodeScalarView()
        func flush() {
            let word = String(run)
            if word == "a" || word == "an" || word == "the" {
                withoutArticles.append(" ")
            } else {
                withoutArticles.append(contentsOf: run)
            }
            run = String.UnicodeScalarView()
        }
        for scalar in kept {
            if isWordCharacter(scalar) {
                run.append(scalar)
            } else {
                flush()
                withoutArticles.append(scalar)
            }
        }
        flush()
        return Array(SQuADReader.pythonWhitespaceSplit(String(withoutArticles)).joined(separator: " ").utf8)
    }

    // MARK: - Scores

    /// Token F1 of normalised answers: v1.1's `f1_score`, or v2.0's `compute_f1`, which scores
    /// an empty answer on either side 1 when both are empty.
    static func f1(predicted: [UInt8], gold: [UInt8], versionTwo: Bool) -> Double {
        let predictedWords = words(predicted), goldWords = words(gold)
        if versionTwo && (predictedWords.isEmpty || goldWords.isEmpty) {
            return predictedWords == goldWords ? 1 : 0
        }
        var goldCounts: [ArraySlice<UInt8>: Int] = [:]
        for word in goldWords { goldCounts[word, default: 0] += 1 }
        var same = 0
        for word in predictedWords where goldCounts[word, default: 0] > 0 {
            goldCounts[word, default: 0] -= 1
            same += 1
        }
        guard same > 0 else { return 0 }
        let precision = 1.0 * Double(same) / Double(predictedWords.count)
        let recall = 1.0 * Double(same) / Double(goldWords.count)
        return (2 * precision * recall) / (precision + recall)
    }

    /// The words of a normalised answer (separated by single spaces).
    private static func words(_ normalized: [UInt8]) -> [ArraySlice<UInt8>] {
        normalized.split(separator: UInt8(ascii: " "))
    }

    private static func sum(_ scores: [QuestionScore]) -> (exact: Double, f1: Double) {
        var exact = 0.0, f1 = 0.0
        for score in scores {
            exact += score.exact
            f1 += score.f1
        }
        return (exact, f1)
    }

    /// `100.0 * total / count`, 0 for no questions.
    private static func percent(_ total: Double, _ count: Int) -> Double {
        count == 0 ? 0 : 100.0 * total / Double(count)
    }

    // MARK: - Characters

    /// Python's `string.punctuation`.
    private static func isASCIIPunctuation(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 33...47, 58...64, 91...96, 123...126: return true
        default: return false
        }
    }

    /// Python's `\w` on text: letters, digits and numerals, and `_`.
    private static func isWordCharacter(_ scalar: Unicode.Scalar) -> Bool {
        if scalar.value < 0x80 {
            return scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) || scalar == "_"
        }
        switch scalar.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter,
             .decimalNumber, .letterNumber, .otherNumber:
            return true
        default:
            return scalar.properties.numericType != nil
        }
    }
}
