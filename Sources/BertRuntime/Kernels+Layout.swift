// Layout kernels: reshape (a copy, unless the plan put input and output at one address)
// and transpose (any permutation, for 4- and 8-byte elements).
import BertGraph

enum LayoutKernels {
    /// x -> the same bytes under a new shape.
    static func reshape(_ site: KernelSite) -> Kernel {
        let (x, out) = (site.inputs[0], site.outputs[0])
        let bytes = site.inputCount(0) * site.inputTypes[0].byteSize
        return Kernel { f in
            let xp = f.raw(x), op = f.raw(out)
            if xp != op { op.copyMemory(from: xp, byteCount: bytes) }
        }
    }

    /// x -> x with dims permuted: output dim i is input dim perm[i].
    static func transpose(_ site: KernelSite, perm: [Int]) -> Kernel {
        switch site.inputTypes[0].byteSize {
        case 8: return transpose(site, perm: perm, element: UInt64.self)
        default: return transpose(site, perm: perm, element: UInt32.self)
        }
    }

    /// Walks the output in order, one innermost output row at a time, reading the input with
    /// the strides the permutation gives. Split across threads by output row.
    private static func transpose<E>(_ site: KernelSite, perm: [Int], element: E.Type) -> Kernel {
        let (x, out) = (site.inputs[0], site.outputs[0])
        let inDims = site.inputShapes[0], outDims = site.outputShapes[0]
        let rank = inDims.count
        var inStrides = [Int](repeating: 1, count: rank)
        for d in stride(from: rank - 2, through: 0, by: -1) { inStrides[d] = inStrides[d + 1] * inDims[d + 1] }
        // Strides in the input of each output dim.
        let strides = perm.map { inStrides[$0] }
        let rowLength = outDims.last ?? 1
        let lastStride = strides.last ?? 1
        let outerDims = Array(outDims.dropLast()), outerStrides = Array(strides.dropLast())
        let rows = outerDims.reduce(1, *)
        let parallel = site.parallel
        return Kernel { f in
            let xp = f.raw(x).assumingMemoryBound(to: E.self), op = f.raw(out).assumingMemoryBound(to: E.self)
            parallel.split(rows, work: rows * rowLength) { range in
                guard !range.isEmpty else { return }
                withUnsafeTemporaryAllocation(of: Int.self, capacity: max(outerDims.count, 1)) { index in
                // The input offset of the first row in range, then an odometer over outer dims.
                var rest = range.lowerBound
                var base = 0
                for d in stride(from: outerDims.count - 1, through: 0, by: -1) {
                    index[d] = rest % outerDims[d]
                    rest /= outerDims[d]
                    base += index[d] * outerStrides[d]
                }
                for row in range {
                    let dst = op + row * rowLength, src = xp + base
                    if lastStride == 1 {
                        dst.update(from: src, count: rowLength)
                    } else {
                        for j in 0..<rowLength { dst[j] = src[j * lastStride] }
                    }
                    var d = outerDims.count - 1
                    while d >= 0 {
                        index[d] += 1
                        base += outerStrides[d]
                        if index[d] < outerDims[d] { break }
                        base -= index[d] * outerStrides[d]
                        index[d] = 0
                        d -= 1
                    }
                }
                }
            }
        }
    }
}
