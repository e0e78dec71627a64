/* fuzz_zeek_json.c: Zeek conn.log JSON lines into their parser (see fuzz_flowlog.h). */
#define FUZZ_FMT FLOWLOG_ZEEK_JSON
#include "fuzz_flowlog.h"
