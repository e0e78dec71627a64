#!/usr/bin/env python3
"""One host's day of UDP traceroutes to its peers (a looking glass, a NOC's monitoring node, a
measurement probe), written as a Zeek conn.log (TSV) for the log reader, from traceroute(8)'s
defaults, not from the detectors (RESULTS, sixty-eighth part):

  bench/eval/traceroute_log.py OUT [PEERS [PERIOD_S [SEED [scan]]]]

Every PERIOD_S (default 900) the host traces each of PEERS (default 12) peers: UDP probes from
one socket, three a hop with a rising TTL, each to the next destination port from 33434,
60-byte packets; the first hop is the customer's own router (its probes are not seen); each
router after answers time exceeded (ICMP 11/0), one in six says nothing; the peer, 8-19 hops
away, answers port unreachable (ICMP 3/3), or, firewalled (three in ten), nothing, and the trace
goes on to the 30th hop. With "scan", the host also probes 60 other UDP ports of one address
at 10:30 (unanswered): a port scan beside the traces. Host 100.64.0.10; replay with a
one-prefix map, e.g.
  echo "100.64.0.0/24,c1,Customer 1,64513" > cust.csv
  build/collector/transitwatch replay -C cust.csv -o alerts.json OUT
"""
import os
import random
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests",
                                "integration"))
from flowlog_gen import write_zeek_tsv  # noqa: E402

HOST = "100.64.0.10"
T0 = 1312970400.0
DAY = 86400.0


def addr(r):
    return "%d.%d.%d.%d" % (r.choice([23, 31, 45, 62, 77, 81, 88, 93, 109, 141, 151, 176, 185, 193,
                                      212, 217]), r.randint(0, 255), r.randint(0, 255),
                            r.randint(1, 254))


def main(out, peers, period, seed, scan):
    r = random.Random(seed)
    cs = []

    def one(ts, src, sp, dst, dp, proto, size):
        cs.append(dict(ts=ts, o=src, op=sp, r=dst, rp=dp, proto=proto, dur=0.0, ob=size - 28,
                       rb=0, state="S0" if proto == "udp" else "OTH", hist="D" if proto == "udp"
                       else "-", opk=1, oib=size, rpk=0, rib=0))

    shared = [addr(r) for _ in range(4)]  # the transit provider's routers, on every path
    paths = []
    for _ in range(peers):
        dist = r.randint(8, 19)
        hops = shared[:3] + [addr(r) for _ in range(dist)]
        paths.append(dict(peer=addr(r), dist=dist, quiet=r.random() < 0.3, hops=hops,
                          silent={h for h in range(2, dist) if r.random() < 1 / 6},
                          off=r.uniform(0, period)))
    for p in paths:
        t = T0 + p["off"]
        while t < T0 + DAY:
            sp, port = r.randint(32768, 60999), 33434 + 3
            last = 30 if p["quiet"] else p["dist"]
            for hop in range(2, last + 1):
                for q in range(3):
                    at = t + (hop - 2) * 0.003 + q * 0.001
                    one(at, HOST, sp, p["peer"], port, "udp", 60)
                    if hop < p["dist"] and hop not in p["silent"]:
                        one(at + 0.002 * hop, p["hops"][hop - 2], 11, HOST, 0, "icmp", 56)
                    elif hop == p["dist"] and not p["quiet"]:
                        one(at + 0.002 * hop, p["peer"], 3, HOST, 3, "icmp", 56)
                    port += 1
            t += period
    if scan:
        target = addr(r)
        for k in range(60):
            one(T0 + 1800 + k * 0.5, HOST, 41999, target, 1000 + 7 * k, "udp", 40)
    cs.sort(key=lambda c: c["ts"] + c["dur"])
    write_zeek_tsv(out, cs)


if __name__ == "__main__":
    a = sys.argv[1:]
    if not 1 <= len(a) <= 5 or (len(a) == 5 and a[4] != "scan"):
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    main(a[0], int(a[1]) if len(a) > 1 else 12, float(a[2]) if len(a) > 2 else 900.0,
         int(a[3]) if len(a) > 3 else 1, len(a) == 5)
