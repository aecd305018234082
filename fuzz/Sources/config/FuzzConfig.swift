// Fuzz target: a model config (`config.json` / `bert_config.json`) through BertConfig's decoder
// and validation, in both families.

import BertModel
import Foundation

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let data = start.map { Data(bytes: $0, count: count) } ?? Data()
    for family in [BertConfig.Family.huggingFace, .tensorflow] {
        guard let config = try? BertConfig.decode(data, file: "config.json", family: family) else { continue }
        _ = config.headSize
    }
    return 0
}
