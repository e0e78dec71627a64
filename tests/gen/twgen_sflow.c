/* twgen_sflow.c: the sFlow fuzz seeds (see twgen_sflow.h). */
#include "twgen_sflow.h"

#include <stdio.h>
#include <string.h>

#include "gen_pcap.h"
#include "gen_sflow.h"

static int write_file(const char *dir, const char *name, const uint8_t *p, int n)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f || n < 0 || fwrite(p, 1, (size_t)n, f) != (size_t)n) {
        fprintf(stderr, "twgen sflow-corpus: cannot write %s\n", path);
        if (f)
            fclose(f);
        return -1;
    }
    return fclose(f) == 0 ? 0 : -1;
}

int twgen_sflow_corpus_main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: twgen sflow-corpus DIR\n");
        return 2;
    }
    static const struct {
        const char *name;
        bool v6, vxlan, sampled_ip, expanded, counters;
        uint16_t vlan;
    } seeds[] = {
        {"v4-raw", false, false, false, false, false, 0},
        {"v6-raw-expanded", true, false, false, true, false, 0},
        {"v4-vlan-gateway", false, false, false, false, false, 100},
        {"v6-vxlan", true, true, false, false, false, 0},
        {"v4-sampled-ip", false, false, true, true, false, 0},
        {"counters", false, false, false, false, true, 0},
    };
    uint8_t agent[16], buf[4096];
    gen_addr4(agent, 10, 0, 0, 1);
    for (size_t i = 0; i < sizeof seeds / sizeof seeds[0]; i++) {
        struct gen_sflow m;
        gen_sflow_begin(&m, buf, sizeof buf, agent, (uint32_t)i, 1, 1000);
        struct gen_flow f;
        gen_flow_fill(&f, 10, (uint32_t)i, seeds[i].v6, 1700000000000ull);
        struct gen_sflow_opts o = {.rate = 1000,
                                   .in_if = 3,
                                   .out_if = 4,
                                   .ip_len = 1200,
                                   .vlan = seeds[i].vlan,
                                   .vxlan = seeds[i].vxlan,
                                   .sampled_ip = seeds[i].sampled_ip,
                                   .expanded = seeds[i].expanded,
                                   .src_as = seeds[i].vlan ? 65001 : 0,
                                   .dst_as = seeds[i].vlan ? 65002 : 0};
        if (seeds[i].counters) {
            struct gen_sflow_iface ifc = {.ifindex = 3, .speed = 1000000000, .in_octets = 5};
            gen_sflow_counters(&m, &ifc);
        } else {
            gen_sflow_flow(&m, &f, &o);
            gen_sflow_flow(&m, &f, &o);
        }
        if (write_file(argv[1], seeds[i].name, buf, gen_sflow_end(&m)) < 0)
            return 1;
    }
    return 0;
}
