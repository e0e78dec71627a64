/* fuzz_zeek_tsv.c: Zeek conn.log TSV lines into their parser (see fuzz_flowlog.h). */
#define FUZZ_FMT FLOWLOG_ZEEK_TSV
#include "fuzz_flowlog.h"
