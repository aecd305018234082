// The entry point `bertc predict --bundle DIR` calls: load (and verify) a bundle, run its
// `serving_default` signature on sentence pairs.

import BertModel
import Foundation

/// Predictions from a bundle directory.
public enum BundlePrediction {
    /// Loads the bundle at `bundle`, verifying every file, and predicts `pairs` in order.
    /// - Parameters:
    ///   - bundle: the bundle directory.
    ///   - pairs: `(sentence1, sentence2)`; `sentence2` nil for single sentences.
    /// - Returns: `logits` `[pairs, labels]`, `class_id`, `class`.
    /// - Throws: `BundleError` when the bundle is missing, tampered or inconsistent.
    public static func run(bundle: URL, pairs: [(String, String?)]) throws -> Prediction {
        try BundleModel(directory: bundle).predictor.predict(pairs)
    }
}
