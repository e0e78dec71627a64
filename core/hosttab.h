/* hosttab.h: a worker's table of inside hosts, bounded by configuration.
 *
 * Set-associative with two choices: a keyed hash picks two buckets of HOSTTAB_WAYS entries; a
 * host lives in one of them (inserted into the emptier). When both are full, the entry seen
 * least recently is evicted (one not active in the open window when there is one) and the
 * eviction is counted (measured: a few in 10^5 inserts at 75 % full, 0.02 % at 80 %). Lookups
 * read at most 2 * HOSTTAB_WAYS entries. Memory is fixed at creation: capacity * (a 4-byte tag
 * and a 4-byte slot number, and a bit: the slot holds a host) + capacity slots of
 * sizeof(struct host) + state_size, rounded up to 8; nothing is allocated afterwards. The slots
 * are dense (hosttab.c): pages of them are touched up to the most hosts held at once, so memory
 * in use is capacity * 8.125 + high_water * slot.
 * One thread (the owning worker) uses a table. struct host is defined in detectors/detector.h's
 * terms but lives here so the table needs no detector.
 * Not core/table.h's ltab: the victim is chosen within two buckets by the open window, not by
 * global recency, and the lookup (one tag block per bucket) runs for every record.
 */
#ifndef TW_HOSTTAB_H
#define TW_HOSTTAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hash.h"

#define HOSTTAB_WAYS 8

struct host;
struct hosttab;

struct hosttab_stats {
    uint64_t inserts, evictions, evictions_active, expired;
    uint64_t evictions_dark; /* of them, addresses that never sent (struct host sender) */
    size_t used, capacity;
    size_t high_water; /* the most hosts held at once: slots whose pages were touched */
};

/* capacity is rounded up to a multiple of HOSTTAB_WAYS. Returns 0 or -ENOMEM. */
int hosttab_new(size_t capacity, size_t state_size, const struct hash_key *key,
                struct hosttab **out);
void hosttab_free(struct hosttab *t);
/* Hosts are keyed by address alone: an address belongs to one customer at a time, and a
 * reload of the customer map only changes the host's customer field (see hosttab_foreach).
 * Find or insert addr, setting its customer. On insert the host and its state are zeroed and
 * *inserted = true. Never fails: a full bucket evicts. cur_window: the open window number. */
struct host *hosttab_get(struct hosttab *t, uint32_t customer, const uint8_t addr[16],
                         uint32_t cur_window, bool *inserted, void **state);
/* The same, with hash = hosttab_hash(t, addr) computed earlier (the pipeline hashes a record's
 * host once: to pick the worker, to prefetch, to look up, and for the detectors' tables).
 * hosttab_hash is hash_host under the table's key (hosttab_key; the key hosttab_new got). */
uint64_t hosttab_hash(const struct hosttab *t, const uint8_t addr[16]);
const struct hash_host_key *hosttab_key(const struct hosttab *t);
struct host *hosttab_get_hashed(struct hosttab *t, uint64_t hash, uint32_t customer,
                                const uint8_t addr[16], uint32_t cur_window, bool *inserted,
                                void **state);
/* A record's lookup in steps, so that a batch's cache misses overlap instead of queueing one by
 * one (collector/pipeline_int.h wk_dispatch, collector/workers.c run_batch).
 * hosttab_prefetch_tags, when the record is queued (a worker thread: a few records before its
 * slot): start loading the two tag blocks of hash; returns its probe (the bucket numbers).
 * hosttab_prefetch_slot, a few records before the lookup (the blocks having arrived
 * meanwhile): start loading the slot (host and detector state, every cache line of it, for
 * reading and writing) of the first tag match (first bucket, then second); returns the probe
 * for the lookup: that match's position, or (no tag matches: a new host, most likely) the
 * bucket numbers, marked. hosttab_get_at:
 * hosttab_get_hashed with that probe, which spares the lookup its bucket numbers, and its tag
 * match when the position holds the host (most records). Its answer in registers: the host and
 * its state (NULL: the table keeps none); whether it was inserted is not said, but a new host is
 * zeroed, state and all (a caller that sets a field nonzero on every record tells by it).
 * Between the steps and the lookup, the table may change only by hosttab_get* (no foreach: a
 * removal could give the slot a position names to another host). hosttab_prefetch_tags reads
 * only what the table's size fixes: another thread may call it while the owner runs
 * lookups. */
struct hosttab_ref {
    struct host *host;
    void *state;
};
uint64_t hosttab_prefetch_tags(const struct hosttab *t, uint64_t hash);
uint64_t hosttab_prefetch_slot(const struct hosttab *t, uint64_t hash, uint64_t probe);
struct hosttab_ref hosttab_get_at(struct hosttab *t, uint64_t hash, uint64_t probe,
                                  uint32_t customer, const uint8_t addr[16], uint32_t cur_window);
/* customer 0 = any; else the host must belong to that customer. */
struct host *hosttab_find(struct hosttab *t, uint32_t customer, const uint8_t addr[16],
                          void **state);
/* Visit every host, in the order of the positions (the hash's, the same every run); cb returns
 * true to remove the host, and must not otherwise change the table (the walk reads positions
 * ahead of the visit to prefetch their hosts). */
typedef bool (*hosttab_visit_fn)(void *arg, struct host *h, void *state);
void hosttab_foreach(struct hosttab *t, hosttab_visit_fn cb, void *arg);
/* The same for a visit whose effects do not depend on the order hosts come in (sums, a list kept
 * sorted): every host once, in the order of their slots in memory, faster (no cache miss per
 * host, no walk of the whole capacity unless a host is removed). The table is left as
 * hosttab_foreach would leave it, down to which slot each later new host takes. */
void hosttab_foreach_unordered(struct hosttab *t, hosttab_visit_fn cb, void *arg);
void hosttab_stats(const struct hosttab *t, struct hosttab_stats *out);
/* Bytes allocated (every slot counted: the bound) and in use (slots up to the high-water mark). */
size_t hosttab_memory(const struct hosttab *t);
size_t hosttab_memory_used(const struct hosttab *t);
size_t hosttab_state_size(const struct hosttab *t);
/* Bytes one host's slot costs: struct host and the state, rounded up to 8 (each position of the
 * capacity costs 8 more, its tag and slot number, and a bit). */
size_t hosttab_slot_bytes(const struct hosttab *t);

#endif
