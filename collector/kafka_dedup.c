/* kafka_dedup.c: see kafka_dedup.h. */
#include "kafka_dedup.h"

#include <errno.h>
#include <string.h>

int kafka_dedup_init(struct kafka_dedup *d, uint64_t cap)
{
    memset(d, 0, sizeof *d);
    if (cap == 0)
        return 0;
    if (cap >= UINT32_MAX)
        return -EINVAL;
    hash_key_random(&d->hk);
    int rc = ltab_init(&d->seen, (size_t)cap, 3 * sizeof(uint64_t), 3 * sizeof(uint64_t));
    d->on = rc == 0;
    return rc;
}

void kafka_dedup_fini(struct kafka_dedup *d)
{
    if (d->on)
        ltab_fini(&d->seen);
    memset(d, 0, sizeof *d);
}

bool kafka_dedup_copy(struct kafka_dedup *d, uint32_t scope, const void *data, size_t len)
{
    if (!d->on)
        return false;
    uint64_t key[3] = {hash_bytes(&d->hk, data, len), len, (uint64_t)scope << 32 | d->epoch};
    bool inserted = false, evicted = false;
    ltab_get(&d->seen, key, key[0] ^ hash_mix64(key[2]), &inserted, NULL, &evicted);
    return !inserted;
}

void kafka_dedup_forget(struct kafka_dedup *d)
{
    d->epoch++;
}
