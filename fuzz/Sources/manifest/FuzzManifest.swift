// Fuzz target: a bundle's `manifest.json` through BundleManifest.decode (format and version
// first, then the whole manifest and its self-consistency checks), and back to JSON.

import BertBundle
import Foundation

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let data = start.map { Data(bytes: $0, count: count) } ?? Data()
    guard let manifest = try? BundleManifest.decode(data, file: "manifest.json") else { return 0 }
    _ = try? manifest.encoded()
    return 0
}
