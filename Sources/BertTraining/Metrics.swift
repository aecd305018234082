import Foundation

/// GLUE's metrics: accuracy and F1 (MRPC, QQP), Matthews correlation (CoLA), Pearson and
/// Spearman correlation (STS-B).
public enum Metrics {
    /// Fraction of predictions equal to labels.
    public static func accuracy(predictions: [Int], labels: [Int]) -> Double {
        precondition(predictions.count == labels.count)
        guard !labels.isEmpty else { return 0 }
        return Double(zip(predictions, labels).filter { $0 == $1 }.count) / Double(labels.count)
    }

    /// F1 of the positive class (label 1), as sklearn's `f1_score` with its default binary average.
    public static func f1(predictions: [Int], labels: [Int], positive: Int = 1) -> Double {
        let c = confusion(predictions, labels, positive)
        let denominator = 2 * c.tp + c.fp + c.fn
        return denominator == 0 ? 0 : 2 * Double(c.tp) / Double(denominator)
    }

    /// Matthews correlation coefficient for binary labels (0 when undefined, as sklearn).
    public static func matthews(predictions: [Int], labels: [Int], positive: Int = 1) -> Double {
        let c = confusion(predictions, labels, positive)
        let (tp, tn, fp, fn) = (Double(c.tp), Double(c.tn), Double(c.fp), Double(c.fn))
        let d = ((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn)).squareRoot()
        return d == 0 ? 0 : (tp * tn - fp * fn) / d
    }

    /// Pearson correlation of two equally long series.
    public static func pearson(_ x: [Double], _ y: [Double]) -> Double {
        precondition(x.count == y.count)
        let n = Double(x.count)
        guard n > 1 else { return 0 }
        let mx = x.reduce(0, +) / n, my = y.reduce(0, +) / n
        var sxy = 0.0, sxx = 0.0, syy = 0.0
        for (a, b) in zip(x, y) {
            sxy += (a - mx) * (b - my)
            sxx += (a - mx) * (a - mx)
            syy += (b - my) * (b - my)
        }
        let d = (sxx * syy).squareRoot()
        return d == 0 ? 0 : sxy / d
    }

    /// Spearman rank correlation (ties get their average rank, as scipy).
    public static func spearman(_ x: [Double], _ y: [Double]) -> Double {
        pearson(ranks(x), ranks(y))
    }

    static func ranks(_ v: [Double]) -> [Double] {
        let order = v.indices.sorted { v[$0] < v[$1] }
        var r = [Double](repeating: 0, count: v.count)
        var i = 0
        while i < order.count {
            var j = i
            while j + 1 < order.count && v[order[j + 1]] == v[order[i]] { j += 1 }
            let rank = Double(i + j) / 2 + 1
            for k in i...j { r[order[k]] = rank }
            i = j + 1
        }
        return r
    }

    private static func confusion(_ p: [Int], _ l: [Int], _ positive: Int) -> (tp: Int, tn: Int, fp: Int, fn: Int) {
        precondition(p.count == l.count)
        var tp = 0, tn = 0, fp = 0, fn = 0
        for (a, b) in zip(p, l) {
            switch (a == positive, b == positive) {
            case (true, true): tp += 1
            case (false, false): tn += 1
            case (true, false): fp += 1
            case (false, true): fn += 1
            }
        }
        return (tp, tn, fp, fn)
    }
}
