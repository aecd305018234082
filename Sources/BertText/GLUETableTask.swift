/// A GLUE task read from its TSV files under `glue/<directory>/` (`train.tsv`, `dev.tsv`,
/// `test.tsv`), described by where each split keeps its texts and label.
public struct GLUETableTask: TaskProcessor {
    /// Where the fields of one split's file are.
    public struct Layout: Sendable {
        /// Whether line 1 is a header.
        public var hasHeader: Bool
        /// The number of tab-separated columns.
        public var columnCount: Int
        /// Column of the first text.
        public var textA: Int
        /// Column of the second text, for pair tasks.
        public var textB: Int?
        /// Column of the label, or nil when the split is unlabeled.
        public var label: Int?
    }

    public let name: String
    public let labels: [String]
    /// The directory under `glue/`.
    public let directory: String
    /// The layout of `train.tsv` and `dev.tsv`.
    public let labeledLayout: Layout
    /// The layout of GLUE's unlabeled `test.tsv`.
    public let testLayout: Layout

    public func examples(_ split: DatasetSplit, in data: DataLocator) throws -> [InputExample] {
        let path = try data.existingFile("glue/\(directory)/\(split.rawValue).tsv")
        let layout = split == .test ? testLayout : labeledLayout
        let file = try TabSeparatedFile(path: path, hasHeader: layout.hasHeader, columnCount: layout.columnCount)
        return try file.rows.map { row in
            InputExample(guid: "\(split.rawValue)-\(row.line)",
                         textA: row.fields[layout.textA],
                         textB: layout.textB.map { row.fields[$0] },
                         label: try layout.label.map { try parseLabel(row.fields[$0], file: path, line: row.line) })
        }
    }

    // MARK: - The tasks

    /// SST-2: `sentence`, `label` (0/1), with a header; test: `index`, `sentence`.
    public static let sst2 = GLUETableTask(
        name: "SST-2", labels: ["0", "1"], directory: "SST-2",
        labeledLayout: Layout(hasHeader: true, columnCount: 2, textA: 0, textB: nil, label: 1),
        testLayout: Layout(hasHeader: true, columnCount: 2, textA: 1, textB: nil, label: nil))

    /// CoLA: no header; `source`, `label` (0/1), `original annotation`, `sentence`; test (with a
    /// header): `index`, `sentence`.
    public static let cola = GLUETableTask(
        name: "CoLA", labels: ["0", "1"], directory: "CoLA",
        labeledLayout: Layout(hasHeader: false, columnCount: 4, textA: 3, textB: nil, label: 1),
        testLayout: Layout(hasHeader: true, columnCount: 2, textA: 1, textB: nil, label: nil))

    /// RTE: `index`, `sentence1`, `sentence2`, `label` (entailment/not_entailment); test without
    /// the label.
    public static let rte = GLUETableTask(
        name: "RTE", labels: ["entailment", "not_entailment"], directory: "RTE",
        labeledLayout: Layout(hasHeader: true, columnCount: 4, textA: 1, textB: 2, label: 3),
        testLayout: Layout(hasHeader: true, columnCount: 3, textA: 1, textB: 2, label: nil))

    /// STS-B (regression): `index`, `genre`, `filename`, `year`, `old_index`, `source1`,
    /// `source2`, `sentence1`, `sentence2`, `score` (0...5); test without the score.
    public static let stsb = GLUETableTask(
        name: "STS-B", labels: [], directory: "STS-B",
        labeledLayout: Layout(hasHeader: true, columnCount: 10, textA: 7, textB: 8, label: 9),
        testLayout: Layout(hasHeader: true, columnCount: 9, textA: 7, textB: 8, label: nil))

    /// MRPC from GLUE's own TSVs: `Quality`, `#1 ID`, `#2 ID`, `#1 String`, `#2 String`; test:
    /// `index` instead of `Quality`. (GLUE's `train.tsv` here lacks one pair; `MRPCProcessor`
    /// builds the official split from the MSR files by default.)
    public static let mrpcGLUE = GLUETableTask(
        name: "MRPC", labels: ["0", "1"], directory: "MRPC",
        labeledLayout: Layout(hasHeader: true, columnCount: 5, textA: 3, textB: 4, label: 0),
        testLayout: Layout(hasHeader: true, columnCount: 5, textA: 3, textB: 4, label: nil))
}
