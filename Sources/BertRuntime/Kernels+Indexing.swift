// Embedding lookups and their gradient, position ids, taking one index along an axis (the
// [CLS] row) with its gradient, and packing rows (the real tokens of a padded batch) with its
// inverse. Ids are validated before any row is copied.
import BertGraph

enum IndexingKernels {
    /// (table [rows, h], ids int[...]) -> [..., h]: row ids[i] of the table for each i.
    static func gather(_ site: KernelSite) -> Kernel {
        copyRows(site, rows: site.inputShapes[0][0], h: site.inputShapes[0][1])
    }

    /// (dy [..., h], ids int[...]) -> [rows, h]: a zero table with row i of dy added into row
    /// ids[i], in order of i.
    static func gatherGrad(_ site: KernelSite) -> Kernel {
        addRows(site, h: site.outputShapes[0][1])
    }

    /// (ids int[b, s]) -> int[s]: 0, 1, ..., s - 1, in the ids' integer type.
    static func positions(_ site: KernelSite) -> Kernel {
        let out = site.outputs[0]
        let length = site.outputCount(0)
        let type = IndexType(site.outputTypes[0])
        return Kernel { f in
            switch type {
            case .int32:
                let op = f.raw(out).assumingMemoryBound(to: Int32.self)
                for i in 0..<length { op[i] = Int32(i) }
            case .int64:
                let op = f.raw(out).assumingMemoryBound(to: Int64.self)
                for i in 0..<length { op[i] = Int64(i) }
            }
        }
    }

    /// (x [outer, n, inner]) -> [outer, inner]: element `index` along `axis`, for any dtype.
    static func select(_ site: KernelSite, axis: Int, index: Int) -> Kernel {
        let (x, out) = (site.inputs[0], site.outputs[0])
        let dims = site.inputShapes[0]
        let outer = dims[..<axis].reduce(1, *), n = dims[axis], inner = dims[(axis + 1)...].reduce(1, *)
        let bytes = inner * site.inputTypes[0].byteSize
        return Kernel { f in
            let xp = UnsafeRawPointer(f.raw(x)), op = f.raw(out)
            for o in 0..<outer {
                (op + o * bytes).copyMemory(from: xp + (o * n + index) * bytes, byteCount: bytes)
            }
        }
    }

    /// (dy [outer, inner]) -> [outer, size, inner]: zeros with dy placed at `index` along `axis`.
    static func selectGrad(_ site: KernelSite, axis: Int, index: Int) -> Kernel {
        let (dy, out) = (site.inputs[0], site.outputs[0])
        let dims = site.outputShapes[0]
        let outer = dims[..<axis].reduce(1, *), size = dims[axis], inner = dims[(axis + 1)...].reduce(1, *)
        let total = site.outputCount(0)
        return Kernel { f in
            let dyp = f.floats(dy), op = f.floats(out)
            op.update(repeating: 0, count: total)
            for o in 0..<outer { (op + (o * size + index) * inner).update(from: dyp + o * inner, count: inner) }
        }
    }

    /// (x [..., h], rows int[n]) -> [n, h]: row rows[i] of x viewed as a matrix.
    static func gatherRows(_ site: KernelSite) -> Kernel {
        let h = site.inputShapes[0].last!
        return copyRows(site, rows: site.inputCount(0) / max(h, 1), h: h)
    }

    /// (y [n, h], rows int[n]) -> [leading..., h]: zeros with row i of y added into row
    /// rows[i] of the result viewed as a matrix, in order of i.
    static func scatterRows(_ site: KernelSite) -> Kernel {
        addRows(site, h: site.inputShapes[0][1])
    }

    // MARK: - Shared by the row ops

    /// (source [rows, h], ids int[...]) -> out: row ids[i] of the source for each i.
    private static func copyRows(_ site: KernelSite, rows: Int, h: Int) -> Kernel {
        let operands = RowOperands(site)
        let count = operands.count
        let (idType, parallel) = (operands.idType, site.parallel)
        return Kernel { f in
            let (sp, op, ip) = try operands.pointers(f, bound: rows, site: site)
            parallel.split(count, work: count * h) { range in
                for i in range { (op + i * h).update(from: sp + idType.load(ip, i) * h, count: h) }
            }
        }
    }

    /// (rows [n, h], ids int[n]) -> out, a zero matrix [out rows, h] with row i added into
    /// row ids[i], in order of i. Split by columns, so repeated ids sum in one fixed order.
    private static func addRows(_ site: KernelSite, h: Int) -> Kernel {
        let operands = RowOperands(site)
        let total = site.outputCount(0)
        let bound = total / max(h, 1)
        let count = operands.count
        let (idType, parallel) = (operands.idType, site.parallel)
        return Kernel { f in
            let (sp, op, ip) = try operands.pointers(f, bound: bound, site: site)
            parallel.splitElements(total) { r in (op + r.lowerBound).update(repeating: 0, count: r.count) }
            parallel.split(h, work: count * h) { cols in
                let (c0, n) = (cols.lowerBound, cols.count)
                for i in 0..<count {
                    let src = sp + i * h + c0, dst = op + idType.load(ip, i) * h + c0
                    for j in 0..<n { dst[j] += src[j] }
                }
            }
        }
    }

    /// The operands of `copyRows` and `addRows`: (source, ids) -> out.
    private struct RowOperands {
        let source: ValueID, ids: ValueID, out: ValueID
        /// Number of ids.
        let count: Int
        let idType: IndexType

        init(_ site: KernelSite) {
            (source, ids, out) = (site.inputs[0], site.inputs[1], site.outputs[0])
            count = site.inputCount(1)
            idType = IndexType(site.inputTypes[1])
        }

        /// The source, output and id pointers of frame `f`, once every id is checked to be
        /// below `bound`.
        @inline(__always)
        func pointers(_ f: KernelFrame, bound: Int, site: KernelSite) throws
            -> (UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>, UnsafeRawPointer) {
            let ip = UnsafeRawPointer(f.raw(ids))
            try idType.validate(ip, count: count, bound: bound, site: site)
            return (f.floats(source), f.floats(out), ip)
        }
    }
}
