// libonnx's checker and strict shape inference behind a C function. Every exception from
// libonnx or protobuf becomes a return code plus its message; nothing escapes into Swift.

#include "ONNXChecker.h"

#include <cstring>
#include <exception>
#include <string>

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include "onnx/checker.h"
#include "onnx/defs/schema.h"
#include "onnx/onnx_pb.h"
#include "onnx/shape_inference/implementation.h"

namespace ONNX_NAMESPACE {
namespace checker {
// Defined and exported by libonnx (checker.cc) but not declared in its 1.12 header; it is
// the overload that `check_model(const std::string& path)` uses to pass the model directory.
void check_model(const ModelProto& model, CheckerContext& ctx);
} // namespace checker
} // namespace ONNX_NAMESPACE

namespace {

/// Copies `message` into the caller's buffer, truncated and NUL-terminated.
void report(const std::string& message, char* error, size_t capacity) {
    if (error == nullptr || capacity == 0) return;
    size_t n = message.size() < capacity - 1 ? message.size() : capacity - 1;
    std::memcpy(error, message.data(), n);
    error[n] = '\0';
}

/// Parses a ModelProto of any size up to protobuf's 2 GiB limit.
bool parse(const void* bytes, size_t length, onnx::ModelProto& model) {
    if (length > static_cast<size_t>(INT32_MAX)) return false;
    google::protobuf::io::ArrayInputStream raw(bytes, static_cast<int>(length));
    google::protobuf::io::CodedInputStream coded(&raw);
    coded.SetTotalBytesLimit(INT32_MAX);
    return model.ParseFromCodedStream(&coded) && coded.ConsumedEntireMessage();
}

} // namespace

extern "C" int bertc_onnx_check_in_directory(const void* bytes, size_t length, const char* model_dir,
                                             char* error, size_t error_capacity) {
    try {
        onnx::ModelProto model;
        if (!parse(bytes, length, model)) {
            report("the bytes are not a valid onnx.ModelProto (protobuf parse failed)", error, error_capacity);
            return 2;
        }
        onnx::checker::CheckerContext context;
        if (model_dir != nullptr && model_dir[0] != '\0') {
            std::string dir(model_dir);
            if (dir.back() != '/') dir += '/';
            context.set_model_dir(dir);
        }
        onnx::checker::check_model(model, context);
        // full_check: strict shape inference with type checks, on a copy so the caller's
        // bytes stay what they were.
        onnx::ShapeInferenceOptions options(/*check_type=*/true, /*strict_mode=*/1, /*data_prop=*/false);
        onnx::shape_inference::InferShapes(model, onnx::OpSchemaRegistry::Instance(), options);
        return 0;
    } catch (const std::exception& e) {
        report(e.what(), error, error_capacity);
        return 1;
    } catch (...) {
        report("libonnx threw an unknown exception", error, error_capacity);
        return 1;
    }
}

extern "C" int bertc_onnx_check(const void* bytes, size_t length, char* error, size_t error_capacity) {
    return bertc_onnx_check_in_directory(bytes, length, nullptr, error, error_capacity);
}
