// Reading SQuAD v1.1 and v2.0 JSON files into examples, as google-research/bert's
// `read_squad_examples` (run_squad.py 227-290) does:
//   1. split each context into words on space, tab, CR, LF and U+202F only, recording the word
//      of every character (a whitespace character belongs to the word before it, -1 before
//      the first word);
//   2. in training mode, map the answer's character offsets to words, and drop the question
//      when the whitespace-normalised answer is not found in those words.
// Characters are Unicode scalars, as Python's are code points. The file is checked as it is
// walked: a missing key, a value of the wrong type or an answer outside its context is an
// error that names the file and the question, never a crash.

import Foundation

/// One answer as the file gives it: its text and the offset of its first character in the
/// context, in Unicode scalars.
public struct SQuADAnswer: Sendable, Equatable {
    public var text: String
    public var start: Int

    public init(text: String, start: Int) {
        self.text = text
        self.start = start
    }
}

/// A question with its context split into words (run_squad.py's `SquadExample`).
public struct SQuADExample: Sendable {
    /// The question's `id`.
    public var id: String
    public var question: String
    /// The paragraph as the file (or the caller) gives it.
    public var context: String
    /// The context's words, split on whitespace only (punctuation stays attached).
    public var contextWords: [String]
    /// The offset in `context` of each word's first character, in Unicode scalars (as Python
    /// counts characters); answers are mapped back to the context through these.
    public var contextWordStarts: [Int]
    /// The index of the paragraph in the file (the questions of a paragraph share its words);
    /// -1 for an example made from strings, which shares its words with no other.
    public var paragraphIndex: Int
    /// The index of the article (`data` entry) in the file.
    public var articleIndex: Int
    /// Every answer in the file (empty for an impossible question), for evaluation.
    public var answers: [SQuADAnswer]
    /// `is_impossible` from a v2.0 file; false when the reader is not in v2.0 mode.
    public var isImpossible: Bool
    /// The training answer (the only, or the first, answer): its text and first and last
    /// word. Nil when read for evaluation and for an impossible question.
    public var trainingAnswer: TrainingAnswer?

    /// The answer training uses, mapped onto the context's words.
    public struct TrainingAnswer: Sendable, Equatable {
        public var text: String
        public var firstWord: Int
        public var lastWord: Int
    }

    /// One question about one context, given as strings (no file): the context is split into
    /// words exactly as the reader splits a file's paragraphs; there is no answer.
    /// - Parameter id: the question's name in predictions (any string).
    public init(id: String = "", question: String, context: String) {
        let words = ContextWords(context)
        self.init(id: id, question: question, context: context, words: words, paragraphIndex: -1, articleIndex: -1,
                  answers: [], isImpossible: false)
    }

    init(id: String, question: String, context: String, words: ContextWords, paragraphIndex: Int, articleIndex: Int,
         answers: [SQuADAnswer], isImpossible: Bool) {
        self.id = id
        self.question = question
        self.context = context
        contextWords = words.words
        contextWordStarts = words.wordStarts
        self.paragraphIndex = paragraphIndex
        self.articleIndex = articleIndex
        self.answers = answers
        self.isImpossible = isImpossible
        trainingAnswer = nil
    }
}

/// How `SQuADReader` treats answers.
public struct SQuADReadingOptions: Sendable {
    /// Map an answer onto the words (run_squad.py's `is_training`).
    public var isTraining: Bool
    /// Read `is_impossible` (run_squad.py's `version_2_with_negative`).
    public var versionTwoWithNegative: Bool
    /// In training, use the first of several answers instead of rejecting the question (the
    /// original requires exactly one; a dev file has up to six per question).
    public var firstAnswerOnly: Bool

    public init(isTraining: Bool, versionTwoWithNegative: Bool = false, firstAnswerOnly: Bool = false) {
        self.isTraining = isTraining
        self.versionTwoWithNegative = versionTwoWithNegative
        self.firstAnswerOnly = firstAnswerOnly
    }
}

/// Why a SQuAD file could not be read.
public enum SQuADError: Error, CustomStringConvertible, Equatable {
    /// The file could not be read (missing, not a file, too large).
    case unreadable(file: String, reason: String)
    /// The file is not JSON, or its structure is not SQuAD's.
    case malformed(file: String, reason: String)
    /// A question is malformed (`question` is its id, or its position when it has none).
    case badQuestion(file: String, question: String, reason: String)
    /// Feature conversion settings that cannot produce a window.
    case badSettings(String)

    public var description: String {
        switch self {
        case let .unreadable(file, reason): return "cannot read \(file): \(reason)"
        case let .malformed(file, reason): return "\(file): not a SQuAD file: \(reason)"
        case let .badQuestion(file, question, reason): return "\(file): question \(question): \(reason)"
        case let .badSettings(reason): return "bad SQuAD feature settings: \(reason)"
        }
    }
}

/// Reads SQuAD JSON files.
public enum SQuADReader {
    /// The largest file read (train-v2.0.json is 40 MB).
    public static let maximumFileSize = 512 << 20

    /// Reads the SQuAD file at `path`.
    /// - Returns: the examples in file order; in training, without the questions whose answer
    ///   text is not found in the context (`dropped` counts them).
    /// - Throws: `SQuADError` naming the file (and the question).
    public static func read(_ path: String,
                            options: SQuADReadingOptions) throws -> (examples: [SQuADExample], dropped: Int) {
        let data: Data
        do {
            data = try FileAccess.read(path, limit: maximumFileSize, what: "a SQuAD file")
        } catch {
            throw SQuADError.unreadable(file: path, reason: FileAccess.reason(for: error))
        }
        return try read(data: data, source: path, options: options)
    }

    /// Reads the bytes of a SQuAD file; `source` names it in errors.
    public static func read(data: Data, source: String,
                            options: SQuADReadingOptions) throws -> (examples: [SQuADExample], dropped: Int) {
        let root: Any
        do {
            root = try JSONSerialization.jsonObject(with: data)
        } catch {
            throw SQuADError.malformed(file: source, reason: "not valid JSON")
        }
        guard let articles = (root as? [String: Any])?["data"] as? [Any] else {
            throw SQuADError.malformed(file: source, reason: "no \"data\" list at the top level")
        }
        var examples: [SQuADExample] = []
        var dropped = 0
        var paragraphIndex = 0
        for (articleIndex, article) in articles.enumerated() {
            guard let paragraphs = (article as? [String: Any])?["paragraphs"] as? [Any] else {
                throw SQuADError.malformed(file: source, reason: "article \(articleIndex) has no \"paragraphs\" list")
            }
            for paragraph in paragraphs {
                defer { paragraphIndex += 1 }
                guard let paragraph = paragraph as? [String: Any], let context = paragraph["context"] as? String,
                      let questions = paragraph["qas"] as? [Any] else {
                    throw SQuADError.malformed(file: source, reason: "paragraph \(paragraphIndex) (article \(articleIndex)) "
                                               + "needs a \"context\" string and a \"qas\" list")
                }
                let words = ContextWords(context)
                for (questionIndex, question) in questions.enumerated() {
                    let name = ((question as? [String: Any])?["id"] as? String).map { "\"\($0)\"" }
                        ?? "\(questionIndex) of paragraph \(paragraphIndex)"
                    do {
                        if let example = try readQuestion(question, context: context, words: words, options: options,
                                                          paragraphIndex: paragraphIndex, articleIndex: articleIndex) {
                            examples.append(example)
                        } else {
                            dropped += 1
                        }
                    } catch let reason as QuestionProblem {
                        throw SQuADError.badQuestion(file: source, question: name, reason: reason.reason)
                    }
                }
            }
        }
        return (examples, dropped)
    }

    // MARK: - One question

    private struct QuestionProblem: Error {
        var reason: String
    }

    /// The example of one `qas` entry, or nil when training drops it.
    private static func readQuestion(_ value: Any, context: String, words: ContextWords, options: SQuADReadingOptions,
                                     paragraphIndex: Int, articleIndex: Int) throws -> SQuADExample? {
        guard let qa = value as? [String: Any] else { throw QuestionProblem(reason: "not a JSON object") }
        guard let id = qa["id"] as? String else { throw QuestionProblem(reason: "no \"id\" string") }
        guard let question = qa["question"] as? String else { throw QuestionProblem(reason: "no \"question\" string") }
        var isImpossible = false
        if options.versionTwoWithNegative {
            switch qa["is_impossible"] {
            case let flag as Bool: isImpossible = flag
            case nil where !options.isTraining: break
            default: throw QuestionProblem(reason: "\"is_impossible\" must be true or false")
            }
        }
        let answers = try readAnswers(qa["answers"], required: options.isTraining && !isImpossible)
        var example = SQuADExample(id: id, question: question, context: context, words: words,
                                   paragraphIndex: paragraphIndex, articleIndex: articleIndex, answers: answers,
                                   isImpossible: isImpossible)
        guard options.isTraining && !isImpossible else { return example }
        let used = options.firstAnswerOnly ? Array(answers.prefix(1)) : answers
        guard used.count == 1 else {
            throw QuestionProblem(reason: "training needs exactly one answer, found \(used.count)")
        }
        let answer = used[0]
        let length = answer.text.unicodeScalars.count
        guard length > 0 else { throw QuestionProblem(reason: "the answer text is empty") }
        guard answer.start >= 0, answer.start + length <= words.wordOfCharacter.count else {
            throw QuestionProblem(reason: "the answer (characters \(answer.start)..<\(answer.start + length)) "
                                  + "is outside the context (\(words.wordOfCharacter.count) characters)")
        }
        let first = words.wordOfCharacter[answer.start], last = words.wordOfCharacter[answer.start + length - 1]
        guard first >= 0, first <= last else {
            throw QuestionProblem(reason: "the answer starts on whitespace before the context's first word")
        }
        // The original keeps an answer only when its whitespace-normalised text occurs in the
        // words it spans (comparing code points, so byte-wise here).
        let spanned = Array(words.words[first...last].joined(separator: " ").utf8)
        let cleaned = Array(pythonWhitespaceSplit(answer.text).joined(separator: " ").utf8)
        guard contains(spanned, cleaned) else { return nil }
        example.trainingAnswer = .init(text: answer.text, firstWord: first, lastWord: last)
        return example
    }

    private static func readAnswers(_ value: Any?, required: Bool) throws -> [SQuADAnswer] {
        guard let value else {
            if required { throw QuestionProblem(reason: "no \"answers\" list") }
            return []
        }
        guard let list = value as? [Any] else { throw QuestionProblem(reason: "\"answers\" is not a list") }
        return try list.enumerated().map { index, entry in
            guard let answer = entry as? [String: Any], let text = answer["text"] as? String,
                  let start = answer["answer_start"] as? Int else {
                throw QuestionProblem(reason: "answer \(index) needs a \"text\" string and an integer \"answer_start\"")
            }
            return SQuADAnswer(text: text, start: start)
        }
    }

    // MARK: - Text

    /// Python's `str.split()`: splits on every character `str.isspace` accepts.
    static func pythonWhitespaceSplit(_ text: String) -> [String] {
        var words: [String] = []
        var current = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            if isPythonSpace(scalar) {
                if !current.isEmpty { words.append(String(current)); current = String.UnicodeScalarView() }
            } else {
                current.append(scalar)
            }
        }
        if !current.isEmpty { words.append(String(current)) }
        return words
    }

    /// Python's `str.isspace` for one character (bidirectional class WS, B or S, or `Zs`).
    static func isPythonSpace(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x09...0x0D, 0x1C...0x20, 0x85, 0xA0, 0x1680, 0x2000...0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000:
            return true
        default:
            return false
        }
    }

    /// Whether `needle` occurs in `haystack` (Python's `find(...) != -1`).
    private static func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        if needle.isEmpty { return true }
        guard needle.count <= haystack.count else { return false }
        for start in 0...(haystack.count - needle.count)
        where haystack[start] == needle[0] && haystack[start..<(start + needle.count)].elementsEqual(needle) {
            return true
        }
        return false
    }
}

/// A context split into words the way run_squad.py splits it.
struct ContextWords {
    var words: [String] = []
    /// The offset of each word's first character (Unicode scalar).
    var wordStarts: [Int] = []
    /// The word of each character (Unicode scalar); -1 before the first word.
    var wordOfCharacter: [Int] = []

    init(_ context: String) {
        var current = String.UnicodeScalarView()
        var previousIsWhitespace = true
        for (offset, scalar) in context.unicodeScalars.enumerated() {
            let value = scalar.value
            if value == 0x20 || value == 0x09 || value == 0x0D || value == 0x0A || value == 0x202F {
                previousIsWhitespace = true
            } else {
                if previousIsWhitespace && !current.isEmpty {
                    words.append(String(current))
                    current = String.UnicodeScalarView()
                }
                if previousIsWhitespace { wordStarts.append(offset) }
                current.append(scalar)
                previousIsWhitespace = false
            }
            // len(doc_tokens) - 1, counting the word being built
            wordOfCharacter.append(words.count + (current.isEmpty ? 0 : 1) - 1)
        }
        if !current.isEmpty { words.append(String(current)) }
    }
}
