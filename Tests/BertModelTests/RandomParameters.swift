import BertGraph
import BertRuntime

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
