import BertGraph
import BertRuntime
import XCTest

extension ParameterStore {
    /// Deterministic random values for every parameter of a small test model: LayerNorm
    /// scales in [0.9, 1.1), everything else in [-0.2, 0.2).
    func fillRandom(seed: UInt64) throws {
        var state = seed
        func random() -> Float {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Float(state >> 40) / 16_777_216 - 0.5
        }
        for name in names {
            let shape = self.shape(name)!
            try set(name, HostTensor(shape: shape, floats: (0..<shape.reduce(1, *)).map { _ in
                name.hasSuffix("LayerNorm.weight") ? 1 + 0.2 * random() : 0.4 * random() }))
        }
    }
}

/// Asserts that every tensor of `actual` is within `relative` of the same-named tensor of
/// `expected`, relative to that tensor's largest magnitude (at least 1e-3): graphs that differ
/// only in how sums are associated.
func assertTensorsClose(_ actual: [String: HostTensor], _ expected: [String: HostTensor], relative: Float,
                        _ context: String, file: StaticString = #filePath, line: UInt = #line) {
    for (name, got) in actual {
        guard let want = expected[name]?.floats, let p = got.floats else {
            XCTFail("\(name): missing or not float", file: file, line: line)
            continue
        }
        let scale = max(want.map(abs).max() ?? 0, 1e-3)
        let diff = zip(p, want).map { abs($0 - $1) }.max() ?? 0
        XCTAssertLessThanOrEqual(diff, relative * scale, "\(name)\(context): max diff \(diff), scale \(scale)",
                                 file: file, line: line)
    }
}
