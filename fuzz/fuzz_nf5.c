/* fuzz_nf5.c: NetFlow v5 datagrams into a fresh decoder (see fuzz_datagram.h). */
#define FUZZ_VERSION 5
#include "fuzz_datagram.h"
