/* fuzz_pcap: bytes -> capture_open_mem (fmemopen, or inflate for gzip) -> iterate ->
 * pkt_parse -> fragment reassembly. Seeds: fuzz/corpus/pcap (written by tests/gen). */
#include <stddef.h>
#include <stdint.h>

#include "capture.h"
#include "frag.h"
#include "pkt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct capture *c;
    struct capture_pkt p;
    struct frag_table *ft;
    struct frag_opts fo = {.max_datagrams = 8, .max_bytes = 256 * 1024};
    char err[256];
    int n;

    if (capture_open_mem(data, size, &c, err, sizeof(err)) < 0)
        return 0;
    if (frag_table_new(&fo, &ft) < 0) {
        capture_close(c);
        return 0;
    }
    for (n = 0; n < 100000 && capture_next(c, &p) == CAPTURE_PACKET; n++) {
        struct pkt_info pi;
        struct frag_datagram dg;
        int r = pkt_parse(p.linktype, p.data, p.caplen, p.wirelen, &pi);
        (void)pkt_err_name(r);
        if ((r == PKT_OK || r == PKT_ERR_TRUNCATED_L4 || r == PKT_ERR_BAD_L4_HEADER) &&
            pi.fragment && frag_input(ft, &pi, p.ts_ns, &dg) == 1) {
            volatile uint8_t sink = 0;
            uint32_t i;
            for (i = 0; i < dg.l4_len; i += 64) /* touch the reassembled data */
                sink ^= dg.l4[i];
            (void)sink;
        }
    }
    (void)capture_bytes_read(c);
    frag_table_free(ft);
    capture_close(c);
    return 0;
}
