import XCTest
@testable import BertGraph

final class ShapeRuleTests: XCTestCase {
    func testMatmulShapes() throws {
        var g = Graph(name: "t")
        let x = g.addInput("x", .f32(.batch, .seq, .fixed(8)))
        let w = g.addParameter("w", .f32(.fixed(4), .fixed(8)))
        let y = try g.apply1(.matmul(transposeA: false, transposeB: true), [x, w], name: "y")
        XCTAssertEqual(g.type(of: y), .f32(.batch, .seq, .fixed(4)))
        let dw = try g.apply1(.matmul(transposeA: true, transposeB: false), [y, x], name: "dw")
        XCTAssertEqual(g.type(of: dw), .f32(.fixed(4), .fixed(8)))
        XCTAssertThrowsError(try g.apply1(.matmul(transposeA: false, transposeB: false), [x, w], name: "bad")) { e in
            XCTAssertTrue("\(e)".contains("bad"), "\(e)")
        }
        try GraphVerifier.verify(g)
    }
}
