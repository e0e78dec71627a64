#!/usr/bin/env python3
"""One monitoring host's day of service checks, written as a Zeek conn.log (TSV) for the log
reader, from how Nagios/Icinga (NRPE, check_by_ssh) and Zabbix (passive items) poll, not from
the detectors (RESULTS, sixty-ninth part):

  bench/eval/monitor_log.py OUT [SERVERS [CHECKS [PORT [SEED]]]]

The host (100.64.0.10) polls SERVERS (default 20) servers outside its customer, CHECKS (default
6) checks on each, every check every 5 minutes at its own offset in the interval (the
scheduler spreads them), started within 2 s of its time (scheduler latency); each check is one
TCP connection to PORT (default 5666, NRPE; 22: check_by_ssh) from a new ephemeral port:
handshake, key exchange or TLS, the command, its short output, close (about 20 packets each
way, 3-5 kB, 0.1-1 s). Replay with a one-prefix map, e.g.
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
INTERVAL = 300.0


def main(out, servers, checks, port, seed):
    r = random.Random(seed)
    cs = []
    for s in range(servers):
        srv = "198.51.%d.%d" % (100 + s // 200, 1 + s % 200)
        rtt = r.uniform(0.005, 0.08)
        for c in range(checks):
            output = r.choice([60, 90, 150, 250, 400])
            t = T0 + r.uniform(0, INTERVAL)
            while t < T0 + DAY:
                at = t + r.uniform(0, 2)
                opk, rpk = r.randint(18, 22), r.randint(15, 19)
                oib = 3300 + r.randint(0, 200) + (opk - 20) * 52
                rib = 4300 + output + r.randint(0, 150)
                cs.append(dict(ts=at, o=HOST, op=r.randint(32768, 60999), r=srv, rp=port, proto="tcp",
                               dur=8 * rtt + r.uniform(0.05, 0.6), ob=oib - 52 * opk, rb=rib - 52 * rpk,
                               state="SF", hist="ShAdDaFf", opk=opk, oib=oib, rpk=rpk, rib=rib))
                t += INTERVAL
    cs.sort(key=lambda c: c["ts"] + c["dur"])
    write_zeek_tsv(out, cs)


if __name__ == "__main__":
    a = sys.argv[1:]
    if not 1 <= len(a) <= 5:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    main(a[0], int(a[1]) if len(a) > 1 else 20, int(a[2]) if len(a) > 2 else 6,
         int(a[3]) if len(a) > 3 else 5666, int(a[4]) if len(a) > 4 else 1)
