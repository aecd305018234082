/// Hands out names not handed out or taken before: `base`, or `base_1`, `base_2`, ... when
/// taken. Passes name the values they add with it (a graph's value names are unique), and
/// ONNX export its tensor names.
public struct UniqueNames {
    private var used: Set<String>

    /// A table in which `taken` (e.g. the names of a graph's values) are already used.
    public init<Names: Sequence>(taken: Names) where Names.Element == String {
        used = Set(taken)
    }

    /// A fresh name from `base`, reserved from now on.
    public mutating func claim(_ base: String) -> String {
        var name = base
        var k = 1
        while used.contains(name) {
            name = "\(base)_\(k)"
            k += 1
        }
        used.insert(name)
        return name
    }
}
