/* rx.h: receive threads, as one source of the main loop.
 *
 * Each receive thread runs a loop of its own (core/evloop.h) with its own UDP source (udp.h:
 * the same receive code as without threads) on every configured endpoint, its sockets opened
 * with SO_REUSEPORT so the kernel spreads exporters over the threads by address and port (one
 * exporter always on the same thread). What the thread's UDP source reads goes into the
 * thread's ring (core/ring.h) to the main thread, stamped with the time of its receive batch.
 * The main loop drains the rings through this source (fd: the rings' bell) and hands each
 * datagram to its source_out (the ingest), so templates, counters and replay determinism stay
 * on one thread. When a ring is full the receive thread waits (the socket buffer absorbs
 * bursts; what the kernel then drops is counted through SO_RXQ_OVFL) and counts the wait. No
 * allocation or lock per datagram; the threads' counters are read through atomics.
 *
 * Threads: rx_source_open and the source's functions on the main thread; the receive threads
 * block every signal. Stopping (the source's finish, at shutdown): each thread takes what its
 * sockets still hold, while the main thread keeps draining the rings, then the threads are
 * joined and the rings emptied. */
#ifndef TW_RX_H
#define TW_RX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "source.h"
#include "udp.h"

#define RX_SOURCE_BUDGET 65536 /* datagrams taken from the rings per drain */

/* n threads (1..64) on endpoints; ring_bytes per thread (rounded up to a power of two, at least
 * 256 KiB). Datagrams go to out->datagram (out borrowed). 0 or -errno with err. */
int rx_source_open(const char *const *endpoints, size_t nendpoints, const struct udp_opts *opts,
                   unsigned n, size_t ring_bytes, const struct source_out *out, struct source **src,
                   char *err, size_t errlen) __attribute__((warn_unused_result));
unsigned rx_source_threads(struct source *s);
/* The first thread's listener (ports, buffer sizes for the log). */
const struct udp_listener *rx_source_listener(struct source *s);

#endif
