import BertGraph
import BertRuntime

/// A random valid graph over elementwise ops, matmul, layerNorm and reshape (a view), with
/// random widths and a random leading shape (symbolic or fixed), plus bindings for its symbols. Operands favour
/// recent values so that chains (and in-place chances) form, while older values are picked
/// often enough to give long lifetimes.
public func randomGraph(seed: UInt64) throws -> (Graph, [String: Int]) {
    var rng = SplitMix64(seed: seed &+ 0x9E37_79B9_7F4A_7C15)  // a failing seed reproduces
    var g = Graph(name: "random_\(seed)")
    let leadings: [[Dim]] = [[.batch, .seq], [.batch], [.fixed(3)], [.seq, .fixed(2)]]
    let leading = leadings.randomElement(using: &rng)!
    let widths = [1, 4, 8, 12, 16, 24]
    func type(_ w: Int) -> TensorType { TensorType(.float32, Shape(leading + [.fixed(w)])) }
    func width(_ v: ValueID) -> Int {
        if case .fixed(let n)? = g.values[v].type.shape.last { return n }
        return 0
    }

    var pool: [ValueID] = []
    for k in 0..<Int.random(in: 1...3, using: &rng) {
        pool.append(g.addInput("x\(k)", type(widths.randomElement(using: &rng)!)))
    }
    func pick() -> ValueID {
        if Bool.random(using: &rng) { return pool[pool.count - 1 - Int.random(in: 0..<min(3, pool.count), using: &rng)] }
        return pool.randomElement(using: &rng)!
    }
    let nodeCount = Int.random(in: 1...40, using: &rng)
    for k in 0..<nodeCount {
        let x = pick()
        let w = width(x)
        let name = "v\(k)"
        let v: ValueID
        switch Int.random(in: 0..<10, using: &rng) {
        case 0, 1:
            let op: Op = Bool.random(using: &rng) ? .add : .mul
            let partners = pool.filter { g.values[$0].type == g.values[x].type }
            let y = Bool.random(using: &rng) ? partners.randomElement(using: &rng)!
                                             : g.addParameter("p\(k).bias", .f32(.fixed(w)))
            v = try g.apply1(op, [x, y], name: name)
        case 2: v = try g.apply1(.scale(Float.random(in: -2...2, using: &rng)), [x], name: name)
        case 3: v = try g.apply1(.gelu(Bool.random(using: &rng) ? .erf : .tanh), [x], name: name)
        case 4: v = try g.apply1(.tanh, [x], name: name)
        case 5: v = try g.apply1(.dropout(rate: 0.1, stream: k), [x], name: name)
        case 6:
            let gamma = g.addParameter("p\(k).gamma", .f32(.fixed(w)))
            let beta = g.addParameter("p\(k).beta", .f32(.fixed(w)))
            v = try g.apply1(.layerNorm(epsilon: 1e-5), [x, gamma, beta], name: name)
        case 7: v = try g.apply1(.reshape(g.values[x].type.shape), [x], name: name)
        default:
            let n = widths.randomElement(using: &rng)!
            let weight = g.addParameter("p\(k).weight", .f32(.fixed(n), .fixed(w)))
            v = try g.apply1(.matmul(transposeA: false, transposeB: true), [x, weight], name: name)
        }
        pool.append(v)
    }
    g.addOutput("out", pool.last!)
    for k in 0..<Int.random(in: 0...2, using: &rng) {
        let v = pool.randomElement(using: &rng)!
        if !g.outputs.contains(where: { $0.value == v }) { g.addOutput("extra\(k)", v) }
    }
    try GraphVerifier.verify(g)
    return (g, ["batch": Int.random(in: 1...4, using: &rng), "seq": Int.random(in: 1...7, using: &rng)])
}
