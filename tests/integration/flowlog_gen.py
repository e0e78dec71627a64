#!/usr/bin/env python3
"""Write one set of connections as a Zeek conn.log (TSV), a Zeek JSON log and an Argus
binetflow (CTU-13 columns), for the flow-log tests (standard library only, deterministic).

  flowlog_gen.py OUTDIR

Connections (2011-08-10 from 10:00 UTC): inside host 100.64.0.10 sweeps TCP/23 of 2000
addresses in 200 s, unanswered (Zeek S0 / Argus S_), 5 % refused (REJ / S_RA); inside host
100.64.0.20 makes 40 answered HTTPS connections and DNS lookups; an outside host pings
100.64.0.30 (ICMP echo, answered).
"""
import json
import os
import random
import sys
from datetime import datetime, timezone

FIELDS = ["ts", "uid", "id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p", "proto", "service",
          "duration", "orig_bytes", "resp_bytes", "conn_state", "local_orig", "local_resp",
          "missed_bytes", "history", "orig_pkts", "orig_ip_bytes", "resp_pkts", "resp_ip_bytes",
          "tunnel_parents"]
TYPES = ["time", "string", "addr", "port", "addr", "port", "enum", "string", "interval", "count",
         "count", "string", "bool", "bool", "count", "string", "count", "count", "count", "count",
         "set[string]"]


def conns():
    r = random.Random(11)
    t0 = 1312970400.0
    out = []
    for i in range(2000):
        ts = t0 + i * 0.1
        dst = "198.51.%d.%d" % (i // 250, 1 + i % 250)
        if i % 20 == 0:
            out.append(dict(ts=ts, o="100.64.0.10", op=40000 + i % 20000, r=dst, rp=23, proto="tcp",
                            dur=0.0003, ob=0, rb=0, state="REJ", hist="Sr", opk=1, oib=44, rpk=1,
                            rib=40, astate="S_R"))
        else:
            out.append(dict(ts=ts, o="100.64.0.10", op=40000 + i % 20000, r=dst, rp=23, proto="tcp",
                            dur=0.0, ob=0, rb=0, state="S0", hist="S", opk=1, oib=44, rpk=0, rib=0,
                            astate="S_"))
    for i in range(40):
        ts = t0 + 5 + i * 7.3
        out.append(dict(ts=ts, o="100.64.0.20", op=50000 + i, r="203.0.113.%d" % (1 + i % 5), rp=443,
                        proto="tcp", dur=1.25, ob=517, rb=4200, state="SF", hist="ShADadFf", opk=8,
                        oib=937, rpk=7, rib=4564, astate="FSPA_FSPA"))
        out.append(dict(ts=ts - 0.05, o="100.64.0.20", op=30000 + i, r="203.0.113.53", rp=53,
                        proto="udp", dur=0.02, ob=40, rb=120, state="SF", hist="Dd", opk=1, oib=68,
                        rpk=1, rib=148, astate="CON"))
    for i in range(10):
        out.append(dict(ts=t0 + 20 + i, o="192.0.2.77", op=8, r="100.64.0.30", rp=0, proto="icmp",
                        dur=0.001, ob=56, rb=56, state="OTH", hist="-", opk=1, oib=84, rpk=1, rib=84,
                        astate="ECO"))
    out.sort(key=lambda c: c["ts"] + c["dur"])  # both tools write a connection when it ends
    return out


def write_zeek_tsv(path, cs):
    """cs: connections as conns() makes them (keys ts o op r rp proto dur ob rb state hist opk
    oib rpk rib); written as a Zeek conn.log with the ASCII writer's header. Also used by
    bruteforce_gen.py."""
    with open(path, "w") as f:
        f.write("#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n"
                "#path\tconn\n#open\t2011-08-10-10-00-00\n")
        f.write("#fields\t" + "\t".join(FIELDS) + "\n#types\t" + "\t".join(TYPES) + "\n")
        for k, c in enumerate(cs):
            dur = "%.6f" % c["dur"] if c["dur"] else "-"
            f.write("\t".join(str(x) for x in [
                "%.6f" % c["ts"], "C%06d" % k, c["o"], c["op"], c["r"], c["rp"], c["proto"], "-", dur,
                c["ob"], c["rb"], c["state"], "-", "-", 0, c["hist"], c["opk"], c["oib"], c["rpk"],
                c["rib"], "-"]) + "\n")
        f.write("#close\t2011-08-10-11-00-00\n")


def main(outdir):
    cs = conns()
    write_zeek_tsv(os.path.join(outdir, "conn.log"), cs)
    with open(os.path.join(outdir, "conn.json"), "w") as f:
        for k, c in enumerate(cs):
            o = {"ts": c["ts"], "uid": "C%06d" % k, "id.orig_h": c["o"], "id.orig_p": c["op"],
                 "id.resp_h": c["r"], "id.resp_p": c["rp"], "proto": c["proto"],
                 "duration": c["dur"], "orig_bytes": c["ob"], "resp_bytes": c["rb"],
                 "conn_state": c["state"], "missed_bytes": 0, "orig_pkts": c["opk"],
                 "orig_ip_bytes": c["oib"], "resp_pkts": c["rpk"], "resp_ip_bytes": c["rib"],
                 "tunnel_parents": []}
            if c["hist"] != "-":
                o["history"] = c["hist"]
            if not c["dur"]:
                del o["duration"]
            f.write(json.dumps(o, separators=(",", ":")) + "\n")
    with open(os.path.join(outdir, "ctu.binetflow"), "w") as f:
        f.write("StartTime,Dur,Proto,SrcAddr,Sport,Dir,DstAddr,Dport,State,sTos,dTos,TotPkts,"
                "TotBytes,SrcBytes,SrcPkts,Label\n")
        for c in sorted(cs, key=lambda c: c["ts"]):  # ra prints by start time
            st = datetime.fromtimestamp(c["ts"], timezone.utc).strftime("%Y/%m/%d %H:%M:%S.%f")
            sp, dp = (c["op"], c["rp"]) if c["proto"] != "icmp" else ("0x%04x" % c["op"], "0x1234")
            f.write("%s,%.6f,%s,%s,%s,  ->,%s,%s,%s,0,0,%d,%d,%d,%d,flow=test\n" % (
                st, c["dur"], c["proto"], c["o"], sp, c["r"], dp, c["astate"], c["opk"] + c["rpk"],
                c["oib"] + c["rib"], c["oib"], c["opk"]))


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    main(sys.argv[1])
