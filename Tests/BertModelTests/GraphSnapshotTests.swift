import BertGraph
import BertModel
import BertPasses
import BertTestSupport
import Foundation
import XCTest

/// The printed IR in graphs/<preset>/ (what a reader opens to see a model as the compiler does)
/// must be what the builder and the pipelines make today: for each preset, its inference and
/// training graph (a two-label classifier, symbolic batch and seq) before and after the
/// pipeline, and for bert-tiny the same of the span head (`squad.*`). After a change to the
/// builder, a pass or the text format, re-record with
///
///     BERTC_UPDATE_SNAPSHOTS=1 swift test -c release $(tools/swift-flags.sh) --filter GraphSnapshotTests
///
/// which rewrites the files and fails, so that nobody re-records by accident; then review
/// the diff and commit it.
final class GraphSnapshotTests: XCTestCase {
    private static let update = ProcessInfo.processInfo.environment["BERTC_UPDATE_SNAPSHOTS"] == "1"

    func testPresetGraphsMatchTheirSnapshots() throws {
        var stale: [String] = []
        for preset in Presets.names {
            let config = try BertConfig.load(TestPaths.root.appendingPathComponent("graphs/\(preset).json"))
            for (kind, options, pipeline) in [("inference", GraphOptions.inference, Pipeline.inference),
                                              ("training", .training, .training)] {
                let before = try BertBuilder.build(config, head: .classification(labels: 2), options: options)
                let after = try pipeline.run(before, verify: true)
                for (stage, graph) in [("before", before), ("after", after)] {
                    let file = "graphs/\(preset)/\(kind).\(stage).bertc"
                    if try !matches(GraphPrinter.render(graph), file) { stale.append(file) }
                }
                // The span head (SQuAD) on the smallest preset.
                guard preset == "bert-tiny" else { continue }
                let span = try BertBuilder.build(config, head: .span, options: options)
                for (stage, graph) in [("before", span), ("after", try pipeline.run(span, verify: true))] {
                    let file = "graphs/\(preset)/squad.\(kind).\(stage).bertc"
                    if try !matches(GraphPrinter.render(graph), file) { stale.append(file) }
                }
            }
        }
        if Self.update {
            XCTFail("re-recorded \(stale.count) graph snapshot(s): \(stale.joined(separator: ", ")); review the diff, "
                    + "commit it, and run again without BERTC_UPDATE_SNAPSHOTS")
        } else {
            XCTAssertEqual(stale, [], """
                these graph snapshots differ from what the builder and the pipelines make now; if the change is \
                intended, re-record them with BERTC_UPDATE_SNAPSHOTS=1 swift test -c release $(tools/swift-flags.sh) \
                --filter GraphSnapshotTests and review the diff
                """)
        }
    }

    /// Whether the file at `path` (from the repository root) holds `text`; with the update
    /// switch, writes it when not.
    private func matches(_ text: String, _ path: String) throws -> Bool {
        let url = TestPaths.root.appendingPathComponent(path)
        if let stored = try? String(contentsOf: url, encoding: .utf8), stored == text { return true }
        if Self.update {
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try text.write(to: url, atomically: true, encoding: .utf8)
        }
        return false
    }
}
