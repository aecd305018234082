// Losses and their gradients: softmax cross-entropy (mean over the batch, stable
// log-sum-exp), its masked form over sequence positions (the SQuAD span loss) and mean
// squared error. Batches are small ([b, labels] or [b, seq]); these run on one thread and
// accumulate in Double.
import Foundation

enum LossKernels {
    /// (logits [b, c], labels int[b]) -> mean over b of logsumexp(logits) - logits[label].
    static func softmaxCrossEntropy(_ site: KernelSite) -> Kernel {
        let (logits, labels, out) = (site.inputs[0], site.inputs[1], site.outputs[0])
        let (batch, classes) = (site.inputShapes[0][0], site.inputShapes[0][1])
        let labelType = IndexType(site.inputTypes[1])
        return Kernel { f in
            let lp = f.floats(logits), labp = UnsafeRawPointer(f.raw(labels))
            try labelType.validate(labp, count: batch, bound: classes, site: site)
            var total = 0.0
            for b in 0..<batch {
                let row = lp + b * classes
                total += logSumExp(row, classes) - Double(row[labelType.load(labp, b)])
            }
            f.floats(out)[0] = batch == 0 ? 0 : Float(total / Double(batch))
        }
    }

    /// (dloss [], logits [b, c], labels int[b]) -> dloss / b * (softmax(logits) - onehot(label)).
    static func softmaxCrossEntropyGrad(_ site: KernelSite) -> Kernel {
        let (dloss, logits, labels, out) = (site.inputs[0], site.inputs[1], site.inputs[2], site.outputs[0])
        let (batch, classes) = (site.inputShapes[1][0], site.inputShapes[1][1])
        let labelType = IndexType(site.inputTypes[2])
        return Kernel { f in
            let lp = f.floats(logits), labp = UnsafeRawPointer(f.raw(labels)), op = f.floats(out)
            try labelType.validate(labp, count: batch, bound: classes, site: site)
            let factor = Double(f.floats(dloss)[0]) / Double(max(batch, 1))
            for b in 0..<batch {
                let row = lp + b * classes, outRow = op + b * classes
                let lse = logSumExp(row, classes)
                for c in 0..<classes { outRow[c] = Float(factor * exp(Double(row[c]) - lse)) }
                outRow[labelType.load(labp, b)] -= Float(factor)
            }
        }
    }

    /// (predictions [b, 1], targets f32[b]) -> mean over b of (prediction - target)^2.
    static func meanSquaredError(_ site: KernelSite) -> Kernel {
        let (predictions, targets, out) = (site.inputs[0], site.inputs[1], site.outputs[0])
        let batch = site.inputCount(1)
        return Kernel { f in
            let pp = f.floats(predictions), tp = f.floats(targets)
            var total = 0.0
            for b in 0..<batch { let d = Double(pp[b]) - Double(tp[b]); total += d * d }
            f.floats(out)[0] = batch == 0 ? 0 : Float(total / Double(batch))
        }
    }

    /// (dloss [], predictions [b, 1], targets f32[b]) -> dloss * 2 / b * (prediction - target).
    static func meanSquaredErrorGrad(_ site: KernelSite) -> Kernel {
        let (dloss, predictions, targets, out) = (site.inputs[0], site.inputs[1], site.inputs[2], site.outputs[0])
        let batch = site.inputCount(2)
        return Kernel { f in
            let pp = f.floats(predictions), tp = f.floats(targets), op = f.floats(out)
            let factor = 2 * f.floats(dloss)[0] / Float(max(batch, 1))
            for b in 0..<batch { op[b] = factor * (pp[b] - tp[b]) }
        }
    }

    /// (logits [b, s], mask int[b, s], positions int[b]) -> mean over b of the log-sum-exp of
    /// the logits where mask is not 0, minus logits[position].
    static func maskedSoftmaxCrossEntropy(_ site: KernelSite) -> Kernel {
        let (logits, mask, positions, out) = (site.inputs[0], site.inputs[1], site.inputs[2], site.outputs[0])
        let (batch, width) = (site.inputShapes[0][0], site.inputShapes[0][1])
        let (maskType, positionType) = (IndexType(site.inputTypes[1]), IndexType(site.inputTypes[2]))
        return Kernel { f in
            let lp = f.floats(logits), mp = UnsafeRawPointer(f.raw(mask)), pp = UnsafeRawPointer(f.raw(positions))
            try validatePositions(pp, positionType, mask: mp, maskType, batch: batch, width: width, site: site)
            var total = 0.0
            for b in 0..<batch {
                let row = lp + b * width
                total += maskedLogSumExp(row, mp, maskType, row: b, width) - Double(row[positionType.load(pp, b)])
            }
            f.floats(out)[0] = batch == 0 ? 0 : Float(total / Double(batch))
        }
    }

    /// (dloss [], logits [b, s], mask int[b, s], positions int[b]) -> dloss / b *
    /// (softmax over the mask - onehot(position)), 0 where mask is 0.
    static func maskedSoftmaxCrossEntropyGrad(_ site: KernelSite) -> Kernel {
        let (dloss, logits, mask, positions) = (site.inputs[0], site.inputs[1], site.inputs[2], site.inputs[3])
        let out = site.outputs[0]
        let (batch, width) = (site.inputShapes[1][0], site.inputShapes[1][1])
        let (maskType, positionType) = (IndexType(site.inputTypes[2]), IndexType(site.inputTypes[3]))
        return Kernel { f in
            let lp = f.floats(logits), mp = UnsafeRawPointer(f.raw(mask)), pp = UnsafeRawPointer(f.raw(positions))
            let op = f.floats(out)
            try validatePositions(pp, positionType, mask: mp, maskType, batch: batch, width: width, site: site)
            let factor = Double(f.floats(dloss)[0]) / Double(max(batch, 1))
            for b in 0..<batch {
                let row = lp + b * width, outRow = op + b * width
                let lse = maskedLogSumExp(row, mp, maskType, row: b, width)
                for j in 0..<width {
                    outRow[j] = maskType.load(mp, b * width + j) != 0 ? Float(factor * exp(Double(row[j]) - lse)) : 0
                }
                outRow[positionType.load(pp, b)] -= Float(factor)
            }
        }
    }

    /// Checks that every position is in [0, width) and on a position its row's mask keeps.
    private static func validatePositions(_ positions: UnsafeRawPointer, _ positionType: IndexType,
                                          mask: UnsafeRawPointer, _ maskType: IndexType,
                                          batch: Int, width: Int, site: KernelSite) throws {
        try positionType.validate(positions, count: batch, bound: width, site: site)
        for b in 0..<batch {
            let p = positionType.load(positions, b)
            guard maskType.load(mask, b * width + p) != 0 else {
                throw RuntimeError.maskedPosition(node: site.node, op: site.op.name, row: b, position: p)
            }
        }
    }

    /// log(sum(exp(x))) over the `n` elements of row `row` whose mask is not 0, shifted by
    /// their max; the caller has checked that the row keeps at least one element.
    private static func maskedLogSumExp(_ x: UnsafePointer<Float>, _ mask: UnsafeRawPointer, _ maskType: IndexType,
                                        row: Int, _ n: Int) -> Double {
        var top = -Double.infinity
        for j in 0..<n where maskType.load(mask, row * n + j) != 0 { top = max(top, Double(x[j])) }
        var sum = 0.0
        for j in 0..<n where maskType.load(mask, row * n + j) != 0 { sum += exp(Double(x[j]) - top) }
        return top + log(sum)
    }

    /// log(sum(exp(x))) over `n` elements, shifted by the max for stability.
    static func logSumExp(_ x: UnsafePointer<Float>, _ n: Int) -> Double {
        let top = Double(rowMax(x, n))
        var sum = 0.0
        for j in 0..<n { sum += exp(Double(x[j]) - top) }
        return top + log(sum)
    }
}
