/// MRPC (Microsoft Research Paraphrase Corpus): label 1 when the two sentences are paraphrases.
///
/// By default the splits come from the original MSR files, as GLUE, TensorFlow Datasets and the
/// papers define them:
/// - train: `msr_paraphrase_train.txt` minus the pairs listed in `dev_ids.tsv` (3,668 pairs);
/// - dev: the rows of `msr_paraphrase_train.txt` whose (#1 ID, #2 ID) is in `dev_ids.tsv`, in
///   the MSR file's order (408 pairs);
/// - test: `msr_paraphrase_test.txt` (1,725 labeled pairs), when the data root has it.
///
/// With `source: .glue` it reads GLUE's `train.tsv`, `dev.tsv` and unlabeled `test.tsv` instead.
public struct MRPCProcessor: TaskProcessor {
    /// Where the splits are read from.
    public enum Source: String, CaseIterable, Sendable {
        /// The original MSR files plus GLUE's `dev_ids.tsv` (the default).
        case msr
        /// GLUE's `train.tsv`, `dev.tsv`, `test.tsv`.
        case glue
    }

    public let name = "MRPC"
    public let labels = ["0", "1"]
    /// Where the splits are read from.
    public let source: Source

    public init(source: Source = .msr) {
        self.source = source
    }

    /// The MSR files' relative paths under the data root.
    public static let msrTrainFile = "glue/MRPC/msr_paraphrase_train.txt"
    public static let msrTestFile = "glue/MRPC/msr_paraphrase_test.txt"
    public static let devIDsFile = "glue/MRPC/dev_ids.tsv"

    public func examples(_ split: DatasetSplit, in data: DataLocator) throws -> [InputExample] {
        if source == .glue { return try GLUETableTask.mrpcGLUE.examples(split, in: data) }
        switch split {
        case .train, .dev:
            let rows = try msrExamples(file: try data.existingFile(Self.msrTrainFile), split: split)
            let devIDs = try Self.devIDs(try data.existingFile(Self.devIDsFile))
            let dev = rows.filter { devIDs.contains($0.ids) }
            guard dev.count == devIDs.count else {
                throw DataError.inconsistent(
                    file: data.path(Self.devIDsFile),
                    reason: "lists \(devIDs.count) pairs but \(dev.count) of them are in \(data.path(Self.msrTrainFile))")
            }
            return (split == .dev ? dev : rows.filter { !devIDs.contains($0.ids) }).map(\.example)
        case .test:
            guard data.fileExists(Self.msrTestFile) else {
                throw DataError.splitUnavailable(
                    task: name, split: "test",
                    reason: "\(data.path(Self.msrTestFile)) is missing. It comes with the MSR Paraphrase "
                        + "Corpus download; or read GLUE's unlabeled test.tsv with the GLUE source")
            }
            return try msrExamples(file: data.path(Self.msrTestFile), split: split).map(\.example)
        }
    }

    /// All rows of an MSR file (columns Quality, #1 ID, #2 ID, #1 String, #2 String; a header)
    /// with their id pairs.
    public func msrExamples(file: String, split: DatasetSplit) throws -> [(ids: PairIDs, example: InputExample)] {
        let table = try TabSeparatedFile(path: file, hasHeader: true, columnCount: 5)
        return try table.rows.map { row in
            let example = InputExample(guid: "\(split.rawValue)-\(row.line)", textA: row.fields[3],
                                       textB: row.fields[4],
                                       label: try parseLabel(row.fields[0], file: file, line: row.line))
            return (PairIDs(first: row.fields[1], second: row.fields[2]), example)
        }
    }

    /// The (#1 ID, #2 ID) of a sentence pair.
    public struct PairIDs: Hashable, Sendable {
        public var first: String
        public var second: String
    }

    /// The id pairs of `dev_ids.tsv` (two columns, no header).
    static func devIDs(_ path: String) throws -> Set<PairIDs> {
        let table = try TabSeparatedFile(path: path, hasHeader: false, columnCount: 2)
        return Set(table.rows.map { PairIDs(first: $0.fields[0], second: $0.fields[1]) })
    }
}
