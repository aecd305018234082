import Foundation

// The learning rate at each step: a decay wrapped by a warmup, as Model Garden's
// `OptimizerFactory.build_learning_rate` composes them (official/modeling/optimization/
// lr_schedule.py). `step` counts the updates already applied, like Keras'
// `optimizer.iterations`: the first update uses step 0.
//
// Model Garden's BERT fine-tuning (the "Fine-tuning a BERT model" tutorial) decays over all
// training steps and wraps the decay in `PolynomialWarmUp`, whose peak is the *decayed* rate
// at the end of warmup, `decay(warmup_steps)`, not `initial_learning_rate`:
//
//     step <  warmup: lr = decay(warmup) * (max(step, 1) / warmup)^warmup_power
//     step >= warmup: lr = decay(step)
//     decay(s) = (initial - end) * (1 - min(s, decay_steps) / decay_steps)^power + end
//
// The `bert` warmup is google-research/bert's `optimization.py` instead: during warmup
// lr = initial * step / warmup (0 at step 0, peak `initial`).

/// The learning rate of every step of one training run.
public struct LearningRateSchedule: Sendable, Equatable {
    public let config: OptimizationConfig
    /// Steps of the whole run; the decay spans them when `decay_steps` is null.
    public let totalSteps: Int
    /// Resolved warmup length (0 without warmup).
    public let warmupSteps: Int
    /// Resolved decay length.
    public let decaySteps: Int

    /// - Parameters:
    ///   - config: the learning-rate and warmup parts are used.
    ///   - totalSteps: the number of updates of the run (> 0).
    public init(_ config: OptimizationConfig, totalSteps: Int) throws {
        guard totalSteps > 0 else {
            throw OptimizationConfigError(file: "learning rate schedule", key: "total_steps",
                                          message: "must be positive, got \(totalSteps)")
        }
        self.config = config
        self.totalSteps = totalSteps
        let w = config.warmup.settings
        switch config.warmup.type {
        case .none: warmupSteps = 0
        case .polynomial, .linear, .bert:
            warmupSteps = w.warmupSteps ?? Int((w.warmupFraction ?? 0) * Double(totalSteps))
        }
        decaySteps = config.learningRate.polynomial.decaySteps ?? totalSteps
    }

    /// The rate after warmup: the configured decay at `step`.
    public func decayed(_ step: Int) -> Double {
        switch config.learningRate.type {
        case .constant:
            return config.learningRate.constant.learningRate
        case .polynomial:
            let p = config.learningRate.polynomial
            let done = Double(min(step, decaySteps)) / Double(decaySteps)
            return (p.initialLearningRate - p.endLearningRate) * pow(1 - done, p.power) + p.endLearningRate
        }
    }

    /// The learning rate of the update made when `step` updates have been applied.
    public func callAsFunction(_ step: Int) -> Double {
        guard step < warmupSteps else { return decayed(step) }
        let w = config.warmup.settings
        let fraction = Double(step) / Double(warmupSteps)
        switch config.warmup.type {
        case .none:
            return decayed(step)
        case .polynomial:
            return decayed(warmupSteps) * pow(Double(max(step, 1)) / Double(warmupSteps), w.power)
        case .linear:
            return w.warmupLearningRate + fraction * (decayed(warmupSteps) - w.warmupLearningRate)
        case .bert:
            let initial: Double
            switch config.learningRate.type {
            case .polynomial: initial = config.learningRate.polynomial.initialLearningRate
            case .constant: initial = config.learningRate.constant.learningRate
            }
            return initial * fraction
        }
    }
}
