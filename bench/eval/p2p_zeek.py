#!/usr/bin/env python3
"""One BitTorrent client with the DHT for 24 h as a Zeek conn.log (TSV), written from BEP 5 and
the clients' default ports, not from the detectors (RESULTS, sixty-sixth part):

  bench/eval/p2p_zeek.py OUT UNANSWERED TORRENTS SEED [SCAN_PER_HOUR]

Host 100.64.0.10: 250 routing-table nodes pinged once in every quarter hour (a tenth replaced
each quarter, UNANSWERED/2 of the pings unanswered); per torrent and quarter hour a lookup to
30-60 new nodes (UDP, UNANSWERED unanswered) and TCP connections to 10-30 peers found (as many
unanswered), all at the peers' ports (6 % 51413, 5 % 6881, 2 % 6882-6889, 1 % 8999, else
random). SCAN_PER_HOUR > 0 adds a telnet sweep of that many addresses an hour, 10:00-13:00
after the start, 95 % unanswered. Replay with a one-prefix map, e.g.
  echo "100.64.0.0/24,c1,Customer 1,64513" > cust.csv
  build/collector/transitwatch replay -C cust.csv -o alerts.json OUT
"""
import os
import random
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests",
                                "integration"))
from flowlog_gen import write_zeek_tsv  # noqa: E402

FIRST = [24, 31, 37, 46, 62, 77, 78, 79, 81, 82, 83, 85, 86, 87, 88, 89, 90, 91, 92, 93, 94, 95,
         109, 176, 178, 185, 188, 212, 213, 217]
HOST = "100.64.0.10"
T0 = 1312970400.0


def main(out, q, ntor, seed, scan):
    r = random.Random(seed)

    def port():
        x = r.random()
        if x < 0.06:
            return 51413
        if x < 0.11:
            return 6881
        if x < 0.13:
            return r.randint(6882, 6889)
        if x < 0.14:
            return 8999
        return r.randint(1024, 65535)

    def addr():
        return "%d.%d.%d.%d" % (r.choice(FIRST), r.randint(0, 255), r.randint(0, 255),
                                r.randint(1, 254))

    cs = []

    def udp(ts, dst, dp, ok):
        if ok:
            cs.append(dict(ts=ts, o=HOST, op=51413, r=dst, rp=dp, proto="udp", dur=0.08, ob=95,
                           rb=310, state="SF", hist="Dd", opk=1, oib=123, rpk=1, rib=338,
                           astate="CON"))
        else:
            cs.append(dict(ts=ts, o=HOST, op=51413, r=dst, rp=dp, proto="udp", dur=0.0, ob=95,
                           rb=0, state="S0", hist="D", opk=1, oib=123, rpk=0, rib=0, astate="INT"))

    def tcp(ts, dst, dp, ok):
        if ok:
            cs.append(dict(ts=ts, o=HOST, op=r.randint(32768, 60999), r=dst, rp=dp, proto="tcp",
                           dur=40.0, ob=3000, rb=900000, state="SF", hist="ShADadFf", opk=300,
                           oib=15000, rpk=650, rib=930000, astate="FSPA_FSPA"))
        else:
            cs.append(dict(ts=ts, o=HOST, op=r.randint(32768, 60999), r=dst, rp=dp, proto="tcp",
                           dur=0.0, ob=0, rb=0, state="S0", hist="S", opk=2, oib=120, rpk=0,
                           rib=0, astate="S_"))

    table = [(addr(), port()) for _ in range(250)]
    for slot in range(96):
        ts0 = T0 + slot * 900
        for (a, p) in table:
            udp(ts0 + r.uniform(0, 900), a, p, r.random() > q * 0.5)
        for _ in range(len(table) // 10):
            table[r.randrange(len(table))] = (addr(), port())
        for _ in range(ntor):
            ts = ts0 + r.uniform(0, 890)
            for k in range(r.randint(30, 60)):
                udp(ts + k * 0.2, addr(), port(), r.random() > q)
            for k in range(r.randint(10, 30)):
                tcp(ts + 5 + k * 0.5, addr(), port(), r.random() > q)
    for k in range(scan * 3):
        ts = T0 + 7200 + k * 3600.0 / scan
        dst = "%d.%d.%d.%d" % (r.randint(1, 223), r.randint(0, 255), r.randint(0, 255),
                               r.randint(1, 254))
        tcp(ts, dst, 23, r.random() > 0.95)
    cs.sort(key=lambda c: c["ts"] + c["dur"])
    write_zeek_tsv(out, cs)


if __name__ == "__main__":
    if len(sys.argv) not in (5, 6):
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    main(sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]),
         int(sys.argv[5]) if len(sys.argv) == 6 else 0)
