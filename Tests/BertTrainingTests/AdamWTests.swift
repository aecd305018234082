import Foundation
import XCTest
@testable import BertTraining
import BertRuntime

/// AdamW and the schedule against golden/optimizer/adamw.json (tools/golden_adamw.py:
/// torch.optim.AdamW, keras.optimizers.AdamW, and a numpy re-implementation of
/// google-research/bert's AdamWeightDecayOptimizer).
final class AdamWTests: XCTestCase {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    private func golden() throws -> [String: Any] {
        let data = try Data(contentsOf: Self.root.appendingPathComponent("golden/optimizer/adamw.json"))
        return try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    private func config(_ object: Any, _ name: String) throws -> OptimizationConfig {
        try OptimizationConfig.decode(JSONSerialization.data(withJSONObject: object), file: name)
    }

    /// Contiguous slots for `shapes`, in order.
    private func slots(_ names: [String], _ shapes: [[Int]]) -> ([AdamW.Slot], Int) {
        var out: [AdamW.Slot] = []
        var top = 0
        for (n, s) in zip(names, shapes) {
            let k = s.reduce(1, *)
            out.append((n, top ..< top + k))
            top += k
        }
        return (out, top)
    }

    private func flat(_ tensors: Any) -> [Float] {
        (tensors as! [[Double]]).flatMap { $0.map(Float.init) }
    }

    /// Largest of |a - b| / max(|b|, floor).
    private func worst(_ a: [Float], _ b: [Float], floor: Float) -> Float {
        zip(a, b).map { abs($0 - $1) / max(abs($1), floor) }.max() ?? 0
    }

    // MARK: - Golden updates

    /// Parameters after each of 3 steps within 1e-6 of the reference, relative to
    /// max(|expected|, 1) (parameters are ~0.5, updates ~1e-2). The moments within 1e-5
    /// relative to max(|m|, 1e-3) and max(|v|, 1e-6): torch updates m with `lerp` and clips with
    /// a float32 factor, so m differs by a few float32 ulps (measured 1.3e-6 relative).
    func testUpdatesMatchReferences() throws {
        let g = try golden()
        let names = g["names"] as! [String]
        let (layout, count) = slots(names, g["shapes"] as! [[Int]])
        for case let c as [String: Any] in g["cases"] as! [Any] {
            let name = c["name"] as! String
            let opt = try AdamW(config: config(c["config"]!, name), slots: layout, count: count,
                                totalSteps: c["total_steps"] as! Int)
            var params = flat(g["initial_params"]!)
            let rates = c["learning_rates"] as! [Double]
            for (step, grads) in (g["gradients"] as! [Any]).enumerated() {
                let grad = flat(grads)
                let report = try params.withUnsafeMutableBufferPointer { p in
                    try grad.withUnsafeBufferPointer { try opt.update(parameters: p, gradients: $0) }
                }
                XCTAssertEqual(report.step, step)
                XCTAssertEqual(report.learningRate, rates[step], accuracy: 1e-15, "\(name) step \(step)")
                let expected = flat((c["params_after_step"] as! [Any])[step])
                let err = worst(params, expected, floor: 1)
                XCTAssertLessThan(err, 1e-6, "\(name) parameters after step \(step)")
            }
            XCTAssertLessThan(worst(opt.state.m, flat(c["m"]!), floor: 1e-3), 1e-5, "\(name) m")
            XCTAssertLessThan(worst(opt.state.v, flat(c["v"]!), floor: 1e-6), 1e-5, "\(name) v")
            XCTAssertEqual(opt.state.step, 3)
        }
    }

    /// Schedules at many steps, relative 1e-12 (both sides compute the formula in Double).
    func testSchedulesMatchModelGardenFormulas() throws {
        let g = try golden()
        for case let s as [String: Any] in g["schedules"] as! [Any] {
            let name = s["name"] as! String
            let schedule = try LearningRateSchedule(config(s["config"]!, name), totalSteps: s["total_steps"] as! Int)
            for (step, expected) in zip(s["steps"] as! [Int], s["learning_rates"] as! [Double]) {
                XCTAssertEqual(schedule(step), expected, accuracy: 1e-12 * max(expected, 1e-12), "\(name) step \(step)")
            }
        }
    }

    // MARK: - Behaviour

    func testWeightDecayMaskByName() throws {
        let names = ["bert.encoder.layer.0.output.dense.weight", "bert.encoder.layer.0.output.dense.bias",
                     "bert.encoder.layer.0.output.LayerNorm.weight", "classifier.weight"]
        let (layout, count) = slots(names, [[2, 2], [2], [2], [1, 2]])
        let opt = try AdamW(config: OptimizationConfig(), slots: layout, count: count, totalSteps: 10)
        XCTAssertEqual(names.map(opt.decays), [true, false, false, true])
        XCTAssertEqual(opt.decayMask, [1, 1, 1, 1, 0, 0, 0, 0, 1, 1])
    }

    func testNonFiniteGradientIsAnErrorAndChangesNothing() throws {
        let (layout, count) = slots(["a.weight", "b.weight"], [[3], [2]])
        let opt = try AdamW(config: OptimizationConfig(), slots: layout, count: count, totalSteps: 10)
        var params: [Float] = [1, 2, 3, 4, 5]
        let grads: [Float] = [0.1, 0.2, 0.3, .nan, 0.5]
        XCTAssertThrowsError(try params.withUnsafeMutableBufferPointer { p in
            try grads.withUnsafeBufferPointer { try opt.update(parameters: p, gradients: $0) }
        }) { error in
            XCTAssertEqual(error as? OptimizerError, .nonFiniteGradient(parameter: "b.weight", step: 0))
        }
        XCTAssertEqual(params, [1, 2, 3, 4, 5])
        XCTAssertEqual(opt.state.step, 0)
    }

    /// Large buffer (several chunks): resuming from a saved state gives bit-identical
    /// parameters to an uninterrupted run, and two runs are bit-identical.
    func testResumeFromStateIsBitIdentical() throws {
        let count = 3 * AdamW.chunk + 17
        let layout: [AdamW.Slot] = [("w", 0 ..< count - 5), ("w.bias", count - 5 ..< count)]
        var rng = SystemRandomNumberGenerator()
        let start = (0 ..< count).map { _ in Float.random(in: -1 ... 1, using: &rng) }
        let grads = (0 ..< 3).map { _ in (0 ..< count).map { _ in Float.random(in: -0.01 ... 0.01, using: &rng) } }
        func run(_ opt: AdamW, _ params: inout [Float], _ steps: Range<Int>) throws {
            for s in steps {
                _ = try params.withUnsafeMutableBufferPointer { p in
                    try grads[s].withUnsafeBufferPointer { try opt.update(parameters: p, gradients: $0) }
                }
            }
        }
        let cfg = try OptimizationConfig.load(Self.root.appendingPathComponent("graphs/optimizer-adamw.json"))
        var a = start
        let full = try AdamW(config: cfg, slots: layout, count: count, totalSteps: 20)
        try run(full, &a, 0 ..< 3)
        var b = start
        let first = try AdamW(config: cfg, slots: layout, count: count, totalSteps: 20)
        try run(first, &b, 0 ..< 2)
        let resumed = try AdamW(config: cfg, slots: layout, count: count, totalSteps: 20)
        try resumed.restore(first.state)
        try run(resumed, &b, 2 ..< 3)
        XCTAssertEqual(a, b)
        XCTAssertEqual(full.state, resumed.state)
        XCTAssertThrowsError(try resumed.restore(OptimizerState(m: [], v: [], step: 0)))
    }

    // MARK: - Config files

    func testConfigFilesLoadAndRoundTrip() throws {
        let adamw = try OptimizationConfig.load(Self.root.appendingPathComponent("graphs/optimizer-adamw.json"))
        XCTAssertEqual(adamw.optimizer.type, .adamw)
        XCTAssertEqual(adamw.optimizer.settings.epsilon, 1e-6)
        XCTAssertEqual(adamw.optimizer.settings.globalClipnorm, 1.0)
        XCTAssertEqual(adamw.learningRate.polynomial.initialLearningRate, 2e-5)
        XCTAssertEqual(adamw.warmup.type, .polynomial)
        XCTAssertEqual(adamw.warmup.settings.warmupFraction, 0.1)
        let schedule = try LearningRateSchedule(adamw, totalSteps: 1000)
        XCTAssertEqual(schedule.warmupSteps, 100)
        XCTAssertEqual(schedule.decaySteps, 1000)
        XCTAssertEqual(schedule(1000), 0)

        let bert = try OptimizationConfig.load(Self.root.appendingPathComponent("graphs/optimizer-bert-adam.json"))
        XCTAssertEqual(bert.optimizer.type, .bertAdam)
        XCTAssertEqual(bert.warmup.type, .bert)
        for c in [adamw, bert] {
            let again = try OptimizationConfig.decode(JSONEncoder().encode(c), file: "round trip")
            XCTAssertEqual(again, c)
        }
        XCTAssertEqual(try OptimizationConfig.decode(Data("{}".utf8), file: "empty"), OptimizationConfig())
    }

    func testConfigErrorsNameFileAndKey() throws {
        func error(_ json: String) -> OptimizationConfigError? {
            do { _ = try OptimizationConfig.decode(Data(json.utf8), file: "opt.json"); return nil } catch {
                return error as? OptimizationConfigError
            }
        }
        let cases: [(String, String)] = [
            (#"{"optimizer": {"type": "adamw", "adamw": {"beta1": 0.9}}}"#, "optimizer.adamw.beta1"),
            (#"{"optimizer": {"type": "adamw", "adamw": {"beta_1": 1.5}}}"#, "optimizer.adamw.beta_1"),
            (#"{"optimizer": {"type": "adamw", "adamw": {"epsilon": "small"}}}"#, "optimizer.adamw.epsilon"),
            (#"{"optimizer": {"type": "sgd"}}"#, "optimizer.type"),
            (#"{"optimizer": {"type": "adamw", "bert_adam": {}}}"#, "optimizer.bert_adam"),
            (#"{"learning_rate": {"type": "polynomial", "polynomial": {"power": 0}}}"#, "learning_rate.polynomial.power"),
            (#"{"warmup": {"type": "linear", "linear": {"warmup_fraction": 2}}}"#, "warmup.linear.warmup_fraction"),
            (#"{"warmup": {"type": "polynomial", "polynomial": {"warmup_fraction": null}}}"#, "warmup.polynomial.warmup_steps"),
            (#"{"optimiser": {}}"#, "optimiser"),
        ]
        for (json, key) in cases {
            let e = error(json)
            XCTAssertEqual(e?.file, "opt.json", json)
            XCTAssertEqual(e?.key, key, json)
            XCTAssertTrue(e.map { "\($0)".hasPrefix("opt.json: key \(key): ") } ?? false, "\(String(describing: e))")
        }
        XCTAssertThrowsError(try OptimizationConfig.load(URL(fileURLWithPath: "/nonexistent/opt.json"))) { e in
            XCTAssertTrue("\(e)".contains("/nonexistent/opt.json"), "\(e)")
        }
    }
}

/// The ParameterStore front end gives the same update as the raw buffers.
final class AdamWParameterStoreTests: XCTestCase {
    func testStoreUpdateMatchesBufferUpdate() throws {
        let specs: [(name: String, shape: [Int])] = [("dense.weight", [2, 3]), ("dense.bias", [2]), ("LayerNorm.weight", [3])]
        let params = ParameterStore(specs: specs), grads = ParameterStore(specs: specs)
        params.withUnsafeMutableBufferPointer { p in for i in p.indices { p[i] = Float(i) * 0.1 - 0.3 } }
        grads.withUnsafeMutableBufferPointer { g in for i in g.indices { g[i] = Float(i % 4) * 0.2 - 0.25 } }
        var raw = params.tensor("dense.weight")!.floats! + params.tensor("dense.bias")!.floats! + params.tensor("LayerNorm.weight")!.floats!
        let rawGrads = grads.tensor("dense.weight")!.floats! + grads.tensor("dense.bias")!.floats! + grads.tensor("LayerNorm.weight")!.floats!

        let a = try AdamW(config: OptimizationConfig(), parameters: params, totalSteps: 5)
        XCTAssertEqual(a.slots.map(\.name), ["dense.weight", "dense.bias", "LayerNorm.weight"])
        let b = try AdamW(config: OptimizationConfig(), slots: a.slots, count: a.count, totalSteps: 5)
        for _ in 0 ..< 2 {
            try a.update(parameters: params, gradients: grads)
            _ = try raw.withUnsafeMutableBufferPointer { p in try rawGrads.withUnsafeBufferPointer { try b.update(parameters: p, gradients: $0) } }
        }
        XCTAssertEqual(params.withUnsafeMutableBufferPointer { Array($0) }, raw)

        let other = ParameterStore(specs: [("dense.bias", [2]), ("dense.weight", [2, 3]), ("LayerNorm.weight", [3])])
        XCTAssertThrowsError(try a.update(parameters: params, gradients: other))
    }
}
