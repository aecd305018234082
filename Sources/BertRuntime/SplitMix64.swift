/// SplitMix64 (Steele, Lea, Flood 2014): a tiny, well-mixed, seedable 64-bit generator. The
/// one generator behind everything seeded in bertc outside dropout (shuffles, initial values
/// of a new task head, test data), so a seed gives the same values on every machine and in
/// every build. Dropout derives each node's key from it (`CounterRandom`).
public struct SplitMix64: RandomNumberGenerator, Sendable {
    public var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A double uniform in (0, 1]: 53 random bits, never 0 so that log() is finite.
    public mutating func nextUnitInterval() -> Double {
        Double((next() >> 11) + 1) * 0x1p-53
    }

    /// Fisher-Yates with this generator (stable across Swift versions, unlike `shuffled(using:)`).
    public mutating func shuffle<T>(_ a: inout [T]) {
        guard a.count > 1 else { return }
        for i in stride(from: a.count - 1, to: 0, by: -1) {
            let j = Int(next() % UInt64(i + 1))
            a.swapAt(i, j)
        }
    }
}
