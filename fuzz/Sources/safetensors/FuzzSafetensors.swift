// Fuzz target: a safetensors file, from memory, through SafetensorsReader: header validation,
// the listing `bertc inspect` prints, and a read of every tensor.

import BertModel
import Foundation

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let data = start.map { Data(bytes: $0, count: count) } ?? Data()
    guard let reader = try? SafetensorsReader(data: data, path: "fuzz.safetensors") else { return 0 }
    _ = try? CheckpointListing(reader: reader)
    for tensor in reader.tensors { _ = try? reader.read(tensor.name) }
    return 0
}
