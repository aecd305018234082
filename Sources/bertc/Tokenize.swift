import ArgumentParser
import BertGraph
import BertText
import Foundation

extension TruncationStrategy: ExpressibleByArgument {}

/// `bertc tokenize`: BERT WordPiece tokenisation and input packing of texts or a TSV file.
struct Tokenize: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Tokenize text with a BERT WordPiece vocabulary, optionally packed into model inputs.",
        discussion: """
            Without --seq-len, prints the tokens and ids of each input line (a pair: the tokens of a, then \
            of b, without special tokens). With --seq-len N, \
            prints [CLS] a [SEP] (b [SEP]) packed to N: input ids, token type ids, attention mask.
            """)

    @Option(help: "The WordPiece vocabulary (vocab.txt, one token per line).")
    var vocab: String

    @Flag(help: "Cased model: no lower-casing and no accent stripping.")
    var cased = false

    @Option(name: .customLong("seq-len"), help: "Pack each input into rows of this length (>= 3).")
    var seqLen: Int?

    @Option(help: "How a pair too long for --seq-len is cut: \(TruncationStrategy.allCases.map(\.rawValue).joined(separator: ", ")).")
    var truncation: TruncationStrategy = .longestFirst

    @Option(help: "A TSV file with one or two text columns per line and no header.")
    var input: String?

    @Argument(help: "A text, or two texts for a pair (instead of --input).")
    var texts: [String] = []

    @OptionGroup var output: ReportOptions

    @Option(help: .hidden)
    var bench: Int?

    func validate() throws {
        if input != nil && !texts.isEmpty { throw ValidationError("give either --input or texts, not both") }
        if input == nil && !(1...2).contains(texts.count) { throw ValidationError("give one or two texts, or --input FILE") }
        if let seqLen, seqLen < 3 { throw ValidationError("--seq-len must be at least 3") }
        if let bench, bench < 1 { throw ValidationError("--bench must be at least 1") }
    }

    func run() throws {
        let tokenizer = try BertTokenizer(vocabularyFile: vocab, lowercase: !cased)
        let pairs = try readPairs()
        if let bench {
            try benchmark(tokenizer: tokenizer, pairs: pairs, repeats: bench)
            return
        }
        if let seqLen {
            let packer = try InputPacker(specialTokens: tokenizer.vocabulary.specialTokens,
                                         sequenceLength: seqLen, truncation: truncation)
            let rows = pairs.map { packer.pack(tokenizer.encode($0.a), $0.b.map(tokenizer.encode)) }
            print(output.json ? Self.json(rows) : Self.text(rows))
        } else {
            let encoded = pairs.map { pair -> [Int32] in
                var ids = tokenizer.encode(pair.a)
                if let b = pair.b { ids += tokenizer.encode(b) }
                return ids
            }
            print(output.json ? Self.json(encoded, vocabulary: tokenizer.vocabulary)
                       : Self.text(encoded, vocabulary: tokenizer.vocabulary))
        }
    }

    /// The inputs: the TSV rows of --input, or the texts on the command line.
    private func readPairs() throws -> [(a: String, b: String?)] {
        guard let input else { return [(texts[0], texts.count > 1 ? texts[1] : nil)] }
        let file = try TabSeparatedFile(path: input, hasHeader: false, columnCounts: 1...2)
        return file.rows.map { ($0.fields[0], $0.fields.count > 1 ? $0.fields[1] : nil) }
    }

    /// Times tokenisation and packing (at --seq-len, default 128) of every input, `repeats`
    /// times on this thread, and prints the figures as JSON. File reading is not timed.
    private func benchmark(tokenizer: BertTokenizer, pairs: [(a: String, b: String?)], repeats: Int) throws {
        let packer = try InputPacker(specialTokens: tokenizer.vocabulary.specialTokens,
                                     sequenceLength: seqLen ?? 128, truncation: truncation)
        var checksum = 0
        let clock = ContinuousClock()
        let elapsed = clock.measure {
            for _ in 0..<repeats {
                for pair in pairs {
                    let row = packer.pack(tokenizer.encode(pair.a), pair.b.map(tokenizer.encode))
                    checksum &+= Int(row.inputIDs[1]) &+ row.attentionMask.count
                }
            }
        }
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        print("{\"inputs\": \(pairs.count), \"repeats\": \(repeats), \"seconds\": \(seconds), "
              + "\"inputs_per_second\": \(Double(pairs.count * repeats) / seconds), \"checksum\": \(checksum)}")
    }

    // MARK: - Output

    private static func json(_ rows: [PackedInput]) -> String {
        func matrix(_ values: [[Int32]]) -> String {
            "[" + values.map { "[" + $0.map(String.init).joined(separator: ",") + "]" }.joined(separator: ",") + "]"
        }
        return "{\"input_ids\": \(matrix(rows.map(\.inputIDs))), \"token_type_ids\": \(matrix(rows.map(\.typeIDs))), "
            + "\"attention_mask\": \(matrix(rows.map(\.attentionMask)))}"
    }

    private static func json(_ encoded: [[Int32]], vocabulary: Vocabulary) -> String {
        let tokens = encoded.map { row in
            "[" + row.map { QuotedString.quote(vocabulary.tokens[Int($0)], json: true) }.joined(separator: ",") + "]"
        }
        let ids = encoded.map { "[" + $0.map(String.init).joined(separator: ",") + "]" }
        return "{\"tokens\": [\(tokens.joined(separator: ","))], \"ids\": [\(ids.joined(separator: ","))]}"
    }

    private static func text(_ rows: [PackedInput]) -> String {
        rows.enumerated().map { index, row in
            "input \(index + 1)\n  input_ids:      \(row.inputIDs.map(String.init).joined(separator: " "))\n"
                + "  token_type_ids: \(row.typeIDs.map(String.init).joined(separator: " "))\n"
                + "  attention_mask: \(row.attentionMask.map(String.init).joined(separator: " "))"
        }.joined(separator: "\n")
    }

    private static func text(_ encoded: [[Int32]], vocabulary: Vocabulary) -> String {
        encoded.enumerated().map { index, ids in
            "input \(index + 1)\n  tokens: \(ids.map { vocabulary.tokens[Int($0)] }.joined(separator: " "))\n"
                + "  ids:    \(ids.map(String.init).joined(separator: " "))"
        }.joined(separator: "\n")
    }
}
