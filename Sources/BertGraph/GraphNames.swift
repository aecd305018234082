/// Names with a meaning across the compiler: the builder gives a training graph's objective
/// the output name `loss`, `Differentiate` names the gradient of parameter `p` `grad:p`, and
/// the interpreter, the trainer and the bundle loader find them by these names.
public enum GraphNames {
    /// The output holding the scalar training objective.
    public static let loss = "loss"
    /// The span head's outputs: a start and an end logit per position, [batch, seq].
    public static let startLogits = "start_logits", endLogits = "end_logits"
    /// The span head's training inputs: the answer's first and last token, int[batch].
    public static let startPositions = "start_positions", endPositions = "end_positions"
    /// The prefix of a gradient output's name: `grad:` followed by the parameter's name.
    public static let gradientPrefix = "grad:"

    /// The name of the output holding the gradient of `parameter`.
    public static func gradient(of parameter: String) -> String { gradientPrefix + parameter }

    /// The parameter whose gradient the output `name` holds, or nil for another output.
    public static func parameter(ofGradient name: String) -> String? {
        name.hasPrefix(gradientPrefix) ? String(name.dropFirst(gradientPrefix.count)) : nil
    }
}
