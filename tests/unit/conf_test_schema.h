/* conf_test_schema.h: the schema the configuration reader is tested against (test_conf) and
 * fuzzed with (fuzz/fuzz_conf.c): every value type (string, u64 with suffixes, u32 with bounds,
 * bool, double in [0, 1], duration, bytes, a custom parser, a string without default) in a
 * plain section [general], and a section with an argument [peer NAME] (at most 2, names
 * unique). Header-only, static; no test framework. */
#ifndef TW_CONF_TEST_SCHEMA_H
#define TW_CONF_TEST_SCHEMA_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "conf.h"

struct gen {
    char name[16];
    uint64_t count;
    uint32_t port;
    bool flag;
    double ratio;
    uint64_t window;
    uint64_t buffer;
    int mode;
    char nodef[8];
};

struct inst {
    char arg[32];
    uint32_t weight;
    char label[32];
};

struct cfg {
    struct gen gen;
    struct inst inst[2];
    int ninst;
};

static int parse_mode(void *field, const char *value, char *msg, size_t msglen)
{
    int m;
    if (strcmp(value, "fast") == 0)
        m = 1;
    else if (strcmp(value, "slow") == 0)
        m = 2;
    else {
        snprintf(msg, msglen, "expected fast or slow");
        return -EINVAL;
    }
    memcpy(field, &m, sizeof m);
    return 0;
}

static const struct conf_key gen_keys[] = {
    {"name", CONF_STR, offsetof(struct gen, name), sizeof(((struct gen *)0)->name), 1, 0, "tw",
     "instance name", NULL},
    {"count", CONF_U64, offsetof(struct gen, count), 0, 1, 0, "10k", "records", NULL},
    {"port", CONF_U32, offsetof(struct gen, port), 0, 1, 65535, "2055", "UDP port", NULL},
    {"flag", CONF_BOOL, offsetof(struct gen, flag), 0, 1, 0, "yes", "a switch", NULL},
    {"ratio", CONF_DOUBLE, offsetof(struct gen, ratio), 0, 0, 1, "0.5", "a fraction", NULL},
    {"window", CONF_DURATION, offsetof(struct gen, window), 0, 1, 86400 * 7, "5m", "window", NULL},
    {"buffer", CONF_BYTES, offsetof(struct gen, buffer), 0, 1, 0, "4MiB", "buffer size", NULL},
    {"mode", CONF_CUSTOM, offsetof(struct gen, mode), 0, 1, 0, "fast", "fast or slow", parse_mode},
    {"nodef", CONF_STR, offsetof(struct gen, nodef), sizeof(((struct gen *)0)->nodef), 1, 0, NULL,
     "no default", NULL},
    {NULL, 0, 0, 0, 0, 0, NULL, NULL, NULL},
};

static const struct conf_key inst_keys[] = {
    {"weight", CONF_U32, offsetof(struct inst, weight), 0, 0, 100, "1", "weight", NULL},
    {"label", CONF_STR, offsetof(struct inst, label), sizeof(((struct inst *)0)->label), 1, 0,
     "a # b", "label with a hash", NULL},
    {NULL, 0, 0, 0, 0, 0, NULL, NULL, NULL},
};

static void *open_gen(void *cfg, const struct conf_section *sec, const char *arg, char *msg,
                      size_t msglen)
{
    struct cfg *c = cfg;
    return &c->gen;
}

static void *open_inst(void *cfg, const struct conf_section *sec, const char *arg, char *msg,
                       size_t msglen)
{
    struct cfg *c = cfg;
    for (int i = 0; i < c->ninst; i++) {
        if (strcmp(c->inst[i].arg, arg) == 0) {
            snprintf(msg, msglen, "defined twice");
            return NULL;
        }
    }
    if (c->ninst == 2) {
        snprintf(msg, msglen, "too many instances (at most 2)");
        return NULL;
    }
    struct inst *in = &c->inst[c->ninst++];
    if (conf_defaults(inst_keys, in) < 0)
        return NULL;
    snprintf(in->arg, sizeof in->arg, "%s", arg);
    return in;
}

static const struct conf_section sections[] __attribute__((unused)) = {
    {"general", false, gen_keys, open_gen, "General settings"},
    {"peer", true, inst_keys, open_inst, "One per peer"},
    {NULL, false, NULL, NULL, NULL},
};

#endif
