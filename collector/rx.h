/* rx.h: receive threads for the daemon.
 *
 * Each receive thread owns its own sockets on every configured endpoint (SO_REUSEPORT: the
 * kernel spreads exporters over the threads by address and port, one exporter always on the
 * same thread) and one single-producer/single-consumer byte ring towards the pipeline thread.
 * It receives in recvmmsg batches, stamps each batch with the wall clock once, and copies the
 * datagrams into its ring. The pipeline thread takes them out with rx_pool_consume() and
 * decodes them itself, so templates, counters and replay determinism stay on one thread.
 * When a ring is full the receive thread waits (the socket buffer absorbs bursts; what the
 * kernel then drops is counted through SO_RXQ_OVFL). No allocation or lock per datagram;
 * counters are atomics. */
#ifndef TW_RX_H
#define TW_RX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "udp.h"

struct rx_pool;

typedef void (*rx_datagram_fn)(void *arg, const uint8_t src[16], uint16_t sport, uint64_t ts_ms,
                               const uint8_t *data, size_t len);

/* n threads (1..64) on endpoints; ring_bytes per thread (rounded to a power of two).
 * Returns 0 or -1 with err. */
int rx_pool_start(const char *const *endpoints, size_t nendpoints, const struct udp_opts *opts,
                  unsigned n, size_t ring_bytes, struct rx_pool **out, char *err, size_t errlen);
/* Pipeline thread: hand up to max queued datagrams to cb, oldest first per thread. */
size_t rx_pool_consume(struct rx_pool *p, rx_datagram_fn cb, void *arg, size_t max);
/* Pipeline thread, around its poll(): rx_pool_arm() asks the threads to signal rx_pool_fd()
 * (POLLIN) when they queue something and returns true if something is queued already (then
 * poll without sleeping); rx_pool_disarm() after the poll. */
bool rx_pool_arm(struct rx_pool *p);
void rx_pool_disarm(struct rx_pool *p);
int rx_pool_fd(const struct rx_pool *p);
/* Stop and join the threads (each drains its sockets first), handing everything queued to cb
 * meanwhile and after (cb NULL: leave it in the rings). */
void rx_pool_stop(struct rx_pool *p, rx_datagram_fn cb, void *arg);
void rx_pool_free(struct rx_pool *p);
/* Summed over threads: datagrams, bytes, truncated, kernel drops, receive errors. */
void rx_pool_udp_stats(struct rx_pool *p, struct udp_stats *out);
uint64_t rx_pool_ring_waits(struct rx_pool *p);
unsigned rx_pool_threads(const struct rx_pool *p);
/* The first thread's listener (ports, buffer sizes for the log). */
const struct udp_listener *rx_pool_listener(const struct rx_pool *p);

#endif
