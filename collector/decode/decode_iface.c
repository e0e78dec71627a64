/* decode_iface.c: layer 2 of the decoder (decode_int.h): the interfaces sFlow agents report in
 * counter samples, keyed by (agent address, ifIndex), in a core/table.h ktab of
 * cfg.max_interfaces entries that is never reset: interfaces are few and stable, the first ones
 * seen keep their place (the /metrics listing stays in first-seen order) and one more is
 * refused and counted (iface_limit). Calls layer 0. */
#include <errno.h>

#include "decode_int.h"

int dec_iface_init(struct decode_ctx *ctx)
{
    if (!ctx->cfg.max_interfaces)
        return 0;
    if (ktab_init(&ctx->ifaces, ctx->cfg.max_interfaces, sizeof(struct dec_iface),
                  offsetof(struct dec_iface, last), ctx->seed) < 0)
        return -ENOMEM;
    ctx->mem += dec_iface_bytes(&ctx->cfg);
    return 0;
}

void dec_iface_free(struct decode_ctx *ctx)
{
    if (ctx->ifaces.ent)
        ktab_fini(&ctx->ifaces);
}

/* bits per second of a counter that went from a to b in ms (0 when it went back: a restart) */
static uint64_t rate_bps(uint64_t a, uint64_t b, uint64_t ms)
{
    if (b < a || ms == 0)
        return 0;
    uint64_t d = b - a;
    /* d * 8000 / ms without the product's overflow (octet deltas past 2.3e15) */
    if (d / ms > UINT64_MAX / 8000 - 1)
        return UINT64_MAX;
    return d / ms * 8000 + d % ms * 8000 / ms;
}

void dec_iface_update(struct dec_msg *m, const struct dec_iface_sample *s)
{
    struct decode_ctx *ctx = m->ctx;
    struct dec_iface key;
    memset(&key, 0, sizeof key);
    memcpy(key.agent, m->exp->addr, 16);
    key.ifindex = s->ifindex;
    bool fresh = false;
    struct dec_iface *e = ctx->ifaces.ent ? ktab_get(&ctx->ifaces, &key, &fresh) : NULL;
    if (!e) {
        dec_error(ctx, m->exp, DC_IFACE_LIMIT);
        return;
    }
    if (!fresh && m->now_ms > e->at_ms) {
        uint64_t ms = m->now_ms - e->at_ms;
        e->in_bps = rate_bps(e->last.in_octets, s->in_octets, ms);
        e->out_bps = rate_bps(e->last.out_octets, s->out_octets, ms);
    }
    e->last = *s;
    e->at_ms = m->now_ms;
    e->samples++;
    ctx->c[DC_SFLOW_IFACE_UPDATES]++;
}
