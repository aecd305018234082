import BertGraph
import BertPasses
import BertRuntime
import XCTest
@testable import BertModel

/// With packed tokens the encoder's dense layers run on the real tokens only. Against the
/// padded graph, on a small random BERT whose examples have different lengths: logits, loss
/// and every parameter gradient agree, whether the packed rows are exactly the real tokens or
/// rounded up with padding rows. Padding rows never reach a real token (attention masks them,
/// the head reads [CLS]), so only sums over tokens (weight gradients) may reassociate: max
/// |packed - padded| <= 1e-5 * max(|padded|, 1e-3) per tensor. With dropout on as well:
/// packed rows draw the masks of their padded positions.
final class PackedTokensTests: XCTestCase {
    private let config = BertConfig(vocabSize: 50, hiddenSize: 16, numHiddenLayers: 2, numAttentionHeads: 2,
                                    intermediateSize: 32, maxPositionEmbeddings: 16)
    private let head = TaskHead.classification(labels: 3)
    private let seq = 7
    private let lengths = [7, 3, 5, 2]

    func testDenseLayersSeeOnlyTheRealTokens() throws {
        let packed = try BertBuilder.build(config, head: head, options: GraphOptions(dropout: false, loss: false, packedTokens: true))
        XCTAssertEqual(packed.type(of: packed.value(named: "bert.encoder.layer.0.output.dense.out")!), .f32(.tokens, .fixed(16)))
        XCTAssertEqual(packed.type(of: packed.value(named: "bert.encoder.layer.0.attention.self.key.padded")!),
                       .f32(.batch, .seq, .fixed(16)))
        XCTAssertEqual(packed.type(of: packed.value(named: "bert.encoder.layer.1.output.dense.out")!), .f32(.batch, .fixed(16)))
        let padded = try BertBuilder.build(config, head: head, options: .inference)
        XCTAssertEqual(packed.parameters.map { packed.values[$0].name }, padded.parameters.map { padded.values[$0].name })
        XCTAssertThrowsError(try BertBuilder.build(config, head: head,
                                                   options: GraphOptions(dropout: false, loss: false, encoderOutputs: true, packedTokens: true)))
    }

    func testPackedRowsListRealTokensFirstThenPadding() {
        let examples = lengths.map { EncodedExample(tokenIDs: .init(repeating: 1, count: $0), typeIDs: .init(repeating: 0, count: $0)) }
        XCTAssertEqual(InputBatch.packedRowCount(lengths: lengths, sequenceLength: seq, quantum: 4), 20)
        XCTAssertEqual(InputBatch.packedRowCount(lengths: lengths, sequenceLength: seq, quantum: 64), 28, "at most every position")
        let (rows, classRows) = InputBatch.packing(examples, sequenceLength: seq, rows: 20)
        XCTAssertEqual(Array(rows.prefix(17)), (0..<7).map(Int32.init) + [7, 8, 9] + [14, 15, 16, 17, 18] + [21, 22])
        XCTAssertEqual(Array(rows.suffix(3)), [10, 11, 12], "padding rows of the first padded example")
        XCTAssertEqual(classRows, [0, 7, 10, 15])
        XCTAssertEqual(Set(rows).count, rows.count, "no row twice")
    }

    func testInferenceMatchesPaddedGraph() throws {
        for extra in [0, 5] { try compare(train: false, extraRows: extra) }
    }

    func testLossAndGradientsMatchPaddedGraph() throws {
        for extra in [0, 5] { try compare(train: true, extraRows: extra) }
    }

    func testDropoutDrawsThePaddedPositionsMasks() throws {
        for extra in [0, 5] { try compare(train: true, extraRows: extra, dropout: true) }
    }

    // MARK: - Helpers

    private func compare(train: Bool, extraRows: Int, dropout: Bool = false) throws {
        let pipeline: Pipeline = train ? .training : .inference
        let a = try ModelCompiler.graph(config, head: head, options: GraphOptions(dropout: dropout, loss: train, packedTokens: true),
                                        pipeline: pipeline)
        let b = try ModelCompiler.graph(config, head: head, options: GraphOptions(dropout: dropout, loss: train), pipeline: pipeline)
        if dropout { XCTAssertGreaterThan(a.nodes.filter { $0.op.name == "dropout" }.count, 4) }
        let parameters = try ParameterStore.matching(b)
        try parameters.fillRandom(seed: 7)
        let examples = lengths.enumerated().map { i, n in
            EncodedExample(tokenIDs: (0..<n).map { Int32(($0 * 13 + i * 7 + 1) % 50) },
                           typeIDs: (0..<n).map { Int32($0 > n / 2 ? 1 : 0) }, label: Float(i % 3))
        }
        let rows = lengths.reduce(0, +) + extraRows
        func run(_ g: Graph, packedRows: Int?) throws -> [String: HostTensor] {
            var bindings = ["batch": lengths.count, "seq": seq]
            bindings["tokens"] = packedRows
            let plan = try ModelCompiler.plan(g, bindings)
            return try Interpreter(graph: g, plan: plan, threads: 2, minimumParallelWork: 1)
                .run(inputs: InputBatch.make(examples, sequenceLength: seq, head: head, packedRows: packedRows),
                     parameters: parameters, seed: 5, step: 3)
        }
        let x = try run(a, packedRows: rows), y = try run(b, packedRows: nil)
        XCTAssertEqual(Set(x.keys), Set(y.keys))
        XCTAssertGreaterThan(x.count, train ? 30 : 0, "logits, loss and the gradients are compared")
        assertTensorsClose(x, y, relative: 1e-5, " (\(extraRows) padding rows, dropout \(dropout))")
    }
}
