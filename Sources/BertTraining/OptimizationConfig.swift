import BertText
import Foundation

// The optimizer, learning-rate and warmup settings as one serialisable value, in the JSON
// layout of TF Model Garden's `OptimizationConfig` (official/modeling/optimization/configs):
// every part is a one-of `{"type": T, T: {settings}}`. Keys are Model Garden's snake_case
// names. Unknown keys, a settings object for a type other than the chosen one, and values out
// of range are errors naming the file and the key path.

/// Everything that decides a parameter update except the gradients.
public struct OptimizationConfig: Codable, Equatable, Sendable {
    public var optimizer: Optimizer
    public var learningRate: LearningRate
    public var warmup: Warmup

    public init(optimizer: Optimizer = Optimizer(), learningRate: LearningRate = LearningRate(),
                warmup: Warmup = Warmup()) {
        self.optimizer = optimizer
        self.learningRate = learningRate
        self.warmup = warmup
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case optimizer, learningRate = "learning_rate", warmup
    }

    public init(from decoder: Decoder) throws {
        let c = try strictContainer(decoder, keyedBy: CodingKeys.self)
        optimizer = try c.decodeIfPresent(Optimizer.self, forKey: .optimizer) ?? Optimizer()
        learningRate = try c.decodeIfPresent(LearningRate.self, forKey: .learningRate) ?? LearningRate()
        warmup = try c.decodeIfPresent(Warmup.self, forKey: .warmup) ?? Warmup()
    }

    // MARK: - Optimizer

    /// Which AdamW update rule; all three decouple weight decay from the gradient.
    public enum OptimizerType: String, Codable, Sendable, CaseIterable {
        /// Model Garden's `adamw` (`legacy_adamw.AdamWeightDecay`, a Keras Adam): bias
        /// correction folded into the step size, `epsilon` added to sqrt(v) (not sqrt(v_hat)),
        /// then `param -= lr * rate * param` (decoupled decay, done first).
        case adamw
        /// `torch.optim.AdamW`: `param *= 1 - lr * rate`, then Adam with `epsilon` added to
        /// sqrt(v_hat); clipping as `torch.nn.utils.clip_grad_norm_` (norm + 1e-6).
        case adamwPytorch = "adamw_pytorch"
        /// google-research/bert `AdamWeightDecayOptimizer`: no bias correction,
        /// `param -= lr * (m / (sqrt(v) + epsilon) + rate * param)`.
        case bertAdam = "bert_adam"
    }

    /// AdamW settings, shared by the three update rules.
    public struct AdamW: Codable, Equatable, Sendable {
        public var weightDecayRate: Double = 0.01
        public var beta1: Double = 0.9
        public var beta2: Double = 0.999
        public var epsilon: Double = 1e-6
        /// Parameters whose name matches one of these regular expressions (searched anywhere
        /// in the name, like Python's `re.search`) get no weight decay.
        public var excludeFromWeightDecay: [String] = ["LayerNorm", "layer_norm", "bias"]
        /// Gradients are scaled by `clip / max(global norm, clip)`; nil: no clipping.
        public var globalClipnorm: Double? = 1.0

        public init() {}

        enum CodingKeys: String, CodingKey, CaseIterable {
            case weightDecayRate = "weight_decay_rate", beta1 = "beta_1", beta2 = "beta_2", epsilon
            case excludeFromWeightDecay = "exclude_from_weight_decay", globalClipnorm = "global_clipnorm"
        }

        public init(from decoder: Decoder) throws {
            let c = try strictContainer(decoder, keyedBy: CodingKeys.self, displayName: true)
            weightDecayRate = try c.decodeIfPresent(Double.self, forKey: .weightDecayRate) ?? weightDecayRate
            beta1 = try c.decodeIfPresent(Double.self, forKey: .beta1) ?? beta1
            beta2 = try c.decodeIfPresent(Double.self, forKey: .beta2) ?? beta2
            epsilon = try c.decodeIfPresent(Double.self, forKey: .epsilon) ?? epsilon
            excludeFromWeightDecay = try c.decodeIfPresent([String].self, forKey: .excludeFromWeightDecay) ?? excludeFromWeightDecay
            // `"global_clipnorm": null` turns clipping off; an absent key keeps the default.
            if c.contains(.globalClipnorm) { globalClipnorm = try c.decodeIfPresent(Double.self, forKey: .globalClipnorm) }
            try check(beta1 >= 0 && beta1 < 1, c, .beta1, "must be in [0, 1), got \(beta1)")
            try check(beta2 >= 0 && beta2 < 1, c, .beta2, "must be in [0, 1), got \(beta2)")
            try check(epsilon > 0, c, .epsilon, "must be positive, got \(epsilon)")
            try check(weightDecayRate >= 0, c, .weightDecayRate, "must be >= 0, got \(weightDecayRate)")
            try check((globalClipnorm ?? 1) > 0, c, .globalClipnorm, "must be positive or null, got \(globalClipnorm ?? 0)")
            for pattern in excludeFromWeightDecay {
                try check((try? Regex(pattern)) != nil, c, .excludeFromWeightDecay, "\"\(pattern)\" is not a regular expression")
            }
        }

        public func encode(to encoder: Encoder) throws {
            try encodeFields(encoder, [CodingKeys.weightDecayRate: weightDecayRate, .beta1: beta1, .beta2: beta2, .epsilon: epsilon,
                                       .excludeFromWeightDecay: excludeFromWeightDecay, .globalClipnorm: globalClipnorm])
        }
    }

    /// `{"type": "adamw" | "adamw_pytorch" | "bert_adam", "<type>": {AdamW settings}}`.
    public typealias Optimizer = OneOf<OptimizerType, AdamW>

    // MARK: - Learning rate

    public enum LearningRateType: String, Codable, Sendable, CaseIterable {
        /// Keras `PolynomialDecay` (cycle false): from `initial` to `end` over `decay_steps`.
        case polynomial
        /// One rate for every step.
        case constant
    }

    /// Keras `PolynomialDecay`: `(initial - end) * (1 - min(step, decay) / decay)^power + end`.
    public struct PolynomialDecay: Codable, Equatable, Sendable {
        public var initialLearningRate: Double = 2e-5
        public var endLearningRate: Double = 0
        public var power: Double = 1
        /// nil: the total number of training steps (Model Garden's BERT fine-tuning setup).
        public var decaySteps: Int? = nil

        /// A linear decay (power 1) to 0 over all the training steps, from BERT's 2e-5.
        public init() {}

        enum CodingKeys: String, CodingKey, CaseIterable {
            case initialLearningRate = "initial_learning_rate", endLearningRate = "end_learning_rate", power, decaySteps = "decay_steps"
        }

        public init(from decoder: Decoder) throws {
            let c = try strictContainer(decoder, keyedBy: CodingKeys.self, displayName: true)
            initialLearningRate = try c.decodeIfPresent(Double.self, forKey: .initialLearningRate) ?? initialLearningRate
            endLearningRate = try c.decodeIfPresent(Double.self, forKey: .endLearningRate) ?? endLearningRate
            power = try c.decodeIfPresent(Double.self, forKey: .power) ?? power
            decaySteps = try c.decodeIfPresent(Int.self, forKey: .decaySteps)
            try check(initialLearningRate >= 0, c, .initialLearningRate, "must be >= 0, got \(initialLearningRate)")
            try check(endLearningRate >= 0, c, .endLearningRate, "must be >= 0, got \(endLearningRate)")
            try check(power > 0, c, .power, "must be positive, got \(power)")
            try check((decaySteps ?? 1) > 0, c, .decaySteps, "must be positive or null, got \(decaySteps ?? 0)")
        }

        public func encode(to encoder: Encoder) throws {
            try encodeFields(encoder, [CodingKeys.initialLearningRate: initialLearningRate, .endLearningRate: endLearningRate,
                                       .power: power, .decaySteps: decaySteps])
        }
    }

    public struct ConstantRate: Codable, Equatable, Sendable {
        public var learningRate: Double = 2e-5

        public init() {}

        enum CodingKeys: String, CodingKey, CaseIterable { case learningRate = "learning_rate" }

        public init(from decoder: Decoder) throws {
            let c = try strictContainer(decoder, keyedBy: CodingKeys.self, displayName: true)
            learningRate = try c.decodeIfPresent(Double.self, forKey: .learningRate) ?? learningRate
            try check(learningRate >= 0, c, .learningRate, "must be >= 0, got \(learningRate)")
        }

        public func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(learningRate, forKey: .learningRate)
        }
    }

    /// `{"type": "polynomial" | "constant", "<type>": {settings}}`.
    public struct LearningRate: Codable, Equatable, Sendable {
        public var type: LearningRateType = .polynomial
        public var polynomial = PolynomialDecay()
        public var constant = ConstantRate()

        public init() {}

        public init(from decoder: Decoder) throws {
            let (type, c): (LearningRateType, KeyedDecodingContainer<AnyKey>) = try decodeOneOf(decoder)
            self.type = type
            let key = AnyKey(type.rawValue)
            switch type {
            case .polynomial: polynomial = try c.decodeIfPresent(PolynomialDecay.self, forKey: key) ?? polynomial
            case .constant: constant = try c.decodeIfPresent(ConstantRate.self, forKey: key) ?? constant
            }
        }

        public func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: AnyKey.self)
            try c.encode(type, forKey: AnyKey("type"))
            switch type {
            case .polynomial: try c.encode(polynomial, forKey: AnyKey(type.rawValue))
            case .constant: try c.encode(constant, forKey: AnyKey(type.rawValue))
            }
        }
    }

    // MARK: - Warmup

    public enum WarmupType: String, Codable, Sendable, CaseIterable {
        /// No warmup.
        case none
        /// Model Garden `PolynomialWarmUp`: `decayed(warmup_steps) * (max(step, 1) / warmup_steps)^power`.
        case polynomial
        /// Model Garden `LinearWarmup`: from `warmup_learning_rate` to `decayed(warmup_steps)`.
        case linear
        /// google-research/bert `optimization.py`: `initial_learning_rate * step / warmup_steps`.
        case bert
    }

    /// Warmup settings; `warmup_steps` wins over `warmup_fraction` (a fraction of the total
    /// steps, rounded down like BERT's `int(num_train_steps * warmup_proportion)`).
    public struct WarmupSettings: Codable, Equatable, Sendable {
        public var warmupSteps: Int? = nil
        public var warmupFraction: Double? = 0.1
        public var power: Double = 1
        public var warmupLearningRate: Double = 0

        /// A linear warmup (power 1) from 0 over the first 10% of the steps.
        public init() {}

        enum CodingKeys: String, CodingKey, CaseIterable {
            case warmupSteps = "warmup_steps", warmupFraction = "warmup_fraction", power, warmupLearningRate = "warmup_learning_rate"
        }

        public init(from decoder: Decoder) throws {
            let c = try strictContainer(decoder, keyedBy: CodingKeys.self, displayName: true)
            warmupSteps = try c.decodeIfPresent(Int.self, forKey: .warmupSteps)
            if c.contains(.warmupFraction) { warmupFraction = try c.decodeIfPresent(Double.self, forKey: .warmupFraction) }
            power = try c.decodeIfPresent(Double.self, forKey: .power) ?? power
            warmupLearningRate = try c.decodeIfPresent(Double.self, forKey: .warmupLearningRate) ?? warmupLearningRate
            try check((warmupSteps ?? 0) >= 0, c, .warmupSteps, "must be >= 0 or null, got \(warmupSteps ?? 0)")
            try check(warmupSteps != nil || warmupFraction != nil, c, .warmupSteps, "one of warmup_steps and warmup_fraction must be set")
            try check((0...1).contains(warmupFraction ?? 0), c, .warmupFraction, "must be in [0, 1], got \(warmupFraction ?? 0)")
            try check(power > 0, c, .power, "must be positive, got \(power)")
            try check(warmupLearningRate >= 0, c, .warmupLearningRate, "must be >= 0, got \(warmupLearningRate)")
        }

        public func encode(to encoder: Encoder) throws {
            try encodeFields(encoder, [CodingKeys.warmupSteps: warmupSteps, .warmupFraction: warmupFraction, .power: power,
                                       .warmupLearningRate: warmupLearningRate])
        }
    }

    /// `{"type": "none" | "polynomial" | "linear" | "bert", "<type>": {settings}}`.
    public typealias Warmup = OneOf<WarmupType, WarmupSettings>
}

// MARK: - One-of

/// The values of a one-of's `type` key.
public protocol OneOfType: RawRepresentable, CaseIterable, Codable, Equatable, Sendable where RawValue == String {
    /// The type of a config that leaves the part out.
    static var defaultType: Self { get }
    /// Whether the type has a settings object (`none` has none).
    var hasSettings: Bool { get }
}

extension OneOfType {
    public var hasSettings: Bool { true }
}

/// The settings of a one-of; a missing settings object means `init()`.
public protocol OneOfSettings: Codable, Equatable, Sendable {
    init()
}

/// A one-of with one kind of settings for all its types: `{"type": T, "<T>": {settings}}`.
public struct OneOf<Kind: OneOfType, Settings: OneOfSettings>: Codable, Equatable, Sendable {
    public var type: Kind
    public var settings: Settings

    public init(type: Kind = .defaultType, settings: Settings = Settings()) {
        self.type = type
        self.settings = settings
    }

    public init(from decoder: Decoder) throws {
        let (type, c): (Kind, KeyedDecodingContainer<AnyKey>) = try decodeOneOf(decoder)
        self.type = type
        settings = try c.decodeIfPresent(Settings.self, forKey: AnyKey(type.rawValue)) ?? Settings()
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: AnyKey.self)
        try c.encode(type, forKey: AnyKey("type"))
        if type.hasSettings { try c.encode(settings, forKey: AnyKey(type.rawValue)) }
    }
}

extension OptimizationConfig.OptimizerType: OneOfType {
    public static var defaultType: Self { .adamw }
}

extension OptimizationConfig.WarmupType: OneOfType {
    public static var defaultType: Self { .polynomial }
    public var hasSettings: Bool { self != .none }
}

extension OptimizationConfig.AdamW: OneOfSettings {}
extension OptimizationConfig.WarmupSettings: OneOfSettings {}

// MARK: - Loading

/// A bad optimization config: names the file and the key path (e.g. `optimizer.adamw.beta_1`).
public struct OptimizationConfigError: Error, CustomStringConvertible, Equatable {
    public var file: String
    public var key: String
    public var message: String

    public var description: String {
        "\(file): \(key.isEmpty ? "" : "key \(key): ")\(message)"
    }
}

extension OptimizationConfig {
    /// Reads a config from JSON text; `file` names the source in errors.
    public static func decode(_ data: Data, file: String) throws -> OptimizationConfig {
        func path(_ keys: [CodingKey]) -> String { keys.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: ".") }
        do {
            return try JSONDecoder().decode(OptimizationConfig.self, from: data)
        } catch DecodingError.dataCorrupted(let c) {
            return try fail(file, path(c.codingPath), c.debugDescription)
        } catch DecodingError.typeMismatch(let type, let c) {
            return try fail(file, path(c.codingPath), "expected \(type): \(c.debugDescription)")
        } catch DecodingError.valueNotFound(let type, let c) {
            return try fail(file, path(c.codingPath), "expected \(type), found null")
        } catch DecodingError.keyNotFound(let key, let c) {
            return try fail(file, path(c.codingPath + [key]), "is missing")
        }
    }

    /// Reads a config file such as `graphs/optimizer-adamw.json`.
    public static func load(_ url: URL) throws -> OptimizationConfig {
        let data: Data
        do { data = try FileAccess.read(url.path, limit: 16 << 20, what: "an optimizer config") } catch {
            throw OptimizationConfigError(file: url.path, key: "", message: "cannot read: \(FileAccess.reason(for: error))")
        }
        return try decode(data, file: url.path)
    }

    private static func fail(_ file: String, _ key: String, _ message: String) throws -> OptimizationConfig {
        throw OptimizationConfigError(file: file, key: key, message: message)
    }
}

// MARK: - Strict decoding

/// A coding key for any string: lists every key an object really has.
struct AnyKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(_ s: String) { stringValue = s }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { return nil }
}

/// The keyed container of the object being decoded, once it is known to have no key outside
/// `K` and, with `displayName`, Model Garden's `name` (a string, accepted and unused).
private func strictContainer<K: CodingKey & CaseIterable>(_ decoder: Decoder, keyedBy: K.Type, displayName: Bool = false)
    throws -> KeyedDecodingContainer<K> {
    try rejectUnknownKeys(decoder, K.allCases.map(\.stringValue) + (displayName ? ["name"] : []))
    if displayName { _ = try decoder.container(keyedBy: AnyKey.self).decodeIfPresent(String.self, forKey: AnyKey("name")) }
    return try decoder.container(keyedBy: K.self)
}

/// Throws on the first key of the object being decoded that is not in `known`.
private func rejectUnknownKeys(_ decoder: Decoder, _ known: [String]) throws {
    let c = try decoder.container(keyedBy: AnyKey.self)
    for key in c.allKeys.sorted(by: { $0.stringValue < $1.stringValue }) where !known.contains(key.stringValue) {
        throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath + [key],
                                                debugDescription: "unknown key (expected one of \(known.filter { $0 != "name" }.joined(separator: ", ")))"))
    }
}

/// Decodes the `type` of a one-of object and checks that no settings object for another
/// type is present.
private func decodeOneOf<T: RawRepresentable & Decodable & CaseIterable>(_ decoder: Decoder) throws -> (T, KeyedDecodingContainer<AnyKey>)
where T.RawValue == String {
    let c = try decoder.container(keyedBy: AnyKey.self)
    let raw = try c.decode(String.self, forKey: AnyKey("type"))
    guard let type = T(rawValue: raw) else {
        throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath + [AnyKey("type")],
                                                debugDescription: "unknown type \"\(raw)\" (expected one of \(T.allCases.map(\.rawValue).joined(separator: ", ")))"))
    }
    for key in c.allKeys where key.stringValue != "type" && key.stringValue != raw {
        throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath + [key],
                                                debugDescription: "unexpected key for type \"\(raw)\""))
    }
    return (type, c)
}

/// Encodes `fields` in order, an absent optional as null (`"global_clipnorm": null` is
/// "no clipping", an absent key the default).
private func encodeFields<K: CodingKey>(_ encoder: Encoder, _ fields: KeyValuePairs<K, any Encodable>) throws {
    var c = encoder.container(keyedBy: K.self)
    for (key, value) in fields { try c.encode(value, forKey: key) }
}

/// Throws a readable error at `key` unless `ok`.
private func check<K: CodingKey>(_ ok: Bool, _ c: KeyedDecodingContainer<K>, _ key: K, _ message: String) throws {
    guard ok else { throw DecodingError.dataCorrupted(.init(codingPath: c.codingPath + [key], debugDescription: message)) }
}
