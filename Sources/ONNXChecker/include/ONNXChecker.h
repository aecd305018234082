// C interface to libonnx's model checker, so Swift can validate an exported ModelProto
// in-process without C++ interop.
#ifndef BERTC_ONNX_CHECKER_H
#define BERTC_ONNX_CHECKER_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Parses `bytes` (a serialised onnx.ModelProto) and runs libonnx's full check:
/// `onnx::checker::check_model` followed by strict shape inference with type checks
/// (what Python's `onnx.checker.check_model(model, full_check=True)` does).
///
/// Returns 0 when the model is valid. Otherwise returns non-zero and writes libonnx's
/// message, NUL-terminated and truncated to `error_capacity` bytes, into `error`.
int bertc_onnx_check(const void *bytes, size_t length, char *error, size_t error_capacity);

/// `bertc_onnx_check` for a model whose initializers keep their data in side files:
/// `model_dir` is the directory the `external_data` locations are relative to (the
/// checker verifies that those files exist). An empty or NULL `model_dir` means none.
int bertc_onnx_check_in_directory(const void *bytes, size_t length, const char *model_dir,
                                  char *error, size_t error_capacity);

#ifdef __cplusplus
}
#endif

#endif
