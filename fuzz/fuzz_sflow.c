/* fuzz_sflow.c: sFlow v5 datagrams into a fresh decoder (see fuzz_datagram.h). Seed corpus:
 * fuzz/corpus/sflow, written by `twgen sflow-corpus DIR` (tests/gen/twgen_sflow.c). */
#define FUZZ_VERSION 5
#define FUZZ_SFLOW 1
#include "fuzz_datagram.h"
