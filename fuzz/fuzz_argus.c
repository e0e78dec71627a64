/* fuzz_argus.c: Argus binetflow CSV lines into their parser (see fuzz_flowlog.h). */
#define FUZZ_FMT FLOWLOG_ARGUS
#include "fuzz_flowlog.h"
