import Foundation
import XCTest
@testable import BertText

/// SQuAD post-processing and metrics against google-research/bert's write_predictions and the
/// official evaluation scripts (golden/squad/postprocess-v1.1 and -v2.0, made by
/// tools/golden_squad_postprocess.py) on the fixed logits of golden/squad/README.md.
/// Tolerances: texts, logits, null odds and predictions exact; n-best probabilities within
/// 1e-12 relative (they are exp and division in Double, as Python computes them); metrics within
/// 1e-9.
final class SQuADPostprocessTests: XCTestCase {
    // MARK: - Fixed logits

    /// The README's hash of (unique id, position, start or end).
    static func mix(_ u: UInt32, _ p: UInt32, _ h: UInt32) -> UInt32 {
        var x = u &* 2_654_435_761 &+ p &* 2_246_822_519 &+ h &* 3_266_489_917
        x ^= x >> 15
        x = x &* 2_246_822_507
        x ^= x >> 13
        x = x &* 3_266_489_909
        x ^= x >> 16
        return x
    }

    /// The fixed logits of one feature: noise, the answer bump, and in v2.0 the context and
    /// [CLS] bumps.
    /// - Parameters:
    ///   - uniqueID: the feature's run_squad.py unique_id.
    ///   - answer: its training start and end positions.
    static func fixedLogits(_ feature: SQuADFeature, uniqueID: Int, answer: (Int, Int), impossible: Bool,
                            versionTwo: Bool, length: Int = 384) -> SQuADSpanLogits {
        let c = uniqueID % 4
        var ints = (0..<2).map { h in
            (0..<length).map { p in Int(mix(UInt32(uniqueID), UInt32(p), UInt32(h)) % 1024) - 512 }
        }
        let (s, e) = answer
        if s != 0 && c != 0 {
            ints[0][s] += 1024
            ints[1][c == 3 ? min(e + 2, feature.tokens.count - 2) : e] += 1024
        }
        if versionTwo {
            for p in feature.contextPositions {
                ints[0][p] += 256
                ints[1][p] += 256
            }
            let cls = impossible ? (c == 0 ? 0 : c == 3 ? 256 : 1024) : (c == 0 ? 384 : 0)
            ints[0][0] += cls
            ints[1][0] += cls
        }
        return SQuADSpanLogits(start: ints[0].map { Float($0) / 128 }, end: ints[1].map { Float($0) / 128 })
    }

    // MARK: - Golden files

    struct NBestEntry: Decodable {
        var text: String
        var probability: Double
        var start_logit: Double
        var end_logit: Double
    }

    struct VersionOneMetrics: Decodable {
        var exact_match: Double
        var f1: Double
        var total: Int
        var per_question: [String: [Double]]
    }

    /// The v2.0 script's dictionaries, as written.
    struct VersionTwoMetrics: Decodable {
        struct Threshold: Decodable {
            var plain: [String: Double]
            var with_null_odds: [String: Double]
            var per_question: [String: [Double]]
        }

        var thresholds: [String: Threshold]
    }

    /// `[unique_id, question id, doc_span_index, s, e]`.
    struct FeatureRow {
        var uniqueID: Int
        var question: String
        var docSpanIndex: Int
        var answer: (Int, Int)
    }

    static func path(_ name: String) -> String { TestFixtures.packageRoot + "/golden/squad/" + name }

    static func read(_ name: String) throws -> Data { try Data(contentsOf: URL(fileURLWithPath: path(name))) }

    static func decode<T: Decodable>(_ name: String, as type: T.Type) throws -> T {
        try JSONDecoder().decode(T.self, from: read(name))
    }

    static func featureRows(_ name: String) throws -> [FeatureRow] {
        try read(name).split(separator: UInt8(ascii: "\n")).map { line in
            let row = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(line)) as? [Any])
            return FeatureRow(uniqueID: try XCTUnwrap(row[0] as? Int), question: try XCTUnwrap(row[1] as? String),
                              docSpanIndex: try XCTUnwrap(row[2] as? Int),
                              answer: (try XCTUnwrap(row[3] as? Int), try XCTUnwrap(row[4] as? Int)))
        }
    }

    /// The fixed logits of `features`, checked against the golden feature list.
    static func logits(of features: [SQuADFeature], examples: [SQuADExample], rows: [FeatureRow],
                       versionTwo: Bool) throws -> [SQuADSpanLogits] {
        XCTAssertEqual(features.count, rows.count, "features")
        return zip(features, rows).enumerated().map { index, pair in
            let (feature, row) = pair
            let example = examples[feature.exampleIndex]
            XCTAssertEqual(row.uniqueID, SQuADFeatureConverter.firstUniqueID + index)
            XCTAssertEqual(example.id, row.question, "feature \(index)")
            XCTAssertEqual(feature.docSpanIndex, row.docSpanIndex, "feature \(index)")
            return fixedLogits(feature, uniqueID: row.uniqueID, answer: row.answer, impossible: example.isImpossible,
                               versionTwo: versionTwo)
        }
    }

    // MARK: - Comparisons

    /// Every entry of every golden n-best list: texts byte for byte, logits exactly,
    /// probabilities within 1e-12 relative. Returns how many probabilities are bit-identical.
    @discardableResult
    static func compareNBest(_ predictions: [SQuADPrediction], golden: [String: [NBestEntry]],
                             file: StaticString = #filePath, line: UInt = #line) -> (entries: Int, exact: Int) {
        let byID = Dictionary(predictions.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        var entries = 0, exact = 0
        for (id, expected) in golden {
            guard let nbest = byID[id]?.nbest else { XCTFail("no prediction for \(id)", file: file, line: line); continue }
            XCTAssertEqual(nbest.count, expected.count, "\(id): n-best length", file: file, line: line)
            for (entry, reference) in zip(nbest, expected) {
                entries += 1
                XCTAssertEqual(Array(entry.text.utf8), Array(reference.text.utf8), "\(id): text", file: file, line: line)
                XCTAssertEqual(entry.startLogit, reference.start_logit, "\(id)", file: file, line: line)
                XCTAssertEqual(entry.endLogit, reference.end_logit, "\(id)", file: file, line: line)
                XCTAssertEqual(entry.probability, reference.probability, accuracy: 1e-12 * reference.probability,
                               "\(id): probability", file: file, line: line)
                if entry.probability == reference.probability { exact += 1 }
            }
        }
        return (entries, exact)
    }

    /// Every question's prediction byte for byte.
    static func comparePredictions(_ predictions: [SQuADPrediction], golden: [String: String],
                                   file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(predictions.count, golden.count, "questions", file: file, line: line)
        var differing = 0
        for prediction in predictions where golden[prediction.id].map({ Array($0.utf8) }) != Array(prediction.text.utf8) {
            differing += 1
            if differing <= 10 {
                XCTFail("\(prediction.id): \"\(prediction.text)\", run_squad.py \"\(golden[prediction.id] ?? "-")\"",
                        file: file, line: line)
            }
        }
    }

    /// The answer's offsets hold its text in the context, up to the whitespace between words.
    static func checkCharacters(_ predictions: [SQuADPrediction], examples: [SQuADExample]) {
        let byID = Dictionary(examples.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        for prediction in predictions {
            let scalars = byID[prediction.id].map { Array($0.context.unicodeScalars) } ?? []
            for entry in prediction.nbest {
                guard let range = entry.characters else {
                    XCTAssertTrue(entry.text.isEmpty || entry.text == "empty", "\(prediction.id): no offsets")
                    continue
                }
                guard range.lowerBound >= 0, range.upperBound <= scalars.count else {
                    XCTFail("\(prediction.id): \(range) outside the context"); continue
                }
                let inContext = String(String.UnicodeScalarView(scalars[range]))
                let words = ContextWords(inContext).words.joined(separator: " ")
                XCTAssertEqual(Array(words.utf8), Array(entry.text.utf8), "\(prediction.id): characters \(range)")
            }
        }
    }

    /// Every number of the v2.0 script's dictionary within 1e-9, and no other, under the
    /// script's names (`exact` is `exact_match` in `Result`).
    static func compare(_ result: SQuADMetrics.Result, with reference: [String: Double], _ label: String) throws {
        var ours = try JSONDecoder().decode([String: Double].self, from: JSONEncoder().encode(result))
        ours["exact"] = ours.removeValue(forKey: "exact_match")
        XCTAssertEqual(Set(ours.keys), Set(reference.keys), label)
        for (key, value) in reference {
            XCTAssertEqual(ours[key] ?? .nan, value, accuracy: 1e-9, "\(label): \(key)")
        }
    }

    static func temporaryOutput(_ test: XCTestCase) throws -> URL {
        try TestFixtures.temporaryDirectory(test)
    }

    // MARK: - v1.1

    /// The 2,447 questions (2,456 features) of articles 36-47: predictions, n-best lists,
    /// offsets, the files as written, and the v1.1 metrics.
    func testVersionOneMatchesWritePredictionsAndTheOfficialScript() throws {
        let file = try SQuADFeatureTests.devFile()
        let examples = try SQuADReader.read(file, options: .init(isTraining: false)).examples
            .filter { (36...47).contains($0.articleIndex) }
        let features = try SQuADFeatureTests.converter().features(of: examples, isTraining: false)
        let logits = try Self.logits(of: features, examples: examples,
                                     rows: Self.featureRows("postprocess-v1.1/features.jsonl"), versionTwo: false)
        let postprocessor = SQuADPostprocessor(options: .init())
        let started = Date()
        let predictions = try postprocessor.predictions(examples: examples, features: features, logits: logits)
        let seconds = Date().timeIntervalSince(started)

        let golden = try Self.decode("postprocess-v1.1/predictions.json", as: [String: String].self)
        XCTAssertEqual(predictions.map(\.id), examples.map(\.id))
        Self.comparePredictions(predictions, golden: golden)
        let nbest = try Self.decode("postprocess-v1.1/nbest_predictions.json", as: [String: [NBestEntry]].self)
        XCTAssertEqual(nbest.count, 138)
        let compared = Self.compareNBest(predictions, golden: nbest)
        XCTAssertEqual(predictions.filter { $0.text == "empty" }.count, 7)
        Self.checkCharacters(predictions, examples: examples)
        for prediction in predictions {
            XCTAssertEqual(prediction.text, prediction.nbest.first?.text)
            XCTAssertNil(prediction.nullScoreDiff)
        }

        // The file as run_squad.py writes it, byte for byte.
        let directory = try Self.temporaryOutput(self)
        try postprocessor.write(predictions, to: directory)
        XCTAssertEqual(try Data(contentsOf: directory.appendingPathComponent("predictions.json")),
                       try Self.read("postprocess-v1.1/predictions.json"))
        let written = try JSONDecoder().decode([String: [NBestEntry]].self, from: Data(
            contentsOf: directory.appendingPathComponent("nbest_predictions.json")))
        XCTAssertEqual(written.count, examples.count)
        Self.compareNBest(predictions, golden: written.filter { nbest[$0.key] != nil })
        XCTAssertFalse(FileManager.default.fileExists(atPath: directory.appendingPathComponent("null_odds.json").path))

        // The official v1.1 script's numbers.
        let metrics = try Self.decode("postprocess-v1.1/metrics.json", as: VersionOneMetrics.self)
        let result = SQuADMetrics.evaluate(examples: examples, predictions: golden, versionTwo: false)
        XCTAssertEqual(result.exactMatch, metrics.exact_match, accuracy: 1e-9)
        XCTAssertEqual(result.f1, metrics.f1, accuracy: 1e-9)
        XCTAssertEqual(result.total, metrics.total)
        let scores = SQuADMetrics.questionScores(examples: examples, predictions: golden, versionTwo: false)
        XCTAssertEqual(scores.count, metrics.per_question.count)
        for (example, score) in scores {
            let expected = metrics.per_question[example.id] ?? []
            XCTAssertEqual([score.exact, score.f1].count, expected.count, example.id)
            for (value, reference) in zip([score.exact, score.f1], expected) {
                XCTAssertEqual(value, reference, accuracy: 1e-9, example.id)
            }
        }
        print("SQuAD v1.1 post-processing: \(predictions.count) questions in \(String(format: "%.2f", seconds)) s; "
              + "\(compared.entries) n-best entries, \(compared.exact) probabilities bit-identical; "
              + "EM \(result.exactMatch), F1 \(result.f1)")
    }

    // MARK: - v2.0

    /// dev-v2.0-small.json (80 questions, 95 features) with version_2_with_negative: n-best,
    /// null odds and the predictions at both thresholds, as written, and the v2.0 metrics.
    func testVersionTwoMatchesWritePredictionsAndTheOfficialScript() throws {
        let examples = try SQuADReader.read(Self.path("dev-v2.0-small.json"),
                                            options: .init(isTraining: false, versionTwoWithNegative: true)).examples
        let features = try SQuADFeatureTests.converter().features(of: examples, isTraining: false)
        let logits = try Self.logits(of: features, examples: examples,
                                     rows: Self.featureRows("postprocess-v2.0/features.jsonl"), versionTwo: true)
        XCTAssertEqual(features.count, 95)
        let nbest = try Self.decode("postprocess-v2.0/nbest_predictions.json", as: [String: [NBestEntry]].self)
        let nullOdds = try Self.decode("postprocess-v2.0/null_odds.json", as: [String: Double].self)
        let metrics = try Self.decode("postprocess-v2.0/metrics.json", as: VersionTwoMetrics.self)
        for threshold in ["0.0", "-7.234375"] {
            let options = SQuADPostprocessingOptions(versionTwoWithNegative: true,
                                                     nullScoreDiffThreshold: try XCTUnwrap(Double(threshold)))
            let postprocessor = SQuADPostprocessor(options: options)
            let predictions = try postprocessor.predictions(examples: examples, features: features, logits: logits)
            let name = "postprocess-v2.0/predictions-threshold-\(threshold).json"
            let golden = try Self.decode(name, as: [String: String].self)
            Self.comparePredictions(predictions, golden: golden)
            XCTAssertEqual(Self.compareNBest(predictions, golden: nbest).entries, nbest.values.map(\.count).reduce(0, +))
            XCTAssertEqual(nbest.count, examples.count)
            for prediction in predictions {
                XCTAssertEqual(prediction.nullScoreDiff, nullOdds[prediction.id], prediction.id)
            }
            Self.checkCharacters(predictions, examples: examples)

            let directory = try Self.temporaryOutput(self)
            try postprocessor.write(predictions, to: directory)
            XCTAssertEqual(try Data(contentsOf: directory.appendingPathComponent("predictions.json")),
                           try Self.read(name), threshold)
            XCTAssertEqual(try Data(contentsOf: directory.appendingPathComponent("null_odds.json")),
                           try Self.read("postprocess-v2.0/null_odds.json"))

            // Without a na-prob file (squad_metrics adds best_* over zero odds there; the script
            // does not), and with null_odds.json as one, threshold 1.0, as BERT's README runs it.
            let reference = try XCTUnwrap(metrics.thresholds[threshold])
            try Self.compare(SQuADMetrics.evaluate(examples: examples, predictions: golden, versionTwo: true),
                             with: reference.plain.filter { !$0.key.hasPrefix("best_") }, "\(threshold) plain")
            try Self.compare(SQuADMetrics.evaluate(examples: examples, predictions: golden, versionTwo: true,
                                                   noAnswerProbabilities: nullOdds),
                             with: reference.with_null_odds, "\(threshold) with null odds")
            let perQuestion = try XCTUnwrap(metrics.thresholds[threshold]).per_question
            for (example, score) in SQuADMetrics.questionScores(examples: examples, predictions: golden, versionTwo: true) {
                let reference = perQuestion[example.id] ?? []
                XCTAssertEqual(reference.count, 2, example.id)
                for (value, gold) in zip([score.exact, score.f1], reference) {
                    XCTAssertEqual(value, gold, accuracy: 1e-9, example.id)
                }
            }
        }
    }

    // MARK: - Bad input

    /// Logits that do not fit the features give errors naming the question, never a crash.
    func testLogitsThatDoNotFitGiveErrors() throws {
        let example = SQuADExample(id: "q", question: "Who went home?", context: "Ann went home.")
        let feature = try SQuADFeatureTests.converter().features(of: example, exampleIndex: 0, isTraining: false)[0]
        let good = SQuADSpanLogits(start: [Float](repeating: 0, count: 384), end: [Float](repeating: 0, count: 384))
        let postprocessor = SQuADPostprocessor(options: .init())
        XCTAssertEqual(try postprocessor.predictions(examples: [example], features: [feature], logits: [good]).count, 1)

        var short = good
        short.end = Array(good.end.prefix(feature.tokens.count - 1))
        var notANumber = good
        notANumber.start[3] = .nan
        var stranger = feature
        stranger.exampleIndex = 1
        let cases: [(String, [SQuADFeature], [SQuADSpanLogits], SQuADPostprocessingOptions, String)] = [
            ("fewer logits than features", [feature, feature], [good], .init(), "2 features, 1 logits"),
            ("logits shorter than the tokens", [feature], [short], .init(), "question \"q\" window 0: 384 start and"),
            ("NaN", [feature], [notANumber], .init(), "not all finite"),
            ("a feature of a missing example", [stranger], [good], .init(), "belongs to example 1, but there are 1"),
            ("no n-best", [feature], [good], .init(nBestSize: 0), "must be positive"),
        ]
        for (name, features, logits, options, expected) in cases {
            XCTAssertThrowsError(try SQuADPostprocessor(options: options).predictions(
                examples: [example], features: features, logits: logits), name) {
                XCTAssertTrue(String(describing: $0).contains(expected), "\(name): \($0)")
            }
        }
    }

    /// With no valid span the original answers v1.1 with the nonce "empty" and fails in v2.0
    /// mode; here v2.0 takes the nonce as its best non-null answer, and the threshold decides.
    func testNoValidSpanGivesTheNonce() throws {
        let example = SQuADExample(id: "q", question: "Who went home?", context: "Ann went home.")
        let feature = try SQuADFeatureTests.converter().features(of: example, exampleIndex: 0, isTraining: false)[0]
        // The single best start is a question token, so no span is valid.
        var logits = SQuADSpanLogits(start: [Float](repeating: 0, count: 384), end: [Float](repeating: 0, count: 384))
        logits.start[1] = 4
        logits.start[0] = -1
        logits.end[0] = -2
        let one = SQuADPostprocessingOptions(nBestSize: 1)
        let versionOne = try SQuADPostprocessor(options: one).predictions(examples: [example], features: [feature],
                                                                         logits: [logits])
        XCTAssertEqual(versionOne.map(\.text), ["empty"])
        XCTAssertEqual(versionOne.first?.nbest.count, 1)
        for (threshold, text) in [(-3.5, ""), (-3.0, "empty")] {
            let options = SQuADPostprocessingOptions(nBestSize: 1, versionTwoWithNegative: true,
                                                     nullScoreDiffThreshold: threshold)
            let prediction = try XCTUnwrap(try SQuADPostprocessor(options: options).predictions(
                examples: [example], features: [feature], logits: [logits]).first)
            XCTAssertEqual(prediction.nbest.map(\.text), ["", "empty"])
            XCTAssertEqual(prediction.nullScoreDiff, -3)
            XCTAssertEqual(prediction.text, text, "threshold \(threshold)")
            XCTAssertNil(prediction.characters)
        }
    }

    // MARK: - Examples from strings

    /// A question and context given as strings split as the reader splits a file, with the
    /// offsets of the words; such examples never share a context in one conversion.
    func testExamplesFromStringsSplitAsTheReader() throws {
        let context = " Ann\u{A0}Lee  went\thome\u{202F}at 9.\n"
        let file: [String: Any] = ["data": [["paragraphs": [["context": context, "qas": [
            ["id": "q", "question": "Who?", "answers": [Any]()]]]]]]]
        let json = try JSONSerialization.data(withJSONObject: file)
        let read = try SQuADReader.read(data: json, source: "x.json", options: .init(isTraining: false))
        let fromFile = try XCTUnwrap(read.examples.first)
        let made = SQuADExample(id: "q", question: "Who?", context: context)
        XCTAssertEqual(made.contextWords, fromFile.contextWords)
        XCTAssertEqual(made.contextWordStarts, fromFile.contextWordStarts)
        XCTAssertEqual(Array(made.context.utf8), Array(fromFile.context.utf8))
        XCTAssertEqual(made.contextWords, ["Ann\u{A0}Lee", "went", "home", "at", "9."])
        let scalars = Array(context.unicodeScalars)
        for (word, start) in zip(made.contextWords, made.contextWordStarts) {
            XCTAssertEqual(Array(scalars[start..<(start + word.unicodeScalars.count)]), Array(word.unicodeScalars))
        }
        // Two contexts with as many words convert on their own.
        let converter = try SQuADFeatureTests.converter()
        let pair = [SQuADExample(question: "Who?", context: "Ann went home."),
                    SQuADExample(question: "Who?", context: "Bob ran away.")]
        let features = converter.features(of: pair, isTraining: false)
        XCTAssertEqual(features.map { Array($0.tokens.dropFirst(4)) }, [["ann", "went", "home", ".", "[SEP]"],
                                                                        ["bob", "ran", "away", ".", "[SEP]"]])
    }

    // MARK: - Answering strings

    /// Questions and contexts as strings: the model closure sees every window of the batch,
    /// and the answer comes back with its offsets in the context, from whichever window holds it.
    func testAnswererFindsTheSpanAndItsOffsets() throws {
        let vocabulary = try TestFixtures.vocabulary()
        let converter = try SQuADFeatureConverter(vocabulary: vocabulary, lowercase: true, maxSeqLength: 24,
                                                  docStride: 6, maxQueryLength: 8)
        let answerer = SQuADAnswerer(converter: converter)
        let filler = Array(repeating: "and then  the river ran on,", count: 4).joined(separator: " ")
        let contexts = [filler + " Ann Lee's\u{A0}boat\twent home.", "Short: Bob."]
        let questions = ["Whose boat went home?", "Who?"]
        let targets = [["ann", "lee"], ["bob"]]
        var windows = 0
        let answers = try answerer.answers(to: Array(zip(questions, contexts))) { features in
            windows = features.count
            // A high start logit on the first target piece and a high end logit on the last,
            // in every window that holds them.
            return features.map { feature in
                var start = [Float](repeating: 0, count: converter.maxSeqLength)
                var end = start
                let target = targets[feature.exampleIndex]
                for position in feature.contextPositions where feature.tokens[position] == target[0]
                    && Array(feature.tokens[position...].prefix(target.count)) == target {
                    start[position] = 8
                    end[position + target.count - 1] = 8
                }
                return SQuADSpanLogits(start: start, end: end)
            }
        }
        XCTAssertGreaterThan(windows, 4)
        XCTAssertEqual(answers.map(\.text), ["Ann Lee's\u{A0}boat", "Bob"])
        for (answer, context) in zip(answers, contexts) {
            let characters = try XCTUnwrap(answer.characters)
            let scalars = Array(context.unicodeScalars)[characters]
            XCTAssertEqual(String(String.UnicodeScalarView(scalars)), answer.text)
            XCTAssertEqual(answer.score, 16)
        }
        // No words: no window, and the empty answer.
        let empty = try answerer.answer(question: "Who?", context: " \n") { _ in
            XCTFail("the model runs on no window")
            return []
        }
        XCTAssertEqual(empty.text, "")
        XCTAssertNil(empty.characters)
    }
}
