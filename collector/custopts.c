/* custopts.c: per-customer detector options (see pipeline_int.h). A customer's [customer ID]
 * section overrides some options of some detectors; each such customer gets its own copy of
 * those detectors' option structs, resolved once whenever a customer map or a reloaded
 * settings file comes in, so a detector finds the options in force by index (p->confs,
 * det_confs_get: inline, no call per record), without parsing or locking, on any worker thread
 * (the structs are immutable while records flow: they are replaced only after wk_quiesce). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline_int.h"

const void *copt_conf_named(void *arg, const char *name, uint32_t customer)
{
    struct pipeline *p = arg;
    for (size_t d = 0; d < p->ndet; d++)
        if (strcmp(p->ops[d]->name, name) == 0)
            return det_confs_get(&p->confs, d, customer);
    const struct settings *s = p->ov ? p->ov : p->s; /* not enabled: its section as read */
    for (size_t i = 0; i < det_registry_count && i < SETTINGS_MAX_DETECTORS; i++)
        if (strcmp(det_registry[i]->name, name) == 0)
            return s->det_conf[i];
    return NULL;
}

void copt_free(void **cc, size_t n)
{
    if (!cc)
        return;
    for (size_t i = 0; i < n; i++)
        free(cc[i]);
    free(cc);
}

int copt_build(struct pipeline *p, const struct customer_map *m, void ***out, size_t *nout)
{
    *out = NULL;
    *nout = 0;
    const struct settings *ov = p->ov ? p->ov : p->s;
    if (!ov->noverrides || !p->ndet)
        return 0;
    size_t n = customers_count(m) + 1;
    void **cc = calloc(n * p->ndet, sizeof *cc);
    if (!cc)
        return -ENOMEM;
    for (size_t c = 1; c < n; c++) {
        const struct customer *cu = customers_get(m, (uint32_t)c);
        if (!cu || !settings_has_overrides(ov, cu->id))
            continue;
        for (size_t d = 0; d < p->ndet; d++) {
            void *blob = malloc(p->ops[d]->conf_size ? p->ops[d]->conf_size : 1);
            if (!blob) {
                copt_free(cc, n * p->ndet);
                return -ENOMEM;
            }
            if (settings_det_conf_for(ov, p->det_reg[d], cu->id, blob) > 0)
                cc[c * p->ndet + d] = blob;
            else
                free(blob);
        }
    }
    *out = cc;
    *nout = n;
    return 0;
}

void copt_swap(struct pipeline *p, void **cc, size_t n)
{
    copt_free(p->cust_conf, p->ncust_conf * p->ndet);
    p->cust_conf = cc;
    p->ncust_conf = n;
    /* after a reload, thresholds come from the reloaded file (capacities were fixed at init) */
    for (size_t d = 0; d < p->ndet; d++)
        p->conf_dflt[d] = p->ov ? p->ov->det_conf[p->det_reg[d]] : p->det_conf[d];
    p->confs = (struct det_confs){
        .cust = (const void *const *)cc,
        .ncust = cc ? n : 0,
        .ndet = p->ndet,
        .dflt = p->conf_dflt,
        .gen = p->confs.gen + 1,
    };
}
