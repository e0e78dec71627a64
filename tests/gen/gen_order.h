/* gen_order.h: hand generated flows on in order of end time, as an exporter would, although a
 * simulator makes them slice by slice in order of start. Each slice's flows go in; every held
 * flow ending before the slice's end comes out, sorted (end time, then the 5-tuple and start,
 * so the order is total and a run repeats exactly); the rest wait for the next slice. A flow
 * must last less than one slice. Used by the scenario simulators (gen_scenario, gen_eval). */
#ifndef TW_GEN_ORDER_H
#define TW_GEN_ORDER_H

#include <stddef.h>
#include <stdint.h>

#include "gen_export.h"
#include "gen_scenario.h"

struct gen_order {
    struct gen_flow *f; /* held flows */
    size_t n, cap;
};

/* cap: the most flows held at once (two slices' worth). 0 or -ENOMEM. */
int gen_order_init(struct gen_order *o, size_t cap);
void gen_order_free(struct gen_order *o);
/* Take n flows, then emit every held flow that ends before before_ms. Returns 0, emit's
 * first error, or -E2BIG when more than cap flows would be held. */
int gen_order_push(struct gen_order *o, const struct gen_flow *f, size_t n, uint64_t before_ms,
                   gen_flow_fn emit, void *arg);
/* Emit what is still held. */
int gen_order_finish(struct gen_order *o, gen_flow_fn emit, void *arg);

#endif
