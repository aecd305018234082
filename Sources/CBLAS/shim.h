// OpenBLAS's CBLAS interface (Debian: libopenblas-dev puts cblas.h on the default include path).
#include <cblas.h>
// openblas_set_num_threads lets the runtime keep BLAS and its own kernels from oversubscribing.
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);
// The kernel set OpenBLAS chose when it was loaded ("Haswell", "SkylakeX", "Prescott", ...).
char *openblas_get_corename(void);
