/* fuzz_nf9.c: NetFlow v9 datagrams into a fresh decoder (see fuzz_datagram.h). */
#define FUZZ_VERSION 9
#include "fuzz_datagram.h"
