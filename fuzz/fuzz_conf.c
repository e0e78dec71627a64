/* fuzz_conf.c: conf_load_mem against a schema with every value type and an instance section. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "conf.h"

struct fz_gen {
    char name[16];
    uint64_t count;
    uint32_t port;
    bool flag;
    double ratio;
    uint64_t window;
    uint64_t buffer;
    int mode;
};

struct fz_inst {
    char arg[32];
    uint32_t weight;
};

struct fz_cfg {
    struct fz_gen gen;
    struct fz_inst inst[4];
    int ninst;
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int fz_mode(void *field, const char *value, char *msg, size_t msglen)
{
    int m = strcmp(value, "a") == 0 ? 1 : strcmp(value, "b") == 0 ? 2 : -1;
    if (m < 0) {
        snprintf(msg, msglen, "expected a or b");
        return -EINVAL;
    }
    memcpy(field, &m, sizeof(m));
    return 0;
}

static const struct conf_key fz_gen_keys[] = {
    {"name", CONF_STR, offsetof(struct fz_gen, name), sizeof(((struct fz_gen *)0)->name), 1, 0, "x",
     "name", NULL},
    {"count", CONF_U64, offsetof(struct fz_gen, count), 0, 1, 0, "1k", "count", NULL},
    {"port", CONF_U32, offsetof(struct fz_gen, port), 0, 1, 65535, "2055", "port", NULL},
    {"flag", CONF_BOOL, offsetof(struct fz_gen, flag), 0, 1, 0, "no", "flag", NULL},
    {"ratio", CONF_DOUBLE, offsetof(struct fz_gen, ratio), 0, 0, 1, "0.5", "ratio", NULL},
    {"window", CONF_DURATION, offsetof(struct fz_gen, window), 0, 1, 604800, "1m", "window", NULL},
    {"buffer", CONF_BYTES, offsetof(struct fz_gen, buffer), 0, 1, 0, "1MiB", "buffer", NULL},
    {"mode", CONF_CUSTOM, offsetof(struct fz_gen, mode), 0, 1, 0, "a", "mode", fz_mode},
    {NULL, 0, 0, 0, 0, 0, NULL, NULL, NULL},
};

static const struct conf_key fz_inst_keys[] = {
    {"weight", CONF_U32, offsetof(struct fz_inst, weight), 0, 0, 100, "1", "weight", NULL},
    {NULL, 0, 0, 0, 0, 0, NULL, NULL, NULL},
};

static void *fz_open_gen(void *cfg, const struct conf_section *sec, const char *arg, char *msg,
                         size_t msglen)
{
    return &((struct fz_cfg *)cfg)->gen;
}

static void *fz_open_inst(void *cfg, const struct conf_section *sec, const char *arg, char *msg,
                          size_t msglen)
{
    struct fz_cfg *c = cfg;
    if (c->ninst == 4) {
        snprintf(msg, msglen, "too many");
        return NULL;
    }
    struct fz_inst *in = &c->inst[c->ninst++];
    conf_defaults(fz_inst_keys, in);
    snprintf(in->arg, sizeof(in->arg), "%s", arg);
    return in;
}

static const struct conf_section fz_sections[] = {
    {"general", false, fz_gen_keys, fz_open_gen, "general"},
    {"peer", true, fz_inst_keys, fz_open_inst, "peer"},
    {NULL, false, NULL, NULL, NULL},
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fz_cfg cfg;
    struct conf_error err;
    memset(&cfg, 0, sizeof(cfg));
    if (conf_defaults(fz_gen_keys, &cfg.gen) < 0)
        __builtin_trap();
    int rc = conf_load_mem("fuzz", (const char *)data, size, fz_sections, &cfg, &err);
    if (rc < 0 && memchr(err.msg, '\0', sizeof(err.msg)) == NULL)
        __builtin_trap(); /* error text must stay terminated */
    if (rc == 0 && cfg.gen.ratio > 1.0)
        __builtin_trap(); /* bounds hold */
    return 0;
}
