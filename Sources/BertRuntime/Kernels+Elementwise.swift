// Elementwise kernels: add and mul (with suffix broadcasting), scale, GELU (erf and tanh forms)
// and its gradient, tanh and ReLU and their gradients, fill. Each works on contiguous chunks, with plain
// loops the optimiser vectorises or, for transcendental functions, eight lanes at a time
// through VectorFunctions.swift; chunks are split across threads by element.
import BertGraph

/// A loop over `count` contiguous elements: (x, y, out, count). `y` is unused by unary ops.
typealias ChunkLoop = (UnsafePointer<Float>, UnsafePointer<Float>, UnsafeMutablePointer<Float>, Int) -> Void

/// sqrt(2 / pi), the scale inside the tanh form of GELU.
private let geluTanhScale: Float = 0.7978845608028654
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

    static let tanh: ChunkLoop = { x, _, out, n in mapLanes(x, x, out, n) { v, _ in vectorTanh(v) } }

    /// (dy, y) -> dy * (1 - y^2), with y = tanh(x).
    static let tanhGrad: ChunkLoop = { dy, y, out, n in for i in 0..<n { out[i] = dy[i] * (1 - y[i] * y[i]) } }

    /// max(x, 0); NaN stays NaN, as in PyTorch.
    static let relu: ChunkLoop = { x, _, out, n in for i in 0..<n { out[i] = x[i] < 0 ? 0 : x[i] } }

    /// (dy, y) -> dy where y > 0, else 0, with y = relu(x).
    static let reluGrad: ChunkLoop = { dy, y, out, n in for i in 0..<n { out[i] = y[i] > 0 ? dy[i] : 0 } }

    /// GELU: x Phi(x) = 0.5 x (1 + erf(x / sqrt 2)), or 0.5 x (1 + tanh(u)) with
    /// u = sqrt(2/pi) (x + 0.044715 x^3). Both avoid the cancellation of 1 + erf or 1 + tanh
    /// near -1 for negative x: Phi comes from erfc, and 0.5 (1 + tanh(u)) = 1 / (1 + exp(-2u)).
    static func gelu(_ form: GeluApproximation) -> ChunkLoop {
        switch form {
        case .erf:
            return { x, _, out, n in mapLanes(x, x, out, n) { v, _ in v * vectorNormalCDF(v) } }
        case .tanh:
            return { x, _, out, n in
                mapLanes(x, x, out, n) { v, _ in
                    v / (1 + vectorExp(-2 * geluTanhScale * (v + 0.044715 * v * v * v)))
                }
            }
        }
    }

    /// (dy, x) -> dy * GELU'(x).
    /// erf form: GELU'(x) = Phi(x) + x * exp(-x^2 / 2) / sqrt(2 pi).
    /// tanh form, with t = tanh(u), u = sqrt(2/pi) (x + 0.044715 x^3):
    /// GELU'(x) = 0.5 (1 + t) + 0.5 x (1 - t^2) u'(x), evaluated as s + 2 x s (1 - s) u'(x)
    /// with s = 0.5 (1 + t) = 1 / (1 + e^-2u) and 1 - s = e^-2u s, free of cancellation.
    static func geluGrad(_ form: GeluApproximation) -> ChunkLoop {
        switch form {
        case .erf:
            return { dy, x, out, n in
                mapLanes(dy, x, out, n) { g, v in
                    g * (vectorNormalCDF(v) + v * vectorExp(-0.5 * v * v) * inverseSqrt2Pi)
                }
            }
        case .tanh:
            return { dy, x, out, n in
                mapLanes(dy, x, out, n) { g, v in
                    let e = vectorExp(-2 * geluTanhScale * (v + 0.044715 * v * v * v))
                    let s = 1 / (1 + e)
                    let du = geluTanhScale * (1 + 3 * 0.044715 * v * v)
                    // 1 - s as e s, or directly where e > 1 (s < 1/2; e may be infinite).
                    let rest = (e * s).replacing(with: 1 - s, where: e .> 1)
                    return g * (s + 2 * v * s * rest * du)
                }
            }
        }
    }
}
