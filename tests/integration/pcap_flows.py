#!/usr/bin/env python3
"""Compare transitwatch's flow meter with nfdump's nfpcapd on the same captures.

Usage: pcap_flows.py TRANSITWATCH TMPDIR CAPTURE...   (prints a table, exits 1 on a mismatch)

Both meter the same packets with the same timeouts (nfpcapd -e ACTIVE,IDLE and [meter]
active_timeout / idle_timeout), longer than any capture here, because nfpcapd 1.7.1 only looks
at its timeouts after it has added the packet (so a packet after an idle gap still joins the old
flow) while ours ends the flow first. nfpcapd 1.7.1 (Debian's) also never ends a TCP flow at FIN
or RST; our meter does, so the exact comparison runs ours with [meter] tcp_end = no.
What must be equal, exactly:
  * packets and bytes in all (both count the IP length, not the captured length);
  * packets and bytes per 5-tuple (src, dst, sport, dport, proto; ICMP: dport = type << 8 | code);
  * the number of flows per 5-tuple, except for the two kinds of packet nfpcapd never
    aggregates (nfdump 1.7 src/nfpcapd/pcaproc.c: ProcessICMPFlow pushes every ICMP/ICMPv6
    packet out as a flow of its own, ProcessUDPFlow does the same for UDP port 53, to keep DNS
    payloads): there nfpcapd's flow count equals the packet count, which is what we check.
Fragmented datagrams: nfpcapd reassembles them and counts the datagram as one packet of the
whole IP length; our meter counts each fragment (a packet each, its own IP length), so for a
datagram of N fragments we have N - 1 more packets and (N - 1) * IP header length more bytes.
The script expects exactly that difference when told (CAPTURE@frag=PKTS,BYTES).
Then ours again with the default tcp_end = yes: packets and bytes per 5-tuple are unchanged, and
the only extra flows are TCP flows cut at a FIN/RST: every flow of a TCP 5-tuple except its last
must carry FIN or RST (the packets after it, e.g. the peer's last ACK or a retransmitted FIN,
start the next flow).
"""
import ipaddress
import json
import os
import subprocess
import sys

ACTIVE, IDLE = 3600, 3600


def norm(a):
    return str(ipaddress.ip_address(a))


def ours(tw, tmp, cap, tcp_end=False):
    conf = os.path.join(tmp, "meter.conf")
    with open(conf, "w") as f:
        f.write("[meter]\nidle_timeout = %ds\nactive_timeout = %ds\nroute = all-meter\n"
                "max_flows = 1000000\ntcp_end = %s\n" % (IDLE, ACTIVE, "yes" if tcp_end else "no"))
    log = os.path.join(tmp, "flows.jsonl")
    subprocess.run([tw, "replay", "-c", conf, "--no-summaries", "--no-progress", "--no-stats",
                    "--flows", log, cap], check=True, stdout=subprocess.DEVNULL)
    flows = []
    with open(log) as f:
        for line in f:
            r = json.loads(line)
            flows.append((norm(r["src"]), norm(r["dst"]), r["sport"], r["dport"], r["proto"],
                          r["packets"], r["bytes"], r["tcp_flags"], r["first"]))
    return flows


def nfpcapd(tmp, cap):
    d = os.path.join(tmp, "nfp")
    subprocess.run(["rm", "-rf", d], check=True)
    os.makedirs(d)
    subprocess.run(["nfpcapd", "-r", cap, "-w", d, "-e", "%d,%d" % (ACTIVE, IDLE)], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if not any(n.startswith("nfcapd.") for n in os.listdir(d)):
        return []
    out = subprocess.run(["nfdump", "-R", d, "-o", "json"], check=True, capture_output=True,
                         text=True, env=dict(os.environ, TZ="UTC")).stdout
    flows = []
    for r in json.loads(out or "[]"):
        if r.get("type") != "FLOW":
            continue
        src = r.get("src4_addr") or r.get("src6_addr")
        dst = r.get("dst4_addr") or r.get("dst6_addr")
        p = r["proto"]
        if p in (1, 58):
            sp, dp = 0, (r.get("icmp_type", 0) << 8) | r.get("icmp_code", 0)
        else:
            sp, dp = r.get("src_port", 0), r.get("dst_port", 0)
        flows.append((norm(src), norm(dst), sp, dp, p, r["in_packets"], r["in_bytes"]))
    return flows


def per_key(flows):
    d = {}
    for s, t, sp, dp, p, pk, by, *_ in flows:
        e = d.setdefault((s, t, sp, dp, p), [0, 0, 0])
        e[0] += 1
        e[1] += pk
        e[2] += by
    return d


def unaggregated(k):
    return k[4] in (1, 58) or (k[4] == 17 and (k[2] == 53 or k[3] == 53))


def compare(name, a, b, frag_extra):
    """a: ours, b: nfpcapd. frag_extra: (packets, bytes) we expect to have more (fragments)."""
    ka, kb = per_key(a), per_key(b)
    pa, ba = sum(f[5] for f in a), sum(f[6] for f in a)
    pb, bb = sum(f[5] for f in b), sum(f[6] for f in b)
    problems = []
    if (pa - pb, ba - bb) != frag_extra:
        problems.append("totals: ours %d pkts %d bytes, nfpcapd %d pkts %d bytes (expected "
                        "difference %s)" % (pa, ba, pb, bb, frag_extra))
    explained = 0
    for k in sorted(set(ka) | set(kb)):
        x, y = ka.get(k, [0, 0, 0]), kb.get(k, [0, 0, 0])
        if frag_extra == (0, 0) and x[1:] != y[1:]:
            problems.append("%s: ours %s nfpcapd %s" % (k, x, y))
            continue
        if unaggregated(k):
            explained += y[0] - x[0]
            if y[0] != y[1]:
                problems.append("%s: nfpcapd aggregated ICMP/DNS (%d flows, %d packets)"
                                % (k, y[0], y[1]))
        elif frag_extra == (0, 0) and x[0] != y[0]:
            problems.append("%s: ours %d flows, nfpcapd %d" % (k, x[0], y[0]))
    if frag_extra == (0, 0) and len(a) + explained != len(b):
        problems.append("flows: ours %d + %d explained != nfpcapd %d" % (len(a), explained, len(b)))
    print("| %-40s | %8d | %10d | %7d | %8d | %10d | %s |" % (
        name[-40:], pa, ba, len(a), len(b), explained,
        "ok" if not problems else "MISMATCH"))
    for p in problems[:10]:
        print("    " + p)
    return not problems


def check_tcp_end(name, plain, cut):
    """cut: ours with tcp_end = yes; plain: with tcp_end = no."""
    kp, kc = per_key(plain), per_key(cut)
    problems = []
    if {k: v[1:] for k, v in kp.items()} != {k: v[1:] for k, v in kc.items()}:
        problems.append("packets/bytes per 5-tuple change with tcp_end")
    byk = {}
    for f in cut:
        byk.setdefault(f[:5], []).append(f)
    extra = 0
    for k, fl in byk.items():
        fl.sort(key=lambda f: f[8])
        for f in fl[:-1]:
            if k[4] != 6 or not (f[7] & 0x05):
                problems.append("%s: a flow ended without FIN/RST: %s" % (k, f))
        extra += len(fl) - kp[k][0]
    print("    with tcp_end = yes: %d flows, %d more, each a TCP flow cut at FIN/RST: %s"
          % (len(cut), extra, "ok" if not problems else "MISMATCH"))
    for p in problems[:10]:
        print("    " + p)
    return not problems


def main():
    tw, tmp = sys.argv[1], sys.argv[2]
    ok = True
    print("| capture | packets | bytes | our flows | nfpcapd flows | ICMP/DNS per-packet flows "
          "(nfpcapd - ours) | result |")
    print("|---|---|---|---|---|---|---|")
    for arg in sys.argv[3:]:
        frag = (0, 0)
        cap = arg
        if "@frag=" in arg:  # CAPTURE@frag=PKTS,BYTES: expected extra packets/bytes
            cap, spec = arg.split("@frag=")
            frag = tuple(int(v) for v in spec.split(","))
        plain = ours(tw, tmp, cap)
        ok &= compare(os.path.basename(cap), plain, nfpcapd(tmp, cap), frag)
        ok &= check_tcp_end(os.path.basename(cap), plain, ours(tw, tmp, cap, tcp_end=True))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
