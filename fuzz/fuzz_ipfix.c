/* fuzz_ipfix.c: IPFIX datagrams into a fresh decoder (see fuzz_datagram.h). */
#define FUZZ_VERSION 10
#include "fuzz_datagram.h"
