import Foundation
// bertc's own single-precision GEMM, for products with a weight that stays the same from
// run to run: the linear layers of inference plans. Needs fused multiply-add in hardware
// (builds with BERTC_FMA); elsewhere OpenBLAS runs every product.
//
// The classic blocked layout (Goto and van de Geijn; BLIS): k is cut into blocks of at most
// `maxDepth`; the weight is packed once per k block into panels of 16 columns
// (`PackedMatrix`), and kept until the parameters change; a 6 x 16 micro-kernel keeps its
// tile of c in twelve 8-lane registers while it runs down six rows of the activations and
// one panel of the weight. Its inner loop compiles to two loads, six broadcasts and twelve
// fused multiply-adds per step of k. Where the rows of a block are not a multiple of 6,
// 4-row tiles take the rest (128 = 20 x 6 + 2 x 4, batch 1 at sequence 128), so no tile
// computes rows that are thrown away.
//
// The activations are not packed: the kernel broadcasts each value straight from its row,
// six rows read in step, which touches the same cache lines a packed panel would. Packing
// them would cost a pass over a per call, and, where two threads split the columns of c
// (batch 1), both threads would pack the same rows.
//
// Why: OpenBLAS's CBLAS packs both operands on every call. With batch-1 inputs (128 rows)
// packing the weight is a large part of each product, and a weight packed once costs nothing
// per call. Without that advantage the kernel runs at about OpenBLAS's speed, so training,
// whose weights change every step, keeps OpenBLAS.
//
// Each element of c is the same sequence of fused multiply-adds over the same k blocks
// (each block summed from zero, then added to c) whichever tile, row block, column panel or
// thread it falls in, so results do not depend on the split.

typealias Lane8 = SIMD8<Float>

@inline(__always) private func load8(_ p: UnsafePointer<Float>) -> Lane8 {
    UnsafeRawPointer(p).loadUnaligned(as: Lane8.self)
}

@inline(__always) private func store8(_ v: Lane8, _ p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: Lane8.self)
}

/// The rows of a that one micro-tile reads (a 4-row tile only the first four).
private typealias TileRowPointers = (UnsafePointer<Float>, UnsafePointer<Float>, UnsafePointer<Float>,
                                     UnsafePointer<Float>, UnsafePointer<Float>, UnsafePointer<Float>)

/// The height of a micro-tile, as a type, so that each height gets its own compiled kernel.
private protocol TileHeight {
    static var rows: Int { get }
}

/// The main tile: 6 rows.
private enum SixRows: TileHeight {
    static var rows: Int { 6 }
}

/// The tile for what 6-row tiles leave over.
private enum FourRows: TileHeight {
    static var rows: Int { 4 }
}

enum Gemm {
    /// Columns of c per micro-tile.
    static let tileColumns = 16
    /// The longest k block: one 16-column panel of b (24 KB at 384) stays in L1 while the
    /// kernel streams rows of a past it.
    static let maxDepth = 384
    /// Steps of k summed in registers before the sums are added to the tile's running total.
    static let segment = 64
    /// Rows of a that meet every panel of b before the next rows do (108 KB at k block 384,
    /// in L2).
    static let rowBlock = 72
    /// Columns of c computed per pass over a block of a (a multiple of `tileColumns`).
    static let columnBlock = 4096

    /// Whether this build has the kernel (it needs fused multiply-add in hardware) and
    /// `BERTC_GEMM=openblas` does not send every product to OpenBLAS.
    static let isAvailable: Bool = {
        #if BERTC_FMA
        ProcessInfo.processInfo.environment["BERTC_GEMM"] != "openblas"
        #else
        false
        #endif
    }()

    /// The k blocks a product of depth `k` is cut into: equal lengths of at most `maxDepth`.
    static func depthBlocks(_ k: Int) -> [Range<Int>] {
        let count = (k + maxDepth - 1) / maxDepth
        return (0..<count).map { i in (k * i / count)..<(k * (i + 1) / count) }
    }

    /// `c = a B[:, columns] (+ c when accumulate, + bias in every row when given)` on the
    /// calling thread: a is [m, k] with rows `lda` apart, B the packed [k, n], c
    /// [m, columns.count] with rows `ldc` apart, bias [columns.count]. `columns` starts at a
    /// whole panel. The bias is added where c would be, so `c = bias; c += a B` gives the
    /// same bits without the pass that writes the bias into c first. `finish`, when given, is
    /// called on each block of c as soon as it holds its final values (its first element,
    /// rows, columns and `ldc`), while the block is still in cache: an activation applied
    /// there gives the same bits as a pass over c afterwards.
    static func multiply(m: Int, a: UnsafePointer<Float>, lda: Int, packed: PackedMatrix, columns: Range<Int>,
                         c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool, bias: UnsafePointer<Float>? = nil,
                         finish: FinishBlock? = nil) {
        precondition(columns.lowerBound % tileColumns == 0, "a packed matrix is split at whole panels")
        precondition(bias == nil || !accumulate, "add either c or a bias")
        for (index, block) in packed.blocks.enumerated() {
            let panels = packed.storage + packed.blockOffsets[index] + columns.lowerBound * block.count
            for j0 in stride(from: 0, to: columns.count, by: columnBlock) {
                let nc = min(columnBlock, columns.count - j0)
                // What each k block's sums are added to: c itself after the first block.
                let addend: Addend = index > 0 || accumulate ? .output : bias.map { .row($0 + j0) } ?? .none
                multiplyPacked(m: m, n: nc, depth: block, a: a, lda: lda, packedB: panels + j0 * block.count,
                               c: c + j0, ldc: ldc, addend: addend, finish: index == packed.blocks.count - 1 ? finish : nil)
            }
        }
    }

    /// Called on a block of c that holds its final values: (first element, rows, columns, ldc).
    typealias FinishBlock = (UnsafeMutablePointer<Float>, Int, Int, Int) -> Void

    /// What a k block's sums are added to before they are stored.
    private enum Addend {
        case none
        /// The values already in c.
        case output
        /// One row of values (a bias), the same for every row of c.
        case row(UnsafePointer<Float>)
    }

    /// The tiles a row block of `rows` rows is cut into: (first row, tile height, rows of c
    /// it writes). 6-row tiles, then 4-row ones for a rest of 2 or 4 (a rest of 2 takes back
    /// one 6-row tile: 8 = 4 + 4), then, for a rest of 1, 3 or 5, one tile of the next height
    /// that writes only the rows c has.
    static func rowTiles(_ rows: Int) -> [(start: Int, height: Int, rows: Int)] {
        var full = rows / 6
        let rest = rows % 6
        // (height, rows written) after the 6-row tiles.
        var tail: [(Int, Int)] = []
        switch rest {
        case 0: break
        case 4: tail = [(4, 4)]
        case 2 where full > 0:
            full -= 1
            tail = [(4, 4), (4, 4)]
        default: tail = [(rest <= 4 ? 4 : 6, rest)]
        }
        var tiles = (0..<full).map { (start: $0 * 6, height: 6, rows: 6) }
        var start = full * 6
        for (height, count) in tail {
            tiles.append((start: start, height: height, rows: count))
            start += count
        }
        return tiles
    }

    /// One k block against b's packed panels (`n` columns, panel after panel, each
    /// `depth.count` x 16), in row blocks of `rowBlock` rows of a (which stay in L2 while
    /// every panel of b passes them), running the micro-kernels over every tile; then `finish`
    /// on the row block's n columns.
    private static func multiplyPacked(m: Int, n: Int, depth: Range<Int>, a: UnsafePointer<Float>, lda: Int,
                                       packedB: UnsafePointer<Float>,
                                       c: UnsafeMutablePointer<Float>, ldc: Int, addend: Addend, finish: FinishBlock?) {
        let kc = depth.count
        var edge = (Lane8(), Lane8(), Lane8(), Lane8(), Lane8(), Lane8(), Lane8(), Lane8(), Lane8(), Lane8(), Lane8(), Lane8())
        // Every row block but the last has `rowBlock` rows: cut both kinds into tiles once.
        let fullTiles = rowTiles(min(rowBlock, m)), lastTiles = rowTiles(m - (m - 1) / rowBlock * rowBlock)
        /// The micro-kernel of the tile's height.
        @inline(__always) func tileKernel(_ height: Int, _ rows: TileRowPointers, _ b: UnsafePointer<Float>,
                                          _ out: UnsafeMutablePointer<Float>, _ ldo: Int,
                                          _ source: UnsafePointer<Float>?, _ stride: Int) {
            if height == 6 {
                kernel(SixRows.self, kc, rows, b, out, ldo, source, stride)
            } else {
                kernel(FourRows.self, kc, rows, b, out, ldo, source, stride)
            }
        }
        for i0 in stride(from: 0, to: m, by: rowBlock) {
            let tiles = i0 + rowBlock < m ? fullTiles : lastTiles
            for jr in stride(from: 0, to: n, by: tileColumns) {
                let nr = min(tileColumns, n - jr)
                let panelB = packedB + jr * kc
                for tile in tiles {
                    // The tile's rows of a over this k block; rows past the end of a repeat its
                    // last row, whose sums are computed and dropped.
                    let first = i0 + tile.start, last = first + tile.rows - 1
                    @inline(__always) func row(_ r: Int) -> UnsafePointer<Float> {
                        a + min(first + r, last) * lda + depth.lowerBound
                    }
                    let rows = (row(0), row(1), row(2), row(3), row(4), row(5))
                    let target = c + first * ldc + jr
                    // The tile's addend and the distance between its rows (0: one row for all).
                    let (source, stride): (UnsafePointer<Float>?, Int)
                    switch addend {
                    case .none: (source, stride) = (nil, 0)
                    case .output: (source, stride) = (UnsafePointer(target), ldc)
                    case .row(let values): (source, stride) = (values + jr, 0)
                    }
                    if tile.rows == tile.height && nr == tileColumns {
                        tileKernel(tile.height, rows, panelB, target, ldc, source, stride)
                        continue
                    }
                    withUnsafeMutableBytes(of: &edge) { raw in
                        let scratch = raw.baseAddress!.assumingMemoryBound(to: Float.self)
                        tileKernel(tile.height, rows, panelB, scratch, tileColumns, nil, 0)
                        for r in 0..<tile.rows {
                            let row = target + r * ldc, sums = scratch + r * tileColumns
                            if let source {
                                let added = source + r * stride
                                for j in 0..<nr { row[j] = sums[j] + added[j] }
                            } else {
                                for j in 0..<nr { row[j] = sums[j] }
                            }
                        }
                    }
                }
            }
            finish?(c + i0 * ldc, min(rowBlock, m - i0), n, ldc)
        }
    }

    /// The micro-kernel: c[h, 16] = (h rows of a) x (packed b panel) (+ addend, whose rows
    /// are `addendStride` apart), where the b panel holds 16 values per step of k, h being 6
    /// or 4 (`Height`; a 4-row tile reads only the first four row pointers). Each output sums
    /// its k products in runs of `segment`, then adds the runs' sums in order: one fused chain over a whole k block of
    /// 384 let the rounding error grow with its length, and put bertc's fine-tuned MRPC
    /// logits 2.6e-5 from ONNX Runtime's (OpenBLAS: 1.2e-5; runs of 64: 8.8e-6). An output's
    /// arithmetic is the same whatever the tile's height.
    @inline(__always)
    private static func kernel<Height: TileHeight>(_: Height.Type, _ k: Int, _ a: TileRowPointers,
                                                   _ b: UnsafePointer<Float>, _ c: UnsafeMutablePointer<Float>,
                                                   _ ldc: Int, _ addend: UnsafePointer<Float>?, _ addendStride: Int) {
        let h = Height.rows
        var (c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51) = run(Height.self, 0..<min(k, segment), a, b)
        var done = segment
        while done < k {
            let s = run(Height.self, done..<min(done + segment, k), a, b + done * tileColumns)
            c00 += s.0; c01 += s.1; c10 += s.2; c11 += s.3; c20 += s.4; c21 += s.5
            c30 += s.6; c31 += s.7
            if h == 6 { c40 += s.8; c41 += s.9; c50 += s.10; c51 += s.11 }
            done += segment
        }
        let c1 = c + ldc, c2 = c1 + ldc, c3 = c2 + ldc, c4 = c3 + ldc, c5 = c4 + ldc
        if let d0 = addend {
            let d1 = d0 + addendStride, d2 = d1 + addendStride, d3 = d2 + addendStride
            c00 += load8(d0); c01 += load8(d0 + 8)
            c10 += load8(d1); c11 += load8(d1 + 8)
            c20 += load8(d2); c21 += load8(d2 + 8)
            c30 += load8(d3); c31 += load8(d3 + 8)
            if h == 6 {
                let d4 = d3 + addendStride, d5 = d4 + addendStride
                c40 += load8(d4); c41 += load8(d4 + 8)
                c50 += load8(d5); c51 += load8(d5 + 8)
            }
        }
        store8(c00, c); store8(c01, c + 8)
        store8(c10, c1); store8(c11, c1 + 8)
        store8(c20, c2); store8(c21, c2 + 8)
        store8(c30, c3); store8(c31, c3 + 8)
        if h == 6 {
            store8(c40, c4); store8(c41, c4 + 8)
            store8(c50, c5); store8(c51, c5 + 8)
        }
    }

    /// One run of the micro-kernel: the h x 16 sums of the steps `steps` of k (of a's rows;
    /// b starts at the first of them), in 2h 8-lane registers (the last four stay zero for
    /// h = 4).
    @inline(__always)
    private static func run<Height: TileHeight>(_: Height.Type, _ steps: Range<Int>, _ a: TileRowPointers,
                                                _ b: UnsafePointer<Float>)
        -> (Lane8, Lane8, Lane8, Lane8, Lane8, Lane8, Lane8, Lane8, Lane8, Lane8, Lane8, Lane8) {
        let h = Height.rows
        var c00 = Lane8(), c01 = Lane8(), c10 = Lane8(), c11 = Lane8(), c20 = Lane8(), c21 = Lane8()
        var c30 = Lane8(), c31 = Lane8(), c40 = Lane8(), c41 = Lane8(), c50 = Lane8(), c51 = Lane8()
        let (a0, a1, a2, a3, a4, a5) = a
        var p = steps.lowerBound, pb = b
        @inline(__always) func step() {
            let b0 = load8(pb), b1 = load8(pb + 8)
            var x = Lane8(repeating: a0[p]); c00 = c00.addingProduct(x, b0); c01 = c01.addingProduct(x, b1)
            x = Lane8(repeating: a1[p]); c10 = c10.addingProduct(x, b0); c11 = c11.addingProduct(x, b1)
            x = Lane8(repeating: a2[p]); c20 = c20.addingProduct(x, b0); c21 = c21.addingProduct(x, b1)
            x = Lane8(repeating: a3[p]); c30 = c30.addingProduct(x, b0); c31 = c31.addingProduct(x, b1)
            if h == 6 {
                x = Lane8(repeating: a4[p]); c40 = c40.addingProduct(x, b0); c41 = c41.addingProduct(x, b1)
                x = Lane8(repeating: a5[p]); c50 = c50.addingProduct(x, b0); c51 = c51.addingProduct(x, b1)
            }
            p += 1
            pb += 16
        }
        // Two steps per turn: half the loop's own instructions.
        let k = steps.count
        for _ in 0..<(k / 2) { step(); step() }
        if k % 2 == 1 { step() }
        return (c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51)
    }

    /// Packs columns `columns` (at most 16) of b' over `depth` as one panel: 16 values per
    /// step of k, columns past the end of b as zeros.
    fileprivate static func packPanelB(_ b: UnsafePointer<Float>, _ ldb: Int, transposed: Bool, depth: Range<Int>,
                           columns: Range<Int>, into panel: UnsafeMutablePointer<Float>) {
        let kc = depth.count
        if !transposed {
            // b is [k, n]: the panel's 16 values at each k are adjacent in memory.
            var source = b + depth.lowerBound * ldb + columns.lowerBound, d = panel
            if columns.count == tileColumns {
                for _ in 0..<kc {
                    store8(load8(source), d)
                    store8(load8(source + 8), d + 8)
                    d += 16
                    source += ldb
                }
            } else {
                for _ in 0..<kc {
                    for j in 0..<tileColumns { d[j] = j < columns.count ? source[j] : 0 }
                    d += 16
                    source += ldb
                }
            }
        } else {
            // b is [n, k]: sixteen rows of b become the panel's columns.
            interleave(b + columns.lowerBound * ldb + depth.lowerBound, stride: ldb, count: columns.count, length: kc,
                       width: tileColumns, into: panel)
        }
    }

    /// Writes `count` source rows (`stride` apart, `length` values each) as the first `count`
    /// of `width` interleaved columns of `panel` ([length, width]), and zeros in the rest.
    private static func interleave(_ first: UnsafePointer<Float>, stride: Int, count: Int, length: Int, width: Int,
                                   into panel: UnsafeMutablePointer<Float>) {
        for column in 0..<width {
            if column < count {
                let source = first + column * stride
                for p in 0..<length { panel[p * width + column] = source[p] }
            } else {
                for p in 0..<length { panel[p * width + column] = 0 }
            }
        }
    }

    static func roundUp(_ x: Int, _ multiple: Int) -> Int { (x + multiple - 1) / multiple * multiple }
}

/// A right-hand operand packed once into the GEMM's panels, for products that reuse it:
/// b' [k, n] cut into the k blocks of `Gemm.depthBlocks(k)`, each block stored as its
/// 16-column panels.
final class PackedMatrix {
    let k: Int
    let n: Int
    let blocks: [Range<Int>]
    /// Where each k block's panels start in `storage`.
    let blockOffsets: [Int]
    let storage: UnsafeMutablePointer<Float>

    init(k: Int, n: Int) {
        self.k = k
        self.n = n
        blocks = Gemm.depthBlocks(k)
        let width = Gemm.roundUp(n, Gemm.tileColumns)
        var offsets: [Int] = [], total = 0
        for block in blocks {
            offsets.append(total)
            total += block.count * width
        }
        blockOffsets = offsets
        storage = .allocate(capacity: max(total, 1))
    }

    deinit { storage.deallocate() }

    /// Packs b (`transposed`: b is [n, k], as a linear layer's weight is) into the panels.
    func pack(_ b: UnsafePointer<Float>, ldb: Int, transposed: Bool) {
        for (index, block) in blocks.enumerated() {
            for j0 in stride(from: 0, to: n, by: Gemm.tileColumns) {
                Gemm.packPanelB(b, ldb, transposed: transposed, depth: block,
                                columns: j0..<min(n, j0 + Gemm.tileColumns),
                                into: storage + blockOffsets[index] + j0 * block.count)
            }
        }
    }
}
