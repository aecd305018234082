// bertc's own GEMM against a float64 product, and the properties the runtime relies on: any
// split of c gives the same bits, and a store repacks a weight after every change.
import BertGraph
@testable import BertRuntime
import XCTest

final class GemmTests: XCTestCase {
    /// Deterministic values in [-1, 1).
    private func values(_ count: Int, seed: UInt64) -> [Float] {
        var random = SplitMix64(seed: seed)
        return (0..<count).map { _ in Float(random.next() >> 40) / Float(1 << 23) - 1 }
    }

    /// c = a b' (+ c0 when accumulate, + bias in every row when given) in float64, with b
    /// stored [k, n] or, transposed, [n, k].
    private func reference(transposeB: Bool, m: Int, n: Int, k: Int, a: [Float], lda: Int, b: [Float], ldb: Int,
                           c0: [Float], ldc: Int, accumulate: Bool, bias: [Float]?) -> (value: [Double], scale: [Double]) {
        var value = [Double](repeating: 0, count: m * ldc), scale = value
        for i in 0..<m {
            for j in 0..<n {
                var sum = accumulate ? Double(c0[i * ldc + j]) : Double(bias?[j] ?? 0), magnitude = abs(sum)
                for p in 0..<k {
                    let product = Double(a[i * lda + p]) * Double(transposeB ? b[j * ldb + p] : b[p * ldb + j])
                    sum += product
                    magnitude += abs(product)
                }
                value[i * ldc + j] = sum
                scale[i * ldc + j] = magnitude
            }
        }
        return (value, scale)
    }

    /// Runs `Gemm.multiply` on `x` [m, k] against `packed` in the column ranges `parts`
    /// (each starting at a whole panel), each range split further into the row ranges `rows`.
    private func product(_ x: [Float], lda: Int, _ packed: PackedMatrix, m: Int, c0: [Float], ldc: Int,
                         accumulate: Bool, bias: [Float]? = nil, parts: [Range<Int>], rows: [Range<Int>]) -> [Float] {
        var c = c0
        x.withUnsafeBufferPointer { xp in
            c.withUnsafeMutableBufferPointer { cp in
                (bias ?? []).withUnsafeBufferPointer { bp in
                    for columns in parts {
                        for rowRange in rows {
                            Gemm.multiply(m: rowRange.count, a: xp.baseAddress! + rowRange.lowerBound * lda, lda: lda,
                                          packed: packed, columns: columns,
                                          c: cp.baseAddress! + rowRange.lowerBound * ldc + columns.lowerBound, ldc: ldc,
                                          accumulate: accumulate,
                                          bias: bias == nil ? nil : bp.baseAddress! + columns.lowerBound)
                        }
                    }
                }
            }
        }
        return c
    }

    /// Both layouts of the packed operand, edge tiles in both directions (m = 13, n = 37) and
    /// 4-row tiles (m = 14: 6 + 4 + 4; m = 16: 6 + 6 + 4), k within one depth block and
    /// across three, padded leading dimensions, adding nothing, c, or a bias row; each
    /// element within 1e-6 of the sum of its |a b| terms (float32 rounding over k < 1,000
    /// multiply-adds stays well inside), padding of c untouched.
    func testMatchesFloat64Product() {
        for (m, k) in [(13, 5), (13, 2 * Gemm.maxDepth + 31), (14, 2 * Gemm.maxDepth + 31), (16, 5)] {
            let n = 37
            for transposeB in [false, true] {
                let lda = k + 3, ldb = (transposeB ? k : n) + 5, ldc = n + 2
                let a = values(m * lda, seed: 1), b = values((transposeB ? n : k) * ldb, seed: 2)
                let packed = PackedMatrix(k: k, n: n)
                b.withUnsafeBufferPointer { packed.pack($0.baseAddress!, ldb: ldb, transposed: transposeB) }
                for (accumulate, bias) in [(false, nil), (true, nil), (false, values(n, seed: 7))] {
                    let c0 = values(m * ldc, seed: 3)
                    let c = product(a, lda: lda, packed, m: m, c0: c0, ldc: ldc, accumulate: accumulate, bias: bias,
                                    parts: [0..<n], rows: [0..<m])
                    let want = reference(transposeB: transposeB, m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb,
                                         c0: c0, ldc: ldc, accumulate: accumulate, bias: bias)
                    let label = "k \(k) transposeB \(transposeB) accumulate \(accumulate) bias \(bias != nil)"
                    for i in 0..<m {
                        for j in 0..<ldc {
                            let index = i * ldc + j
                            if j >= n {
                                XCTAssertEqual(c[index], c0[index], "padding of c was written: \(label)")
                                continue
                            }
                            let error = abs(Double(c[index]) - want.value[index])
                            XCTAssertLessThanOrEqual(error, 1e-6 * max(want.scale[index], 1), "c[\(i), \(j)], \(label)")
                        }
                    }
                }
            }
        }
    }

    /// With all products positive, rounding errors of a sum do not cancel: a single float32
    /// chain of k multiply-adds drifts by about k/2 units in the last place. The kernel sums
    /// runs of `Gemm.segment` and then the runs, so over a full k block it must stay at least
    /// 4x closer to the float64 product than one chain over the block does.
    func testLongSumsStayAccurate() {
        let (m, n, k) = (6, 16, Gemm.maxDepth)
        let a = values(m * k, seed: 11).map { abs($0) + 0.5 }, b = values(k * n, seed: 12).map { abs($0) + 0.5 }
        let packed = PackedMatrix(k: k, n: n)
        b.withUnsafeBufferPointer { packed.pack($0.baseAddress!, ldb: n, transposed: false) }
        let c = product(a, lda: k, packed, m: m, c0: [Float](repeating: 0, count: m * n), ldc: n, accumulate: false,
                        parts: [0..<n], rows: [0..<m])
        let want = reference(transposeB: false, m: m, n: n, k: k, a: a, lda: k, b: b, ldb: n,
                             c0: [], ldc: n, accumulate: false, bias: nil).value
        var kernelError = 0.0, chainError = 0.0
        for i in 0..<m {
            for j in 0..<n {
                var chain: Float = 0
                for p in 0..<k { chain = chain.addingProduct(a[i * k + p], b[p * n + j]) }
                kernelError = max(kernelError, abs(Double(c[i * n + j]) - want[i * n + j]))
                chainError = max(chainError, abs(Double(chain) - want[i * n + j]))
            }
        }
        XCTAssertLessThan(kernelError * 4, chainError, "kernel \(kernelError), one chain \(chainError)")
    }

    /// The tiles of a row block cover its rows once, in order, with 6- and 4-row kernels only
    /// where every row they compute is kept, and a narrower edge only for odd rests.
    func testRowTilesCoverEveryRowOnce() {
        for rows in 1...Gemm.rowBlock {
            let tiles = Gemm.rowTiles(rows)
            var next = 0
            for tile in tiles {
                XCTAssertEqual(tile.start, next, "rows \(rows)")
                XCTAssertTrue(tile.height == 6 || tile.height == 4, "rows \(rows)")
                XCTAssertTrue(tile.rows <= tile.height && tile.rows > 0, "rows \(rows)")
                next += tile.rows
            }
            XCTAssertEqual(next, rows, "rows \(rows)")
            let partial = tiles.filter { $0.rows < $0.height }
            XCTAssertEqual(partial.count, rows % 2 == 1 || rows == 2 ? 1 : 0, "only odd rests (and 2) leave a partial tile: rows \(rows)")
            let packed = tiles.last.map { $0.start + $0.height } ?? 0
            XCTAssertLessThanOrEqual(packed, Gemm.roundUp(rows, 6), "packed rows fit: rows \(rows)")
        }
        XCTAssertEqual(Gemm.rowTiles(56).map(\.height), [6, 6, 6, 6, 6, 6, 6, 6, 4, 4])
    }

    /// Splitting c by rows (at any row, not only at tile edges) or by columns at a panel
    /// gives the same bits as one call: what makes results independent of the thread count.
    func testSplitsGiveTheSameBits() {
        let (m, n, k) = (29, 48, Gemm.maxDepth + 100)
        // Row ranges of 8 (4 + 4), 10 (6 + 4) and 11 (6 + a 5-row edge); all 29: 4 x 6 + 5.
        let x = values(m * k, seed: 4), w = values(n * k, seed: 5), c0 = values(m * n, seed: 6)
        let packed = PackedMatrix(k: k, n: n)
        w.withUnsafeBufferPointer { packed.pack($0.baseAddress!, ldb: k, transposed: true) }
        let bias = values(n, seed: 7)
        for (accumulate, bias) in [(false, nil), (true, nil), (false, bias)] {
            let whole = product(x, lda: k, packed, m: m, c0: c0, ldc: n, accumulate: accumulate, bias: bias,
                                parts: [0..<n], rows: [0..<m])
            let byColumns = product(x, lda: k, packed, m: m, c0: c0, ldc: n, accumulate: accumulate, bias: bias,
                                    parts: [0..<16, 16..<n], rows: [0..<m])
            let byRows = product(x, lda: k, packed, m: m, c0: c0, ldc: n, accumulate: accumulate, bias: bias,
                                 parts: [0..<n], rows: [0..<8, 8..<18, 18..<m])
            let label = "accumulate \(accumulate) bias \(bias != nil)"
            XCTAssertEqual(byColumns, whole, "split at a panel, \(label)")
            XCTAssertEqual(byRows, whole, "split by rows, \(label)")
        }
        // A bias row gives the bits of copying the bias into c and accumulating.
        let copied = (0..<m).flatMap { _ in bias }
        XCTAssertEqual(product(x, lda: k, packed, m: m, c0: c0, ldc: n, accumulate: false, bias: bias, parts: [0..<n], rows: [0..<m]),
                       product(x, lda: k, packed, m: m, c0: copied, ldc: n, accumulate: true, parts: [0..<n], rows: [0..<m]),
                       "bias as addend vs bias copied into c")
    }

    /// A one-row product with a large packed weight (the last layer's [CLS] row, the pooler)
    /// is read-bound, so `BLAS.sgemm` splits its columns across threads although it is far
    /// below `smallProduct`; the split gives the bits of one thread's product. A small weight
    /// (the classifier's) stays on one thread.
    func testOneRowProductWithALargeWeightIsSplit() {
        let (n, k) = (384, 384)
        let x = values(k, seed: 8), w = values(n * k, seed: 9), bias = values(n, seed: 10)
        let packed = PackedMatrix(k: k, n: n)
        w.withUnsafeBufferPointer { packed.pack($0.baseAddress!, ldb: k, transposed: true) }
        XCTAssertTrue(BLAS.streams(packed))
        XCTAssertFalse(BLAS.streams(PackedMatrix(k: k, n: 2)))
        func run(threads: Int) -> [Float] {
            BLAS.setThreads(threads)
            var c = [Float](repeating: .nan, count: n)
            x.withUnsafeBufferPointer { xp in
                bias.withUnsafeBufferPointer { bp in
                    c.withUnsafeMutableBufferPointer { cp in
                        BLAS.sgemm(m: 1, a: xp.baseAddress!, lda: k, packed: packed, c: cp.baseAddress!, ldc: n,
                                   bias: bp.baseAddress!)
                    }
                }
            }
            return c
        }
        BLAS.setThreads(2)
        XCTAssertEqual(BLAS.blockCount(m: 1, n: n, k: k, streamsWeight: true), 2)
        XCTAssertEqual(BLAS.blockCount(m: 1, n: n, k: k, streamsWeight: false), 1)
        let split = run(threads: 2), whole = run(threads: 1)
        XCTAssertEqual(split, whole)
        let want = reference(transposeB: true, m: 1, n: n, k: k, a: x, lda: k, b: w, ldb: k, c0: [], ldc: n,
                             accumulate: false, bias: bias)
        for j in 0..<n {
            XCTAssertLessThanOrEqual(abs(Double(split[j]) - want.value[j]), 1e-6 * max(want.scale[j], 1), "c[\(j)]")
        }
    }

    /// A store hands out a weight's packed copy until the weight changes, then packs it anew.
    func testStoreRepacksAfterAnyChange() throws {
        let store = ParameterStore(specs: [("w", [3, 2])])
        try store.set("w", HostTensor(shape: [3, 2], floats: [1, 2, 3, 4, 5, 6]))
        let base = try XCTUnwrap(store.baseAddress("w"))
        let first = store.packedTransposed(base, n: 3, k: 2)
        XCTAssertTrue(store.packedTransposed(base, n: 3, k: 2) === first, "unchanged store: packed once")
        // Packed as b' = w^T [2, 3], one panel: value (p, j) at p * 16 + j.
        XCTAssertEqual([first.storage[0], first.storage[1], first.storage[2], first.storage[16]], [1, 3, 5, 2])

        try store.set("w", HostTensor(shape: [3, 2], floats: [6, 5, 4, 3, 2, 1]))
        let second = store.packedTransposed(base, n: 3, k: 2)
        XCTAssertFalse(second === first, "set: packed anew")
        XCTAssertEqual([second.storage[0], second.storage[1], second.storage[2], second.storage[16]], [6, 4, 2, 5])

        store.withUnsafeMutableBufferPointer { $0[0] = 9 }
        XCTAssertEqual(store.packedTransposed(base, n: 3, k: 2).storage[0], 9, "written through the buffer: packed anew")
        store.zero()
        XCTAssertEqual(store.packedTransposed(base, n: 3, k: 2).storage[0], 0, "zeroed: packed anew")
    }
}
