/* fuzz_customers.c: the customer map loader on arbitrary bytes. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "customers.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* small bounds so the limit paths are reached too */
    struct customer_limits lim = {.max_customers = 64, .max_prefixes = 128};
    struct customer_map *m = NULL;
    struct conf_error err;

    if (customers_load_mem("fuzz.csv", (const char *)data, size, &lim, &m, &err) != 0)
        return 0;
    /* look every mapped prefix's network address up again: it must map to a customer */
    for (uint32_t i = 1; i <= customers_count(m); i++) {
        const struct customer *c = customers_get(m, i);
        const struct prefix *ps = NULL;
        size_t n = customers_prefixes(m, i, &ps);
        if (!c || c->index + 1 != i || n != c->nprefixes)
            __builtin_trap();
        if (customers_find_id(m, c->id) != c)
            __builtin_trap();
        for (size_t k = 0; k < n; k++)
            if (customers_lookup(m, ps[k].addr) == 0)
                __builtin_trap();
        (void)customers_lookup_as(m, c->asn);
    }
    customers_free(m);
    return 0;
}
