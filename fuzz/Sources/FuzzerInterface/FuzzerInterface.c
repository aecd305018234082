// Declarations only (see include/FuzzerInterface.h); libFuzzer defines the functions.
#include "FuzzerInterface.h"
