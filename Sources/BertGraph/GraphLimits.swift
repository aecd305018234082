// Size limits for graphs and configs read from files. A value's size is only known once its
// symbolic dims are bound, but the product of its fixed dims already bounds it from below; a
// file that asks for more than these limits is refused before anything is allocated, with an
// error naming the value (or config field) instead of a failed allocation or an overflow trap.

/// Limits every graph and config read from a file must respect.
public enum GraphLimits {
    /// The most elements the fixed dims of one tensor may multiply to (2^31: 8 GiB of float32).
    public static let maxTensorElements = 1 << 31

    /// The product of `sizes`, or nil when it overflows `Int` or exceeds `limit`.
    public static func product(_ sizes: [Int], limit: Int = maxTensorElements) -> Int? {
        var total = 1
        for n in sizes {
            let (p, overflow) = total.multipliedReportingOverflow(by: n)
            guard !overflow, p <= limit else { return nil }
            total = p
        }
        return total
    }
}

extension Shape {
    /// The fixed dims of this shape.
    public var fixedSizes: [Int] {
        dims.compactMap(\.fixedSize)
    }

    /// Why this shape cannot be the shape of a tensor read from a file (a dim below 1, or
    /// fixed dims whose product exceeds `GraphLimits.maxTensorElements`), or nil when it can.
    public var sizeProblem: String? {
        if let bad = fixedSizes.first(where: { $0 < 1 }) { return "dim \(bad) in \(self) is not positive" }
        guard GraphLimits.product(fixedSizes) != nil else {
            return "\(self) has more than \(GraphLimits.maxTensorElements) elements (the limit per tensor)"
        }
        return nil
    }
}
