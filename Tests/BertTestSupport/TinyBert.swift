// A tiny BERT for sequence classification built directly with `Graph.apply`, in the structure
// and parameter names of the team contract (CONTRACTS.md, "The BERT graph"), with seeded random
// weights. It stands in for BertModel's builder in the graph and export tests.

import BertGraph
import BertRuntime
import Foundation

public struct TinyBertConfig: Codable {
    public var vocabSize = 50
    public var hidden = 32
    public var heads = 4
    public var layers = 2
    public var intermediate = 64
    public var maxPositions = 16
    public var typeVocabSize = 2
    public var labels = 3
    public var epsilon: Float = 1e-12
    public var gelu = "erf"

    public var headSize: Int { hidden / heads }

    public init() {}
}

public enum TinyBert {
    /// The inference graph: inputs `input_ids`, `token_type_ids`, `attention_mask` i32[batch, seq];
    /// outputs `logits` [batch, labels], `pooled_output` [batch, H], `sequence_output` [batch, seq, H].
    public static func graph(_ c: TinyBertConfig) throws -> Graph {
        var g = Graph(name: "tiny_bert")
        let ids = g.addInput("input_ids", .i32(.batch, .seq))
        let typeIDs = g.addInput("token_type_ids", .i32(.batch, .seq))
        let mask = g.addInput("attention_mask", .i32(.batch, .seq))
        let H = Dim.fixed(c.hidden)
        func param(_ name: String, _ dims: [Int]) -> ValueID {
            g.addParameter(name, TensorType(.float32, Shape(dims)))
        }
        func linear(_ x: ValueID, _ prefix: String, _ inDim: Int, _ outDim: Int) throws -> ValueID {
            let w = param("\(prefix).weight", [outDim, inDim])
            let b = param("\(prefix).bias", [outDim])
            let y = try g.apply1(.matmul(transposeA: false, transposeB: true), [x, w], name: "\(prefix)/matmul")
            return try g.apply1(.add, [y, b], name: "\(prefix)/out")
        }
        func layerNorm(_ x: ValueID, _ prefix: String) throws -> ValueID {
            let gamma = param("\(prefix).weight", [c.hidden])
            let beta = param("\(prefix).bias", [c.hidden])
            return try g.apply1(.layerNorm(epsilon: c.epsilon), [x, gamma, beta], name: "\(prefix)/out")
        }

        // Embeddings.
        let e = "bert.embeddings"
        let word = try g.apply1(.gather, [param("\(e).word_embeddings.weight", [c.vocabSize, c.hidden]), ids], name: "\(e)/word")
        let positions = try g.apply1(.positions, [ids], name: "\(e)/position_ids")
        let pos = try g.apply1(.gather, [param("\(e).position_embeddings.weight", [c.maxPositions, c.hidden]), positions],
                               name: "\(e)/position")
        let tok = try g.apply1(.gather, [param("\(e).token_type_embeddings.weight", [c.typeVocabSize, c.hidden]), typeIDs],
                               name: "\(e)/token_type")
        let sum = try g.apply1(.add, [try g.apply1(.add, [word, pos], name: "\(e)/word_plus_position"), tok], name: "\(e)/sum")
        var h = try layerNorm(sum, "\(e).LayerNorm")

        // Encoder.
        let heads: Shape = [.batch, .seq, .fixed(c.heads), .fixed(c.headSize)]
        for i in 0..<c.layers {
            let l = "bert.encoder.layer.\(i)"
            func split(_ x: ValueID, _ name: String) throws -> ValueID {
                let r = try g.apply1(.reshape(heads), [x], name: "\(l)/\(name)_heads")
                return try g.apply1(.transpose([0, 2, 1, 3]), [r], name: "\(l)/\(name)_t")
            }
            let q = try split(linear(h, "\(l).attention.self.query", c.hidden, c.hidden), "q")
            let k = try split(linear(h, "\(l).attention.self.key", c.hidden, c.hidden), "k")
            let v = try split(linear(h, "\(l).attention.self.value", c.hidden, c.hidden), "v")
            let scores = try g.apply1(.batchMatmul(transposeA: false, transposeB: true), [q, k], name: "\(l)/scores")
            let scaled = try g.apply1(.scale(1 / Float(c.headSize).squareRoot()), [scores], name: "\(l)/scaled")
            let probs = try g.apply1(.maskedSoftmax, [scaled, mask], name: "\(l)/probs")
            let context = try g.apply1(.batchMatmul(transposeA: false, transposeB: false), [probs, v], name: "\(l)/context")
            let merged = try g.apply1(.transpose([0, 2, 1, 3]), [context], name: "\(l)/context_t")
            let flat = try g.apply1(.reshape([.batch, .seq, H]), [merged], name: "\(l)/context_flat")
            let attended = try linear(flat, "\(l).attention.output.dense", c.hidden, c.hidden)
            let h1 = try layerNorm(try g.apply1(.add, [attended, h], name: "\(l)/attention_residual"),
                                   "\(l).attention.output.LayerNorm")
            let up = try linear(h1, "\(l).intermediate.dense", c.hidden, c.intermediate)
            let act = try g.apply1(.gelu(GeluApproximation(rawValue: c.gelu)!), [up], name: "\(l)/gelu")
            let down = try linear(act, "\(l).output.dense", c.intermediate, c.hidden)
            h = try layerNorm(try g.apply1(.add, [down, h1], name: "\(l)/ffn_residual"), "\(l).output.LayerNorm")
        }

        // Pooler and classifier.
        let cls = try g.apply1(.select(axis: 1, index: 0), [h], name: "bert.pooler/cls")
        let pooled = try g.apply1(.tanh, [try linear(cls, "bert.pooler.dense", c.hidden, c.hidden)], name: "bert.pooler/out")
        let logits = try linear(pooled, "classifier", c.hidden, c.labels)
        g.addOutput("logits", logits)
        g.addOutput("pooled_output", pooled)
        g.addOutput("sequence_output", h)
        try GraphVerifier.verify(g)
        return g
    }

    /// Seeded weights for every parameter of `graph`: N(0, 0.2) matrices and biases, LayerNorm
    /// gammas around 1.
    public static func weights(for graph: Graph, seed: UInt64 = 42) -> [String: HostTensor] {
        var rng = SplitMix64(seed: seed)
        var out: [String: HostTensor] = [:]
        for p in graph.parameters {
            let v = graph.values[p]
            let shape = v.type.shape.resolve([:])!
            let count = shape.reduce(1, *)
            let isGamma = v.name.hasSuffix("LayerNorm.weight")
            let floats = (0..<count).map { _ in (isGamma ? 1 : 0) + 0.2 * rng.nextGaussian() }
            out[v.name] = HostTensor(shape: shape, floats: floats)
        }
        return out
    }
}

/// Test weight draws from the shared seeded generator.
extension SplitMix64 {
    /// Uniform in (0, 1).
    public mutating func nextUniform() -> Double { (Double(next() >> 11) + 0.5) / Double(1 << 53) }

    /// Standard normal (Box-Muller).
    public mutating func nextGaussian() -> Float {
        Float((-2 * log(nextUniform())).squareRoot() * cos(2 * Double.pi * nextUniform()))
    }
}
