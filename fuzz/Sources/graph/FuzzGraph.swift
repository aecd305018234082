// Fuzz target: graph text (a bundle's `graph.bertc`) through GraphParser, whose last stage is
// GraphVerifier, then the passes the bundle loader runs on a parsed graph.

import BertGraph
import BertPasses
import Foundation

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let bytes = start.map { UnsafeBufferPointer(start: $0, count: count) } ?? UnsafeBufferPointer(start: nil, count: 0)
    guard let text = String(validating: bytes, as: UTF8.self), let graph = try? GraphParser.parse(text) else { return 0 }
    _ = try? GraphVerifier.verify(graph, after: "fuzz")
    _ = try? EliminateDeadCode().run(FuseOps().run(graph))
    return 0
}
