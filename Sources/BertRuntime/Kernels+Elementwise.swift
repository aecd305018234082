// Elementwise kernels: add and mul (with suffix broadcasting), scale, GELU (erf and tanh forms)
// and its gradient, tanh and its gradient, fill. Each works on contiguous chunks with plain
// loops the optimiser vectorises; chunks are split across threads by element.
import BertGraph
import Foundation

/// A loop over `count` contiguous elements: (x, y, out, count). `y` is unused by unary ops.
typealias ChunkLoop = (UnsafePointer<Float>, UnsafePointer<Float>, UnsafeMutablePointer<Float>, Int) -> Void

/// sqrt(2 / pi), the scale inside the tanh form of GELU.
private let geluTanhScale: Float = 0.7978845608028654
/// 1 / sqrt(2), the scale inside the erf form of GELU.
private let inverseSqrt2: Float = 0.7071067811865476
/// 1 / sqrt(2 pi), the normal density's constant.
private let inverseSqrt2Pi: Float = 0.3989422804014327

enum ElementwiseKernels {
    /// (x [...]) -> f(x) [...], one output element per input element. The output may alias x.
    static func unary(_ site: KernelSite, _ loop: @escaping ChunkLoop) -> Kernel {
        let (x, out, count, parallel) = (site.inputs[0], site.outputs[0], site.outputCount(0), site.parallel)
        return Kernel { f in
            let xp = f.floats(x), op = f.floats(out)
            parallel.splitElements(count) { r in
                loop(xp + r.lowerBound, xp + r.lowerBound, op + r.lowerBound, r.count)
            }
        }
    }

    /// (x [..., n], y [n] or x's shape) -> f(x, y) [..., n]: y repeats over x's leading dims.
    /// The output may alias x.
    static func binary(_ site: KernelSite, _ loop: @escaping ChunkLoop) -> Kernel {
        let (x, y, out, parallel) = (site.inputs[0], site.inputs[1], site.outputs[0], site.parallel)
        let count = site.outputCount(0)
        let period = max(site.inputCount(1), 1)
        return Kernel { f in
            let xp = f.floats(x), yp = f.floats(y), op = f.floats(out)
            parallel.splitElements(count) { r in
                // Walk the range in segments that do not wrap around y.
                var i = r.lowerBound
                while i < r.upperBound {
                    let j = i % period
                    let n = min(period - j, r.upperBound - i)
                    loop(xp + i, yp + j, op + i, n)
                    i += n
                }
            }
        }
    }

    /// () -> `value` everywhere.
    static func fill(_ site: KernelSite, value: Float) -> Kernel {
        let (out, count, parallel) = (site.outputs[0], site.outputCount(0), site.parallel)
        return Kernel { f in
            let op = f.floats(out)
            parallel.splitElements(count) { r in (op + r.lowerBound).update(repeating: value, count: r.count) }
        }
    }

    // MARK: - Loops

    static let add: ChunkLoop = { x, y, out, n in for i in 0..<n { out[i] = x[i] + y[i] } }
    static let mul: ChunkLoop = { x, y, out, n in for i in 0..<n { out[i] = x[i] * y[i] } }

    static func scale(_ factor: Float) -> ChunkLoop {
        { x, _, out, n in for i in 0..<n { out[i] = x[i] * factor } }
    }

    static let tanh: ChunkLoop = { x, _, out, n in for i in 0..<n { out[i] = tanhf(x[i]) } }

    /// (dy, y) -> dy * (1 - y^2), with y = tanh(x).
    static let tanhGrad: ChunkLoop = { dy, y, out, n in for i in 0..<n { out[i] = dy[i] * (1 - y[i] * y[i]) } }

    /// GELU: 0.5 x (1 + erf(x / sqrt 2)), or 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))).
    /// Both are evaluated in forms without the cancellation of 1 + erf or 1 + tanh near -1
    /// for negative x: 1 + erf(z) = erfc(-z) and 0.5 (1 + tanh(u)) = 1 / (1 + exp(-2u)).
    static func gelu(_ form: GeluApproximation) -> ChunkLoop {
        switch form {
        case .erf:
            return { x, _, out, n in
                for i in 0..<n { out[i] = 0.5 * x[i] * erfcf(-x[i] * inverseSqrt2) }
            }
        case .tanh:
            return { x, _, out, n in
                for i in 0..<n {
                    let v = x[i]
                    out[i] = v / (1 + expf(-2 * geluTanhScale * (v + 0.044715 * v * v * v)))
                }
            }
        }
    }

    /// (dy, x) -> dy * GELU'(x).
    /// erf form: GELU'(x) = 0.5 (1 + erf(x / sqrt 2)) + x * exp(-x^2 / 2) / sqrt(2 pi).
    /// tanh form, with t = tanh(u), u = sqrt(2/pi) (x + 0.044715 x^3):
    /// GELU'(x) = 0.5 (1 + t) + 0.5 x (1 - t^2) sqrt(2/pi) (1 + 3 * 0.044715 x^2).
    static func geluGrad(_ form: GeluApproximation) -> ChunkLoop {
        switch form {
        case .erf:
            return { dy, x, out, n in
                for i in 0..<n {
                    let v = x[i]
                    let cdf = 0.5 * erfcf(-v * inverseSqrt2)
                    out[i] = dy[i] * (cdf + v * expf(-0.5 * v * v) * inverseSqrt2Pi)
                }
            }
        case .tanh:
            return { dy, x, out, n in
                for i in 0..<n {
                    let v = x[i]
                    let t = tanhf(geluTanhScale * (v + 0.044715 * v * v * v))
                    let du = geluTanhScale * (1 + 3 * 0.044715 * v * v)
                    out[i] = dy[i] * (0.5 * (1 + t) + 0.5 * v * (1 - t * t) * du)
                }
            }
        }
    }
}
