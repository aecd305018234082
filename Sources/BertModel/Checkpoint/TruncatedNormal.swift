// Deterministic initial values for parameters a checkpoint does not provide (the new task
// head): a truncated normal like tf.keras.initializers.TruncatedNormal, which redraws samples
// farther than two standard deviations from the mean, driven by SplitMix64 so that a seed
// gives the same values on every machine and in every build.

import BertGraph
import BertRuntime
import Foundation

/// Samples of N(0, stddev²) restricted to [-2 stddev, 2 stddev] by redrawing.
struct TruncatedNormal {
    var stddev: Double
    private var generator: SplitMix64
    private var spare: Double?

    init(stddev: Double, seed: UInt64) {
        self.stddev = stddev
        generator = SplitMix64(seed: seed)
    }

    /// `count` samples as floats.
    mutating func samples(_ count: Int) -> [Float] {
        (0..<count).map { _ in Float(nextSample()) }
    }

    private mutating func nextSample() -> Double {
        while true {
            let z = nextStandardNormal()
            if abs(z) <= 2 { return z * stddev }
        }
    }

    /// Box-Muller: two uniforms give two independent standard normals; the second is kept.
    private mutating func nextStandardNormal() -> Double {
        if let z = spare {
            spare = nil
            return z
        }
        let radius = (-2 * log(generator.nextUnitInterval())).squareRoot()
        let angle = 2 * Double.pi * generator.nextUnitInterval()
        spare = radius * sin(angle)
        return radius * cos(angle)
    }
}

extension TruncatedNormal {
    /// A seed for one named parameter: the run's seed mixed with an FNV-1a hash of the name, so
    /// that each parameter's values depend only on (seed, name), not on parameter order.
    static func seed(_ seed: UInt64, for name: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in name.utf8 { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
        var mixer = SplitMix64(seed: seed ^ hash)
        return mixer.next()
    }
}
