import Foundation
import XCTest
@testable import BertText

/// SQuAD reading and feature conversion against google-research/bert's run_squad.py
/// (golden/squad/, made by tools/golden_squad_features.py): the sample's features field by
/// field, every question of dev-v1.1.json by digest, the v2.0 file with impossible questions,
/// and malformed files.
final class SQuADFeatureTests: XCTestCase {
    // MARK: - Golden files

    /// A feature as the goldens write it (the canonical object).
    struct GoldenFeature: Decodable {
        var doc_span_index: Int
        var end_position: Int?
        var input_ids: [Int32]
        var input_mask: [Int32]
        var segment_ids: [Int32]
        var start_position: Int?
        var token_is_max_context: [Pair<Bool>]
        var token_to_orig_map: [Pair<Int>]
        var tokens: [String]
    }

    /// `[position, value]`.
    struct Pair<Value: Decodable & Equatable>: Decodable, Equatable {
        var position: Int
        var value: Value

        init(position: Int, value: Value) {
            self.position = position
            self.value = value
        }

        init(from decoder: Decoder) throws {
            var container = try decoder.unkeyedContainer()
            position = try container.decode(Int.self)
            value = try container.decode(Value.self)
        }
    }

    struct SampleLine: Decodable {
        var id: String
        var features: [GoldenFeature]
        var train_positions: [[Int]]
    }

    struct DigestLine: Decodable {
        var id: String
        var eval: [String]
        var n: Int
        var train_positions: [[Int]]
    }

    struct VersionTwoLine: Decodable {
        var id: String
        var eval: [String]
        var train: [String]
        var train_positions: [[Int]]
        var is_impossible: Bool
        var n: Int
    }

    static func goldenPath(_ name: String) -> String { TestFixtures.packageRoot + "/golden/squad/" + name }

    static func jsonLines<T: Decodable>(_ name: String, as type: T.Type) throws -> [T] {
        let data = try Data(contentsOf: URL(fileURLWithPath: goldenPath(name)))
        return try data.split(separator: UInt8(ascii: "\n")).map { try JSONDecoder().decode(T.self, from: Data($0)) }
    }

    /// The converter with the goldens' settings and vocabulary (bert-base-uncased's, the same
    /// file as MiniLM-L6's: sha256 07eced37…038a3).
    static func converter() throws -> SQuADFeatureConverter {
        try SQuADFeatureConverter(vocabulary: try TestFixtures.vocabulary(), lowercase: true)
    }

    /// squad/dev-v1.1.json in the data root; skips the test when it is absent.
    static func devFile() throws -> String {
        let locator = try TestFixtures.dataLocator()
        guard locator.fileExists("squad/dev-v1.1.json") else { throw XCTSkip("no squad/dev-v1.1.json in \(locator.root)") }
        return locator.path("squad/dev-v1.1.json")
    }

    /// The features of `examples`, grouped by example.
    static func grouped(_ features: [SQuADFeature], count: Int) -> [[SQuADFeature]] {
        var groups = [[SQuADFeature]](repeating: [], count: count)
        for feature in features { groups[feature.exampleIndex].append(feature) }
        return groups
    }

    /// The first field in which `feature` differs from `golden`, or nil.
    static func firstDifference(_ feature: SQuADFeature, _ golden: GoldenFeature) -> String? {
        let start = feature.contextPositions.lowerBound
        let checks: [(String, Bool)] = [
            ("doc_span_index", feature.docSpanIndex == golden.doc_span_index),
            ("end_position", feature.endPosition == golden.end_position),
            ("input_ids", feature.inputIDs == golden.input_ids),
            ("input_mask", feature.inputMask == golden.input_mask),
            ("segment_ids", feature.segmentIDs == golden.segment_ids),
            ("start_position", feature.startPosition == golden.start_position),
            ("token_is_max_context", feature.tokenIsMaxContext.enumerated().map { Pair(position: start + $0, value: $1) }
                == golden.token_is_max_context),
            ("token_to_orig_map", feature.tokenToOrigMap.enumerated().map { Pair(position: start + $0, value: $1) }
                == golden.token_to_orig_map),
            // Byte-wise: Swift's String == treats canonically equivalent text as equal.
            ("tokens", feature.tokens.map { Array($0.utf8) } == golden.tokens.map { Array($0.utf8) }),
        ]
        return checks.first { !$0.1 }?.0
    }

    // MARK: - v1.1

    /// The 125 sample questions (175 features): every field of every eval feature, the
    /// training positions, and the digest of the canonical text against the digest file.
    func testSampleFeaturesEqualTheReferenceFieldByField() throws {
        let converter = try Self.converter()
        let file = try Self.devFile()
        let examples = try SQuADReader.read(file, options: .init(isTraining: false)).examples
        let training = try SQuADReader.read(file, options: .init(isTraining: true, firstAnswerOnly: true)).examples
        let index = Dictionary(uniqueKeysWithValues: examples.enumerated().map { ($1.id, $0) })
        let digests = Dictionary(uniqueKeysWithValues: try Self.jsonLines("features-digest.jsonl", as: DigestLine.self)
            .map { ($0.id, $0.eval) })
        var compared = 0
        for line in try Self.jsonLines("features-sample.jsonl", as: SampleLine.self) {
            let exampleIndex = try XCTUnwrap(index[line.id], "sample question \(line.id) not read")
            let features = converter.features(of: examples[exampleIndex], exampleIndex: exampleIndex, isTraining: false)
            XCTAssertEqual(features.count, line.features.count, "\(line.id): number of windows")
            for (feature, golden) in zip(features, line.features) {
                if let field = Self.firstDifference(feature, golden) {
                    XCTFail("\(line.id) window \(feature.docSpanIndex): \(field) differs from run_squad.py's")
                } else {
                    compared += 1
                }
            }
            XCTAssertEqual(features.map { $0.digest() }, digests[line.id], "\(line.id): digests")
            let trained = converter.features(of: training[exampleIndex], exampleIndex: exampleIndex, isTraining: true)
            XCTAssertEqual(trained.map { [$0.startPosition ?? -1, $0.endPosition ?? -1] }, line.train_positions,
                           "\(line.id): training positions")
        }
        XCTAssertEqual(compared, 175)
    }

    /// Every question of dev-v1.1.json: the digest of each eval feature and the training
    /// positions of each window.
    func testEveryDevQuestionMatchesTheReferenceDigests() throws {
        let converter = try Self.converter()
        let file = try Self.devFile()
        let started = Date()
        let examples = try SQuADReader.read(file, options: .init(isTraining: false)).examples
        let (training, dropped) = try SQuADReader.read(file, options: .init(isTraining: true, firstAnswerOnly: true))
        XCTAssertEqual(dropped, 0)
        XCTAssertEqual(training.map(\.id), examples.map(\.id))
        let evalFeatures = Self.grouped(converter.features(of: examples, isTraining: false), count: examples.count)
        let trainFeatures = Self.grouped(converter.features(of: training, isTraining: true), count: training.count)
        let lines = try Self.jsonLines("features-digest.jsonl", as: DigestLine.self)
        XCTAssertEqual(lines.count, examples.count)
        var matchedQuestions = 0, matchedFeatures = 0, failures = 0
        for (index, line) in lines.enumerated() where index < examples.count {
            let digests = evalFeatures[index].map { $0.digest() }
            let positions = trainFeatures[index].map { [$0.startPosition ?? -1, $0.endPosition ?? -1] }
            matchedFeatures += zip(digests, line.eval).filter { $0 == $1 }.count
            if examples[index].id == line.id && digests == line.eval && positions == line.train_positions {
                matchedQuestions += 1
            } else {
                failures += 1
                if failures <= 10 {
                    XCTFail("question \(line.id) (#\(index)): \(digests == line.eval ? "" : "eval features differ; ")"
                            + "training positions \(positions) vs \(line.train_positions)")
                }
            }
        }
        let seconds = Date().timeIntervalSince(started)
        print("SQuAD dev-v1.1: \(matchedQuestions)/\(lines.count) questions, \(matchedFeatures) features match "
              + "run_squad.py (\(String(format: "%.2f", seconds)) s)")
        XCTAssertEqual(matchedQuestions, 10_570)
        XCTAssertEqual(matchedFeatures, 10_833)
    }

    // MARK: - v2.0

    /// dev-v2.0-small.json with version_2_with_negative: eval and training digests (with
    /// `is_impossible`), positions, and the impossible flags.
    func testVersionTwoFeaturesMatchTheReference() throws {
        let converter = try Self.converter()
        let file = Self.goldenPath("dev-v2.0-small.json")
        let examples = try SQuADReader.read(file, options: .init(isTraining: false, versionTwoWithNegative: true)).examples
        let (training, dropped) = try SQuADReader.read(
            file, options: .init(isTraining: true, versionTwoWithNegative: true, firstAnswerOnly: true))
        XCTAssertEqual(dropped, 0)
        let evalFeatures = Self.grouped(converter.features(of: examples, isTraining: false), count: examples.count)
        let trainFeatures = Self.grouped(converter.features(of: training, isTraining: true), count: training.count)
        let lines = try Self.jsonLines("v2-features.jsonl", as: VersionTwoLine.self)
        XCTAssertEqual(lines.count, 80)
        XCTAssertEqual(examples.count, lines.count)
        for (index, line) in lines.enumerated() where index < examples.count {
            XCTAssertEqual(examples[index].id, line.id)
            XCTAssertEqual(examples[index].isImpossible, line.is_impossible, line.id)
            XCTAssertEqual(evalFeatures[index].count, line.n, line.id)
            XCTAssertEqual(evalFeatures[index].map { $0.digest(withImpossible: true) }, line.eval, "\(line.id): eval")
            XCTAssertEqual(trainFeatures[index].map { $0.digest(withImpossible: true) }, line.train, "\(line.id): train")
            XCTAssertEqual(trainFeatures[index].map { [$0.startPosition ?? -1, $0.endPosition ?? -1] },
                           line.train_positions, "\(line.id): training positions")
        }
    }

    // MARK: - Malformed input

    /// Hostile or damaged files give an error naming the file (and the question), never a crash.
    func testMalformedFilesGiveErrors() throws {
        let question = #"{"id": "q1", "question": "Who?", "answers": [{"text": "Ann", "answer_start": 0}]}"#
        func file(qas: String, context: String = "Ann went home.") -> String {
            #"{"data": [{"title": "t", "paragraphs": [{"context": "\#(context)", "qas": [\#(qas)]}]}]}"#
        }
        let training = SQuADReadingOptions(isTraining: true)
        let cases: [(String, String, SQuADReadingOptions, String)] = [
            ("not JSON", "{\"data\": [", training, "not valid JSON"),
            ("no data", "{\"version\": \"1.1\"}", training, "no \"data\" list"),
            ("data not a list", "{\"data\": 3}", training, "no \"data\" list"),
            ("top level a list", "[1, 2]", training, "no \"data\" list"),
            ("no paragraphs", "{\"data\": [{\"title\": \"t\"}]}", training, "article 0 has no \"paragraphs\""),
            ("context not a string", #"{"data": [{"paragraphs": [{"context": 5, "qas": []}]}]}"#, training,
             "needs a \"context\" string"),
            ("question not an object", file(qas: "7"), training, "question 0 of paragraph 0: not a JSON object"),
            ("no id", file(qas: #"{"question": "Who?", "answers": []}"#), training, "no \"id\" string"),
            ("no question", file(qas: #"{"id": "q1"}"#), training, "question \"q1\": no \"question\" string"),
            ("two answers in training", file(qas: #"{"id": "q1", "question": "Who?", "answers": [{"text": "Ann", "answer_start": 0}, {"text": "Ann", "answer_start": 0}]}"#),
             training, "question \"q1\": training needs exactly one answer, found 2"),
            ("no answer in training", file(qas: #"{"id": "q1", "question": "Who?", "answers": []}"#),
             .init(isTraining: true, firstAnswerOnly: true), "found 0"),
            ("answer past the context", file(qas: #"{"id": "q1", "question": "Who?", "answers": [{"text": "Ann", "answer_start": 40}]}"#),
             training, "is outside the context"),
            ("negative answer_start", file(qas: #"{"id": "q1", "question": "Who?", "answers": [{"text": "Ann", "answer_start": -2}]}"#),
             training, "is outside the context"),
            ("fractional answer_start", file(qas: #"{"id": "q1", "question": "Who?", "answers": [{"text": "Ann", "answer_start": 0.5}]}"#),
             training, "integer \"answer_start\""),
            ("huge answer_start", file(qas: #"{"id": "q1", "question": "Who?", "answers": [{"text": "Ann", "answer_start": 1e300}]}"#),
             training, "integer \"answer_start\""),
            ("answer_start a string", file(qas: #"{"id": "q1", "question": "Who?", "answers": [{"text": "Ann", "answer_start": "0"}]}"#),
             .init(isTraining: false), "integer \"answer_start\""),
            ("empty answer", file(qas: #"{"id": "q1", "question": "Who?", "answers": [{"text": "", "answer_start": 0}]}"#),
             training, "the answer text is empty"),
            ("answer on leading whitespace", file(qas: #"{"id": "q1", "question": "Who?", "answers": [{"text": " Ann", "answer_start": 0}]}"#, context: " Ann went."),
             training, "starts on whitespace"),
            ("is_impossible not a flag", file(qas: #"{"id": "q1", "question": "Who?", "answers": [], "is_impossible": "yes"}"#),
             .init(isTraining: true, versionTwoWithNegative: true), "\"is_impossible\" must be true or false"),
            ("deep nesting", String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000), training,
             "not valid JSON"),
        ]
        for (name, text, options, expected) in cases {
            XCTAssertThrowsError(try SQuADReader.read(data: Data(text.utf8), source: "bad.json", options: options), name) {
                let message = String(describing: $0)
                XCTAssertTrue($0 is SQuADError, "\(name): \(message)")
                XCTAssertTrue(message.hasPrefix("bad.json"), "\(name): \(message)")
                XCTAssertTrue(message.contains(expected), "\(name): \(message)")
            }
        }
        // Well formed: the question reads, in both modes.
        let good = try SQuADReader.read(data: Data(file(qas: question).utf8), source: "good.json", options: training)
        XCTAssertEqual(good.examples.map(\.trainingAnswer), [.init(text: "Ann", firstWord: 0, lastWord: 0)])

        let directory = try TestFixtures.temporaryDirectory(self)
        XCTAssertThrowsError(try SQuADReader.read(directory.path, options: training)) {
            XCTAssertEqual(String(describing: $0), "cannot read \(directory.path): it is a directory, not a file")
        }
        XCTAssertThrowsError(try SQuADReader.read(directory.path + "/missing.json", options: training)) {
            XCTAssertTrue(String(describing: $0).contains("no such file or directory"))
        }
    }

    /// An answer whose whitespace-normalised text is not in its words is dropped in training, as
    /// the original drops it; settings with no room for the context are refused.
    func testUnfoundAnswersAreDroppedAndBadSettingsRefused() throws {
        let text = #"{"data": [{"paragraphs": [{"context": "Ann went home.", "qas": [{"id": "q1", "question": "Who?", "answers": [{"text": "Bob", "answer_start": 0}]}]}]}]}"#
        let read = try SQuADReader.read(data: Data(text.utf8), source: "x.json", options: .init(isTraining: true))
        XCTAssertEqual(read.examples.count, 0)
        XCTAssertEqual(read.dropped, 1)
        let vocabulary = try TestFixtures.vocabulary()
        XCTAssertThrowsError(try SQuADFeatureConverter(vocabulary: vocabulary, lowercase: true, maxSeqLength: 67))
        XCTAssertThrowsError(try SQuADFeatureConverter(vocabulary: vocabulary, lowercase: true, docStride: 0))
        XCTAssertNoThrow(try SQuADFeatureConverter(vocabulary: vocabulary, lowercase: true, maxSeqLength: 68))
    }
}
