// ONNX external data: initializer bytes kept in a side file instead of the protobuf message,
// for models whose weights exceed protobuf's 2 GiB limit.

import Foundation

/// Moves initializers' `raw_data` into one side-file image, as the ONNX external data format
/// specifies: each moved tensor gets `data_location = EXTERNAL` and `external_data` entries
/// `location` (relative to the model's directory), `offset` and `length`.
enum ONNXExternalData {
    /// Offsets are multiples of this, so runtimes can map tensors page-aligned.
    static let alignment = 4096

    /// Moves the data of every initializer of at least `minimumBytes` out of `model`.
    /// - Returns: the side file's contents, to be written at `location`.
    static func externalize(_ model: inout Onnx_ModelProto, location: String, minimumBytes: Int) -> Data {
        var side = Data()
        for i in model.graph.initializer.indices where model.graph.initializer[i].rawData.count >= minimumBytes {
            let raw = model.graph.initializer[i].rawData
            let offset = (side.count + alignment - 1) / alignment * alignment
            side.append(Data(count: offset - side.count))
            side.append(raw)
            var t = model.graph.initializer[i]
            t.clearRawData()   // external tensors must not carry raw_data at all
            t.dataLocation = .external
            t.externalData = [entry("location", location), entry("offset", String(offset)),
                              entry("length", String(raw.count))]
            model.graph.initializer[i] = t
        }
        return side
    }

    private static func entry(_ key: String, _ value: String) -> Onnx_StringStringEntryProto {
        var e = Onnx_StringStringEntryProto()
        e.key = key
        e.value = value
        return e
    }
}
