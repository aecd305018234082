import BertRuntime
import Foundation

// AdamW over all parameters at once. Parameters, gradients and the moments m and v are four
// buffers with one layout (the runtime's ParameterStore keeps every parameter in one
// contiguous buffer, slot by slot), so an update is one fused elementwise pass:
//
//     g  = clip * grad
//     m  = b1 m + (1 - b1) g
//     v  = b2 v + (1 - b2) g^2
//     p  = p (1 - lr * rate * decay[i]) - stepSize * m / (sqrt(v) * vScale + eps)
//
// The three update rules differ only in the scalars (see `scalars(lr:t:)`), so one loop
// serves them all. The pass runs in fixed chunks on `WorkerPool`; the only
// reduction (the global gradient norm) sums per-chunk partials in chunk order, so results do
// not depend on the number of threads.

/// Optimizer state for checkpoints: the moments and the number of updates applied.
public struct OptimizerState: Equatable, Sendable {
    /// First moments, one per parameter element, in the parameter buffer's layout.
    public var m: [Float]
    /// Second moments, same layout.
    public var v: [Float]
    /// Updates applied so far (Keras' `iterations`).
    public var step: Int

    public init(m: [Float], v: [Float], step: Int) {
        self.m = m
        self.v = v
        self.step = step
    }
}

/// What one update did.
public struct UpdateReport: Equatable, Sendable {
    /// The step that was applied (0 for the first update).
    public var step: Int
    public var learningRate: Double
    /// Global L2 norm of the gradients before clipping.
    public var gradientNorm: Double
    /// Factor the gradients were scaled by (1 when not clipped).
    public var clipScale: Double
}

/// Errors of an update; nothing is modified when one is thrown.
public enum OptimizerError: Error, CustomStringConvertible, Equatable {
    /// A gradient holds NaN or infinity.
    case nonFiniteGradient(parameter: String, step: Int)
    /// A buffer does not have the layout's element count.
    case sizeMismatch(what: String, expected: Int, got: Int)
    /// Two slots of the layout overlap or a slot lies outside the buffer.
    case badLayout(String)

    public var description: String {
        switch self {
        case .nonFiniteGradient(let p, let step):
            return "non-finite gradient for parameter \(p) at step \(step); lower the learning rate or check the inputs"
        case .sizeMismatch(let what, let expected, let got):
            return "\(what) has \(got) elements, the parameter layout has \(expected)"
        case .badLayout(let message):
            return "bad parameter layout: \(message)"
        }
    }
}

/// AdamW with decoupled weight decay, global-norm clipping and a learning-rate schedule, in
/// one of three flavours (`OptimizationConfig.OptimizerType`).
public final class AdamW {
    /// A parameter's name and its element range in the buffers.
    public typealias Slot = (name: String, range: Range<Int>)

    public let config: OptimizationConfig
    public let schedule: LearningRateSchedule
    public let slots: [Slot]
    /// Elements in each buffer.
    public let count: Int
    /// 1 where weight decay applies, per element: computed once from the names.
    public let decayMask: [UInt8]
    /// The moments and step, for checkpoints (arrays share storage until the next update).
    public var state: OptimizerState { OptimizerState(m: m, v: v, step: step) }
    private var m: [Float]
    private var v: [Float]
    private var step = 0

    /// Elements per work item: fixed, so the norm's summation order never changes.
    static let chunk = 1 << 16

    /// - Parameters:
    ///   - config: optimizer, learning rate and warmup settings.
    ///   - slots: every parameter's name and element range; ranges must not overlap.
    ///   - count: elements in each buffer (>= the end of every slot).
    ///   - totalSteps: updates in the whole run (for the schedule).
    public init(config: OptimizationConfig, slots: [Slot], count: Int, totalSteps: Int) throws {
        self.config = config
        self.schedule = try LearningRateSchedule(config, totalSteps: totalSteps)
        self.slots = slots
        self.count = count
        let excluded = try config.optimizer.settings.excludeFromWeightDecay.map { try Regex($0) }
        var mask = [UInt8](repeating: 0, count: count)
        var covered = [Bool](repeating: false, count: count)
        for s in slots {
            guard s.range.lowerBound >= 0, s.range.upperBound <= count else {
                throw OptimizerError.badLayout("slot \(s.range) of \(s.name) lies outside \(count) elements")
            }
            let decays = !excluded.contains { s.name.contains($0) }
            for i in s.range {
                guard !covered[i] else { throw OptimizerError.badLayout("slot of \(s.name) overlaps another") }
                covered[i] = true
                mask[i] = decays ? 1 : 0
            }
        }
        decayMask = mask
        m = [Float](repeating: 0, count: count)
        v = [Float](repeating: 0, count: count)
    }

    /// Whether the parameter called `name` gets weight decay.
    public func decays(_ name: String) -> Bool {
        guard let s = slots.first(where: { $0.name == name }), !s.range.isEmpty else { return false }
        return decayMask[s.range.lowerBound] == 1
    }

    /// Replaces the state (resuming from a checkpoint).
    public func restore(_ s: OptimizerState) throws {
        guard s.m.count == count else { throw OptimizerError.sizeMismatch(what: "restored m", expected: count, got: s.m.count) }
        guard s.v.count == count else { throw OptimizerError.sizeMismatch(what: "restored v", expected: count, got: s.v.count) }
        (m, v, step) = (s.m, s.v, s.step)
    }

    // MARK: - Update

    /// The per-step scalars of the fused update for learning rate `lr` at update number `t`
    /// (1-based, as in Adam's bias correction).
    private func scalars(lr: Double, t: Int) -> (stepSize: Float, vScale: Float) {
        let s = config.optimizer.settings
        let bc1 = 1 - pow(s.beta1, Double(t))
        let bc2 = 1 - pow(s.beta2, Double(t))
        switch config.optimizer.type {
        case .adamw: return (Float(lr * bc2.squareRoot() / bc1), 1)  // Keras: eps on sqrt(v)
        case .adamwPytorch: return (Float(lr / bc1), Float(1 / bc2.squareRoot()))  // eps on sqrt(v_hat)
        case .bertAdam: return (Float(lr), 1)  // no bias correction
        }
    }

    /// The gradient scale for global norm `norm`.
    private func clipScale(norm: Double) -> Double {
        guard let clip = config.optimizer.settings.globalClipnorm else { return 1 }
        switch config.optimizer.type {
        case .adamw, .bertAdam: return clip / max(norm, clip)  // tf.clip_by_global_norm
        case .adamwPytorch: return min(clip / (norm + 1e-6), 1)  // torch.nn.utils.clip_grad_norm_
        }
    }

    /// The global L2 norm of `g`, summed per chunk in Double, partials added in chunk order
    /// (a fixed order, whatever the thread count).
    private func globalNorm(_ g: UnsafeBufferPointer<Float>) -> Double {
        let chunks = (count + Self.chunk - 1) / Self.chunk
        var partials = [Double](repeating: 0, count: chunks)
        partials.withUnsafeMutableBufferPointer { out in
            let out = out
            WorkerPool.shared.perform(iterations: chunks) { c in
                // Four running sums (element i goes to sum i % 4) break the add dependency chain.
                var sums = SIMD4<Double>()
                var i = c * Self.chunk
                let end = min(count, (c + 1) * Self.chunk)
                while i + 4 <= end {
                    let x = SIMD4<Double>(Double(g[i]), Double(g[i + 1]), Double(g[i + 2]), Double(g[i + 3]))
                    sums += x * x
                    i += 4
                }
                while i < end { sums[0] += Double(g[i]) * Double(g[i]); i += 1 }
                out[c] = (sums[0] + sums[1]) + (sums[2] + sums[3])
            }
        }
        return partials.reduce(0, +).squareRoot()
    }

    /// The scalars of one step of the fused update.
    struct Scalars {
        var b1, b2, g1, g2, eps, clip, decay, stepSize, vScale: Float
    }

    /// The fused update of `count` elements: plain pointers and one flat loop, so that it
    /// vectorises.
    private static func updateChunk(_ p: UnsafeMutablePointer<Float>, _ g: UnsafePointer<Float>,
                                    _ m: UnsafeMutablePointer<Float>, _ v: UnsafeMutablePointer<Float>,
                                    _ mask: UnsafePointer<UInt8>, count: Int, _ k: Scalars) {
        for i in 0 ..< count {
            let gi = g[i] * k.clip
            let mi = k.b1 * m[i] + k.g1 * gi
            let vi = k.b2 * v[i] + k.g2 * gi * gi
            m[i] = mi
            v[i] = vi
            p[i] = p[i] * (1 - k.decay * Float(mask[i])) - k.stepSize * mi / (vi.squareRoot() * k.vScale + k.eps)
        }
    }

    /// Applies one update to `parameters` from `gradients` (left unchanged).
    /// - Parameters:
    ///   - parameters: all parameters, `count` elements in the slot layout.
    ///   - gradients: their gradients, same layout.
    /// - Returns: the step, learning rate, gradient norm and clip factor used.
    @discardableResult
    public func update(parameters: UnsafeMutableBufferPointer<Float>, gradients: UnsafeBufferPointer<Float>) throws -> UpdateReport {
        guard parameters.count == count else { throw OptimizerError.sizeMismatch(what: "parameters", expected: count, got: parameters.count) }
        guard gradients.count == count else { throw OptimizerError.sizeMismatch(what: "gradients", expected: count, got: gradients.count) }
        let norm = globalNorm(gradients)
        guard norm.isFinite else {
            let bad = slots.first { s in s.range.contains { !gradients[$0].isFinite } }
            throw OptimizerError.nonFiniteGradient(parameter: bad?.name ?? "?", step: step)
        }
        let s = config.optimizer.settings
        let lr = schedule(step)
        let clip = clipScale(norm: norm)
        let (stepSize, vScale) = scalars(lr: lr, t: step + 1)
        // 1 - beta in Double: 1 - Float(0.999) is 1.3e-5 away from 0.001 in relative terms.
        let (g1, g2) = (Float(1 - s.beta1), Float(1 - s.beta2))
        let decay = Float(lr * s.weightDecayRate)
        let k = Scalars(b1: Float(s.beta1), b2: Float(s.beta2), g1: g1, g2: g2, eps: Float(s.epsilon),
                        clip: Float(clip), decay: decay, stepSize: stepSize, vScale: vScale)
        let chunks = (count + Self.chunk - 1) / Self.chunk
        let count = self.count
        if count > 0 { decayMask.withUnsafeBufferPointer { mask in
            m.withUnsafeMutableBufferPointer { m in
                v.withUnsafeMutableBufferPointer { v in
                    let (m, v, mask, p, g) = (m.baseAddress!, v.baseAddress!, mask.baseAddress!, parameters.baseAddress!, gradients.baseAddress!)
                    WorkerPool.shared.perform(iterations: chunks) { c in
                        let start = c * Self.chunk
                        Self.updateChunk(p + start, g + start, m + start, v + start, mask + start,
                                         count: min(count, start + Self.chunk) - start, k)
                    }
                }
            }
        } }
        let report = UpdateReport(step: step, learningRate: lr, gradientNorm: norm, clipScale: clip)
        step += 1
        return report
    }
}
