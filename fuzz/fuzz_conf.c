/* fuzz_conf.c: conf_load_mem against test_conf's schema (tests/unit/conf_test_schema.h: every
 * value type and an instance section). */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "../tests/unit/conf_test_schema.h"
#include "conf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cfg cfg;
    struct conf_error err;
    memset(&cfg, 0, sizeof(cfg));
    if (conf_defaults(gen_keys, &cfg.gen) < 0)
        __builtin_trap();
    int rc = conf_load_mem("fuzz", (const char *)data, size, sections, &cfg, &err);
    if (rc < 0 && memchr(err.msg, '\0', sizeof(err.msg)) == NULL)
        __builtin_trap(); /* error text must stay terminated */
    if (rc == 0 && cfg.gen.ratio > 1.0)
        __builtin_trap(); /* bounds hold */
    return 0;
}
