import BertGraph

// A readable table of a memory plan: what `bertc compile --print-plan` prints.

extension MemoryPlan {
    /// One line per arena value, by offset: offset, bytes, live steps (`Liveness`), name and
    /// the input it overwrites in place, after a summary line with the arena and naive sizes.
    ///
    ///     arena 1024 bytes (naive 1536, 66.6%) for batch=2, seq=8
    ///          offset      bytes  steps     value
    ///               0        512  0...1     x
    ///               0        512  1...2     a  (in place of x)
    public func report(graph: Graph) -> String {
        let liveness = Liveness(graph)
        let permille = naiveBytes == 0 ? 1000 : arenaBytes * 1000 / naiveBytes
        let binding = bindings.keys.sorted().map { "\($0)=\(bindings[$0]!)" }.joined(separator: ", ")
        var lines = ["arena \(arenaBytes) bytes (naive \(naiveBytes), \(permille / 10).\(permille % 10)%)"
                     + (binding.isEmpty ? "" : " for \(binding)")]
        lines.append(pad("offset", 12) + pad("bytes", 11) + "  " + padRight("steps", 10) + "value")
        let placed = graph.values.indices.filter { v in
            guard v < offsets.count else { return false }
            return offsets[v] != nil
        }
        for v in placed.sorted(by: { (offsets[$0]!, $0) < (offsets[$1]!, $1) }) {
            let steps = liveness.intervals[v].map { "\($0.lowerBound)...\($0.upperBound)" } ?? "-"
            var line = pad(String(offsets[v]!), 12) + pad(String(sizes[v]), 11) + "  "
                + padRight(steps, 10) + graph.values[v].name
            if let x = inPlace[v] { line += "  (in place of \(graph.values[x].name))" }
            if let x = views[v] { line += "  (view of \(graph.values[x].name))" }
            lines.append(line)
        }
        return lines.joined(separator: "\n") + "\n"
    }

    private func pad(_ s: String, _ width: Int) -> String {
        String(repeating: " ", count: max(0, width - s.count)) + s
    }

    private func padRight(_ s: String, _ width: Int) -> String {
        s + String(repeating: " ", count: max(1, width - s.count))
    }
}
