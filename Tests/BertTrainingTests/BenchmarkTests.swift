import BertGraph
import BertModel
import BertPasses
import XCTest
@testable import BertTraining

/// `bertc bench` on a tiny model: the report is filled in, and a profile accounts for every
/// node of the compiled graph exactly once.
final class BenchmarkTests: XCTestCase {
    let config = BertConfig(vocabSize: 60, hiddenSize: 16, numHiddenLayers: 2, numAttentionHeads: 2,
                            intermediateSize: 32, maxPositionEmbeddings: 32)

    func testProfileCoversEveryNodeOnce() throws {
        for mode in [CompileMode.train, .infer] {
            let options = BenchmarkOptions(mode: mode, batch: 2, seq: 8, steps: 2, warmup: 1, profile: true)
            let report = try Benchmark.run(config, options: options)
            let (graph, _, _) = try ModelCompiler.compile(config, head: .classification(labels: 2), mode: mode,
                                                          batch: 2, seq: 8)
            let profile = try XCTUnwrap(report.profile, "\(mode)")
            XCTAssertEqual(profile.map(\.nodes).reduce(0, +), graph.nodes.count, "\(mode)")
            XCTAssertEqual(Set(profile.map(\.op)), Set(graph.nodes.map(\.op.name)), "\(mode)")
            XCTAssertEqual(profile.map(\.fraction).reduce(0, +), 1, accuracy: 1e-9, "\(mode)")
            XCTAssertEqual(profile.map(\.millisPerStep), profile.map(\.millisPerStep).sorted(by: >), "most expensive first")
            XCTAssertGreaterThan(report.examplesPerSecond, 0)
            XCTAssertEqual(report.steps, 2)
            XCTAssertLessThanOrEqual(report.minMillisPerStep, report.medianMillisPerStep)
        }
        let plain = try Benchmark.run(config, options: BenchmarkOptions(mode: .infer, batch: 2, seq: 8, steps: 1, warmup: 0))
        XCTAssertNil(plain.profile)
    }

    /// `--threads` reaches the interpreter and the report.
    func testThreadsOption() throws {
        var options = BenchmarkOptions(mode: .infer, batch: 2, seq: 8, steps: 1, warmup: 0)
        options.threads = 1
        XCTAssertEqual(try Benchmark.run(config, options: options).threads, 1)
        options.threads = 3
        XCTAssertEqual(try Benchmark.run(config, options: options).threads, 3)
    }

    func testMedian() {
        XCTAssertEqual(Benchmark.median([3, 1, 2]), 2)
        XCTAssertEqual(Benchmark.median([4, 1, 3, 2]), 2.5)
        XCTAssertEqual(Benchmark.median([7]), 7)
        XCTAssertEqual(Benchmark.median([]), 0)
    }
}
