/* fuzz_pkt: the first byte picks the link type, the rest is one captured frame for pkt_parse.
 * Checks that every pointer it returns stays inside the frame. Seeds: fuzz/corpus/pkt. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "pkt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const int links[] = {
    PKT_LINK_EN10MB, PKT_LINK_LINUX_SLL, PKT_LINK_LINUX_SLL2, PKT_LINK_RAW,  PKT_LINK_RAW_LT,
    PKT_LINK_IPV4,   PKT_LINK_IPV6,      PKT_LINK_NULL,       PKT_LINK_LOOP, 147,
};

static void inside(const uint8_t *p, uint32_t n, const uint8_t *f, size_t fl)
{
    if (p && (p < f || p + n > f + fl))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct pkt_info pi;
    const uint8_t *f;
    size_t fl;
    int r;

    if (size < 1)
        return 0;
    f = data + 1;
    fl = size - 1;
    r = pkt_parse(links[data[0] % (sizeof(links) / sizeof(links[0]))], f, (uint32_t)fl,
                  (uint32_t)fl + (data[0] >> 4) * 100u, &pi);
    (void)pkt_err_name(r);
    inside(pi.l3, pi.l3_caplen, f, fl);
    inside(pi.l4, pi.l4_caplen, f, fl);
    inside(pi.l4_payload, pi.l4_payload_caplen, f, fl);
    inside(pi.frag_data, pi.frag_data_caplen, f, fl);
    if (pi.l4_payload_caplen > pi.l4_payload_len)
        abort();
    return 0;
}
