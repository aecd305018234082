// The part of libFuzzer's interface (compiler-rt's FuzzerInterface.h) that Swift calls.
#include <stddef.h>
#include <stdint.h>

/// Applies libFuzzer's own mutations to `data` (`size` bytes, room for `max_size`); returns the
/// new size. Only valid inside `LLVMFuzzerCustomMutator`.
size_t LLVMFuzzerMutate(uint8_t *data, size_t size, size_t max_size);
