import BertGraph

// PlanMemory: places every non-parameter value at a byte offset in one arena, for one set of
// dim bindings, reusing memory of values that are no longer live (tinygrad / TVM style).
//
// Stages:
//   1. sizes: byte size of every value under the bindings (an unbound dim is an error);
//   2. liveness: a step interval per value (`Liveness`: producer to last reader; graph
//      inputs from step 0; graph outputs to the end);
//   3. views and in-place reuse: the output of a view op (`Op.Kind.views`, a reshape) always
//      joins its input's slot, so the slot lives as long as any of its views. When an op
//      in `Op.Kind.inPlace` reads an input 0 that dies at that node, has the output's
//      byte size and is not read again by the same node, the output joins the input's slot,
//      provided nothing else in that slot (a view of the input, or what it views) is still
//      read later or read by the same node (chains form one slot);
//   4. placement: slots by size, largest first (ties: earlier first step, then graph input
//      order and node order), each at the best-fitting gap (the smallest that is large enough) among the
//      already placed slots whose intervals overlap it, else above the highest of them;
//      every size is rounded up to `MemoryPlan.alignment` so every offset is aligned;
//   5. the plan: offsets, arena size, naive size (the sum of all aligned sizes) and the
//      in-place pairs the runtime must honour.
// Values that no node produces (and that are not inputs) are never live; they get offset 0.

/// Plans the arena of a graph: liveness intervals, in-place reuse and best-fit offsets.
public struct PlanMemory {
    /// Whether alias-safe ops may write into their dying input's slot (stage 3).
    public var inPlace: Bool
    /// Whether view ops share their input's slot (stage 3).
    public var views: Bool

    public init(inPlace: Bool = true, views: Bool = true) {
        self.inPlace = inPlace
        self.views = views
    }

    /// A slot of the arena: values that share one offset, one after another.
    private struct Slot {
        var values: [ValueID]
        var interval: ClosedRange<Int>
        var bytes: Int
        var offset = 0
    }

    /// Stage 3: output -> input pairs that may share a slot.
    private func inPlacePairs(_ g: Graph, _ liveness: Liveness, _ sizes: [Int]) -> [ValueID: ValueID] {
        guard inPlace else { return [:] }
        var pairs: [ValueID: ValueID] = [:]
        for (i, node) in g.nodes.enumerated() where Op.Kind.inPlace.contains(node.op.kind) && node.outputs.count == 1 {
            guard let x = node.inputs.first, let xInterval = liveness.intervals[x],
                  xInterval.upperBound == i, !node.inputs.dropFirst().contains(x),
                  sizes[x] == sizes[node.outputs[0]], sizes[x] > 0 else { continue }
            pairs[node.outputs[0]] = x
        }
        return pairs
    }

    /// Stage 3: output -> input pairs of view ops whose input lives in the arena.
    private func viewPairs(_ g: Graph, _ sizes: [Int]) -> [ValueID: ValueID] {
        guard views else { return [:] }
        var pairs: [ValueID: ValueID] = [:]
        for node in g.nodes where Op.Kind.views.contains(node.op.kind) && node.outputs.count == 1 {
            guard let x = node.inputs.first, g.values[x].role != .parameter,
                  sizes[x] == sizes[node.outputs[0]] else { continue }
            pairs[node.outputs[0]] = x
        }
        return pairs
    }

    /// Stage 4: best-fit offset for a slot of `bytes` live over `interval`, among the slots
    /// placed so far (kept as parallel arrays: the planner's hot loop).
    private func bestFit(bytes: Int, interval: ClosedRange<Int>, placed: PlacedSlots) -> Int {
        var busy: [(start: Int, end: Int)] = []
        for k in placed.offsets.indices
        where placed.bytes[k] > 0 && placed.first[k] <= interval.upperBound && interval.lowerBound <= placed.last[k] {
            busy.append((placed.offsets[k], placed.offsets[k] + placed.bytes[k]))
        }
        busy.sort { $0.start < $1.start }
        var cursor = 0
        var best: (offset: Int, gap: Int)?
        for (start, end) in busy {
            let gap = start - cursor
            if gap >= bytes, best == nil || gap < best!.gap { best = (cursor, gap) }
            cursor = max(cursor, end)
        }
        return best?.offset ?? cursor
    }

    /// Intervals, sizes and offsets of the slots placed so far.
    private struct PlacedSlots {
        var first: [Int] = [], last: [Int] = [], bytes: [Int] = [], offsets: [Int] = []
    }

    /// The memory plan of `graph` under `bindings` (e.g. `["batch": 8, "seq": 128]`).
    /// - Throws: `GraphError.malformed` naming a value whose shape has an unbound dim.
    public func run(_ graph: Graph, bindings: [String: Int]) throws -> MemoryPlan {
        let sizes = try MemoryPlan.valueSizes(graph, bindings: bindings)
        let liveness = Liveness(graph)
        var pairs = inPlacePairs(graph, liveness, sizes)
        let views = viewPairs(graph, sizes)

        // Slots: each live value starts its own, except views and in-place outputs, which join
        // their input's. Values are visited in step order (inputs, then node outputs), not id
        // order, so an input's slot exists before the output that reuses it.
        var slotOf = [Int?](repeating: nil, count: graph.values.count)
        var slots: [Slot] = []
        for v in graph.inputs + graph.nodes.flatMap(\.outputs) {
            guard let interval = liveness.intervals[v] else { continue }
            // An in-place write is safe only when all of the input's slot dies at this step and
            // the node reads no other value of that slot (a view of its input 0).
            if let x = pairs[v], let s = slotOf[x],
               slots[s].interval.upperBound > interval.lowerBound
                || graph.nodes[interval.lowerBound].inputs.dropFirst().contains(where: { slotOf[$0] == s }) {
                pairs[v] = nil
            }
            if let x = views[v] ?? pairs[v], let s = slotOf[x] {
                slots[s].values.append(v)
                slots[s].interval = min(slots[s].interval.lowerBound, interval.lowerBound)...max(slots[s].interval.upperBound, interval.upperBound)
                slots[s].bytes = max(slots[s].bytes, MemoryPlan.aligned(sizes[v]))
                slotOf[v] = s
            } else {
                slotOf[v] = slots.count
                slots.append(Slot(values: [v], interval: interval, bytes: MemoryPlan.aligned(sizes[v])))
            }
        }

        let order = slots.indices.sorted { a, b in
            let (x, y) = (slots[a], slots[b])
            if x.bytes != y.bytes { return x.bytes > y.bytes }
            if x.interval.lowerBound != y.interval.lowerBound { return x.interval.lowerBound < y.interval.lowerBound }
            return a < b  // slots are made in step order, so ids do not affect the plan
        }
        var placed = PlacedSlots()
        for s in order {
            let slot = slots[s]
            slots[s].offset = bestFit(bytes: slot.bytes, interval: slot.interval, placed: placed)
            placed.first.append(slot.interval.lowerBound)
            placed.last.append(slot.interval.upperBound)
            placed.bytes.append(slot.bytes)
            placed.offsets.append(slots[s].offset)
        }

        var offsets = [Int?](repeating: nil, count: graph.values.count)
        var naiveBytes = 0
        for (v, value) in graph.values.enumerated() where value.role != .parameter {
            offsets[v] = slotOf[v].map { slots[$0].offset } ?? 0
            naiveBytes += MemoryPlan.aligned(sizes[v])
        }
        let arenaBytes = slots.map { $0.offset + $0.bytes }.max() ?? 0
        var plan = MemoryPlan(bindings: bindings, offsets: offsets, sizes: sizes,
                              arenaBytes: arenaBytes, naiveBytes: naiveBytes)
        plan.inPlace = pairs
        plan.views = views.filter { slotOf[$0.key] != nil }
        return plan
    }
}
