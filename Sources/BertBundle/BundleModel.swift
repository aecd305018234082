// Loads a native bundle (see BundleWriter) and serves its `serving_default` signature.
//
// Stages, each refusing the bundle with a `BundleError` that names the file:
//   1. read and decode `manifest.json` (a regular file of bounded size); an unknown format
//      version stops here; every field is validated, the model config with size limits;
//   2. verify that every listed file is a regular file of the listed size and SHA-256 before
//      any of them is used;
//   3. parse the graph and check it is a classifier inference graph: inputs `input_ids`,
//      `token_type_ids`, `attention_mask` i32[batch, seq], a `logits` output
//      f32[batch, labels], no dropout, loss or gradients; its parameters (names and shapes)
//      are those the manifest's model config describes; then FuseOps, so that a bundle written
//      before a fusion existed runs the same kernels (and bits) as the model does now;
//   4. load the weights strictly: every graph parameter present with its shape, float32,
//      finite, no extra tensors; the vocabulary and maximum length must fit the embedding
//      tables;
//   5. build a `Predictor` with the manifest's tokenizer settings and length buckets, the
//      same code path the in-memory model uses, so logits are bitwise identical.
//
// The type is not called `Bundle` because that name is Foundation's.

import BertGraph
import BertModel
import BertPasses
import BertRuntime
import BertText
import Foundation

/// A verified bundle, ready to serve.
public final class BundleModel {
    /// The bundle directory.
    public let directory: URL
    public let manifest: BundleManifest
    /// Runs the graph; built from the bundle's files only.
    public let predictor: Predictor

    /// Label names by class id.
    public var labels: [String] { manifest.labels }

    /// The graph inputs every bundle graph has, i32[batch, seq].
    static let graphInputs = ["input_ids", "token_type_ids", "attention_mask"]

    /// Loads and verifies the bundle at `directory`.
    /// - Throws: `BundleError` naming the file that is missing, modified, truncated or
    ///   inconsistent.
    public init(directory: URL) throws {
        self.directory = directory
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory.path, isDirectory: &isDirectory) else {
            throw BundleError.notABundle(path: directory.path, reason: "it does not exist")
        }
        guard isDirectory.boolValue else { throw BundleError.notABundle(path: directory.path, reason: "it is not a directory") }

        manifest = try Self.readManifest(in: directory)
        try BundleIntegrity.verify(manifest, in: directory)

        let graphURL = directory.appendingPathComponent(manifest.model.graph)
        let shortest = min(manifest.tokenizer.maxSeqLength, manifest.tokenizer.bucketLengths.min() ?? .max)
        let graph = try Self.readGraph(graphURL, labelCount: manifest.labels.count, shortestSequence: shortest)
        try Self.checkConfig(manifest, describes: graph, manifestFile: directory.appendingPathComponent(BundleWriter.manifestFile))
        let weightsURL = directory.appendingPathComponent(manifest.model.weights)
        let parameters = try Self.readWeights(weightsURL, for: graph)

        let encoder = try Self.makeEncoder(manifest, in: directory, parameters: parameters, weights: weightsURL.path)
        predictor = Predictor(config: manifest.model.config, graph: graph, parameters: parameters, labels: manifest.labels,
                              encoder: encoder, buckets: manifest.tokenizer.bucketLengths)
    }

    /// Runs `serving_default`.
    /// - Parameters:
    ///   - sentence1: first sentences `[batch]`.
    ///   - sentence2: second sentences `[batch]`, or nil for single-sentence input.
    /// - Returns: `logits` `[batch, labels]`, `class_id` (argmax over the last axis) and
    ///   `class` (label names), in input order.
    /// - Throws: `BundleError.badInput` when the two lists differ in length.
    public func serve(sentence1: [String], sentence2: [String]?) throws -> Prediction {
        if let sentence2, sentence2.count != sentence1.count {
            throw BundleError.badInput(reason: "sentence1 has \(sentence1.count) entries but sentence2 has \(sentence2.count)")
        }
        let pairs = sentence1.enumerated().map { ($0.element, sentence2?[$0.offset]) }
        return try predictor.predict(pairs)
    }

    // MARK: - Stages

    private static func readManifest(in directory: URL) throws -> BundleManifest {
        try BundleManifest.read(in: directory)
    }

    /// The most bytes a graph file may have (bert-large's inference graph has about 100 KB).
    static let maxGraphBytes = 64 << 20

    /// Parses the graph (`GraphParser` verifies every node: attributes against input shapes,
    /// definitions before use, declared against inferred types, sizes) and checks it is a
    /// classifier inference graph with `labelCount` logits.
    /// - Parameter shortestSequence: the shortest `seq` the bundle runs at (its smallest
    ///   bucket): a `select` along `seq` must stay below it, along `batch` at 0.
    static func readGraph(_ url: URL, labelCount: Int, shortestSequence: Int = 1) throws -> Graph {
        func bad(_ reason: String) -> BundleError { .badGraph(file: url.path, reason: reason) }
        let data: Data
        do { data = try RegularFile.contents(of: url, limit: maxGraphBytes) } catch {
            throw BundleError.unreadable(url, error) { size in
                bad("it has \(size) bytes, more than the \(maxGraphBytes) a graph file may have")
            }
        }
        guard let text = String(validating: data, as: UTF8.self) else { throw bad("not UTF-8 text") }
        let graph: Graph
        do { graph = try GraphParser.parse(text) } catch { throw bad("\(error)") }

        let inputs = graph.inputs.map { graph.values[$0] }
        guard inputs.map(\.name).sorted() == graphInputs.sorted() else {
            throw bad("inputs are \(inputs.map(\.name)), expected \(graphInputs) (an inference graph has no labels input)")
        }
        for input in inputs where input.type != .i32(.batch, .seq) {
            throw bad("input \(input.name) is \(input.type), expected \(TensorType.i32(.batch, .seq))")
        }
        guard let logits = graph.output(named: "logits") else {
            throw bad("no logits output (outputs: \(graph.outputs.map(\.name)))")
        }
        let expected = TensorType.f32(.batch, .fixed(labelCount))
        guard graph.type(of: logits) == expected else {
            throw bad("logits is \(graph.type(of: logits)), expected \(expected) for \(labelCount) labels")
        }
        let trainingOutput = graph.outputs.first { $0.name == GraphNames.loss || $0.name.hasPrefix(GraphNames.gradientPrefix) }
        if let training = trainingOutput {
            throw bad("output \(training.name) belongs to a training graph, not an inference graph")
        }
        for (i, node) in graph.nodes.enumerated() {
            if case .dropout = node.op { throw bad("node \(graph.nodeName(i)) is a dropout; inference graphs have none") }
            // The verifier checks indices along fixed dims; these sizes only the bundle knows.
            if case .select(let axis, let index) = node.op, case .symbol(let dim) = graph.type(of: node.inputs[0]).shape[axis] {
                let bound = dim == Dim.seq.description ? shortestSequence : 1
                guard index < bound else {
                    throw bad("node \(graph.nodeName(i)) (select): index \(index) along \(dim) is not below \(bound), "
                        + "the smallest size \(dim) has when the bundle runs")
                }
            }
        }
        // The compiler's fusions (a fused graph stays as it is), verified after each pass: the
        // kernels run the fused graph and trust what the verifier checks.
        do { return try Pipeline.bundle.run(graph, verify: true) } catch { throw bad("\(error)") }
    }

    /// The manifest's config must describe the graph: the parameters the compiler's inference
    /// graph for it (and this many labels) has are exactly the graph's, with the same shapes.
    static func checkConfig(_ manifest: BundleManifest, describes graph: Graph, manifestFile: URL) throws {
        let expected: Graph
        do {
            expected = try ModelCompiler.graph(manifest.model.config, head: .classification(labels: manifest.labels.count),
                                               mode: .infer)
        } catch {
            throw BundleError.badManifest(file: manifestFile.path, reason: "model config: \(error)")
        }
        func shapes(_ g: Graph) -> [String: Shape] {
            Dictionary(uniqueKeysWithValues: g.parameters.map { (g.values[$0].name, g.values[$0].type.shape) })
        }
        let want = shapes(expected), have = shapes(graph)
        for name in Set(want.keys).union(have.keys).sorted() where want[name] != have[name] {
            let described = want[name].map { "\($0)" } ?? "nothing"
            let found = have[name].map { "\($0)" } ?? "nothing"
            throw BundleError.badManifest(
                file: manifestFile.path,
                reason: "the model config describes \(described) for parameter \(name) but the graph has \(found)")
        }
    }

    /// Loads the safetensors weights strictly against the graph's parameters.
    static func readWeights(_ url: URL, for graph: Graph) throws -> ParameterStore {
        func bad(_ reason: String) -> BundleError { .weightMismatch(file: url.path, reason: reason) }
        let reader: SafetensorsReader
        do { reader = try SafetensorsReader(url: url) } catch { throw bad("\(error)") }
        let parameters: ParameterStore
        do { parameters = try ParameterStore.matching(graph) } catch { throw bad("\(error)") }
        let stored = Dictionary(uniqueKeysWithValues: reader.tensors.map { ($0.name, $0) })
        let missing = parameters.names.filter { stored[$0] == nil }
        guard missing.isEmpty else {
            throw bad("missing \(missing.count) parameter(s) of the graph: " + missing.prefix(5).joined(separator: ", "))
        }
        let extra = stored.keys.filter { parameters.shape($0) == nil }.sorted()
        guard extra.isEmpty else {
            throw bad("\(extra.count) tensor(s) the graph does not use: " + extra.prefix(5).joined(separator: ", "))
        }
        for name in parameters.names {
            let info = stored[name]!
            guard info.dtype == .float32 else { throw bad("tensor \(name) is \(info.dtype), expected float32") }
            guard info.shape == parameters.shape(name) else {
                throw bad("tensor \(name) has shape \(info.shape), the graph expects \(parameters.shape(name)!)")
            }
            let tensor: HostTensor
            do { tensor = try reader.read(name) } catch { throw bad("\(error)") }
            if let value = tensor.floats?.first(where: { !$0.isFinite }) {
                throw BundleError.nonFiniteWeight(file: url.path, tensor: name, value: value)
            }
            do { try parameters.set(name, tensor) } catch { throw bad("\(error)") }
        }
        return parameters
    }

    /// The tokenizer and packer the manifest describes, checked against the embedding tables.
    private static func makeEncoder(_ manifest: BundleManifest, in directory: URL, parameters: ParameterStore,
                                    weights: String) throws -> ExampleEncoder {
        let settings = manifest.tokenizer
        let vocabularyURL = directory.appendingPathComponent(settings.vocabulary)
        let tokenizer: BertTokenizer
        do { tokenizer = try BertTokenizer(vocabularyFile: vocabularyURL.path, lowercase: settings.lowercase) } catch {
            throw BundleError.badVocabulary(file: vocabularyURL.path, reason: "\(error)")
        }
        try checkTables(parameters, vocabularySize: tokenizer.vocabulary.count, maxLength: settings.maxSeqLength,
                        weights: weights)
        // The manifest decoder has validated the strategy's name.
        let truncation = TruncationStrategy(rawValue: settings.truncation) ?? .longestFirst
        do {
            return try ExampleEncoder(tokenizer: tokenizer, maxLength: settings.maxSeqLength, truncation: truncation)
        } catch {
            throw BundleError.badManifest(file: directory.appendingPathComponent(BundleWriter.manifestFile).path,
                                          reason: "tokenizer settings: \(error)")
        }
    }

    /// Token ids index the word embeddings, positions the position embeddings and segment ids
    /// the type embeddings: each table must be large enough, or a lookup would read outside it.
    private static func checkTables(_ parameters: ParameterStore, vocabularySize: Int, maxLength: Int, weights: String) throws {
        if let rows = parameters.shape("bert.embeddings.word_embeddings.weight")?.first, vocabularySize > rows {
            throw BundleError.weightMismatch(
                file: weights, reason: "the vocabulary has \(vocabularySize) tokens but word embeddings only \(rows) rows")
        }
        if let rows = parameters.shape("bert.embeddings.token_type_embeddings.weight")?.first, rows < 2 {
            throw BundleError.weightMismatch(
                file: weights, reason: "sentence pairs need 2 token types but the type embeddings have \(rows) rows")
        }
        if let rows = parameters.shape("bert.embeddings.position_embeddings.weight")?.first, maxLength > rows {
            throw BundleError.weightMismatch(
                file: weights, reason: "max_seq_length \(maxLength) exceeds the \(rows) position embeddings")
        }
    }
}
