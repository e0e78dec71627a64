#!/usr/bin/env python3
"""Write a GoFlow2 record file (varint length + FlowMessage, as `replay --write-goflow2` writes
it) again in another interleaving of its hosts' records (interleave.sh). Standard library only.

  interleave.py IN OUT CUSTOMERS.csv WINDOW_S LATENESS_S SEED

Every record keeps its place relative to the other records of each of its inside hosts (an
address in a customer's prefix, or the record's address on the side whose AS number is a
customer's), and nothing crosses a window close: the records between two closes (the pipeline's
rule, collector/windows.c win_advance: a record whose end is `lateness` past the open window's end
closes it before it is taken) are merged again at random, seeded, from their hosts' queues: a
record of two inside hosts goes out once it heads both. What may change is only the order between
different hosts' records, which no host's alerts may depend on (detectors/det_scan.c: "Everything
a host's alerts depend on is in its own records' order and the window closes").
Prints the records, the windows and how many records moved.
"""
import ipaddress
import os
import random
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from goflow2file import messages, varint  # noqa: E402


def fields(msg):
    """The FlowMessage fields interleave.py needs: addresses (6, 7), AS numbers (14, 15), the
    flow's end, start and the time received (112, 111, 110; ns)."""
    out, i = {}, 0
    while i < len(msg):
        key, i = varint(msg, i)
        num, wt = key >> 3, key & 7
        if wt == 0:
            v, i = varint(msg, i)
        elif wt == 2:
            n, i = varint(msg, i)
            v, i = msg[i:i + n], i + n
        elif wt == 1:
            v, i = int.from_bytes(msg[i:i + 8], "little"), i + 8
        elif wt == 5:
            v, i = int.from_bytes(msg[i:i + 4], "little"), i + 4
        else:
            raise ValueError(f"wire type {wt}")
        out[num] = v
    return out


def main():
    src, dst, csv, window_s, lateness_s, seed = sys.argv[1:7]
    window, lateness = int(window_s) * 1000, int(lateness_s) * 1000
    nets, asns = {}, set()  # nets: (address length in bytes, prefix length) -> their networks
    for line in open(csv):
        if line.startswith("#") or line.startswith("prefix,"):
            continue
        parts = line.strip().split(",")
        net = ipaddress.ip_network(parts[0])
        nets.setdefault((net.max_prefixlen // 8, net.prefixlen), set()).add(
            int(net.network_address) >> (net.max_prefixlen - net.prefixlen))
        if len(parts) > 3 and parts[3]:
            asns.add(int(parts[3]))
    recs = list(messages(open(src, "rb").read()))

    def inside(f, addr_field, as_field):
        a = f.get(addr_field)
        if not a:
            return None
        a = bytes(a)
        if a[:12] == b"\0" * 10 + b"\xff\xff":
            a = a[12:]  # IPv4-mapped
        ip = int.from_bytes(a, "big")
        if f.get(as_field, 0) in asns or any(
                ip >> (8 * ln - plen) in s for (ln, plen), s in nets.items() if ln == len(a)):
            return a
        return None

    keyed = []  # (raw, hosts, end_ms)
    for raw, msg in recs:
        f = fields(msg)
        hosts = {h for h in (inside(f, 6, 14), inside(f, 7, 15)) if h}
        end = f.get(112) or f.get(111) or f.get(110) or 0
        keyed.append((raw, hosts, end // 1000000))

    # the segments: a window close happens before the record that causes it (which stays first)
    segs, cur, win_start, max_seen = [], [], None, 0
    for k in keyed:
        end = k[2]
        if win_start is None:
            win_start = end // window * window
        max_seen = max(max_seen, end)
        closes = False
        while max_seen >= lateness and max_seen - lateness >= win_start + window:
            win_start += window
            closes = True
        if closes and cur:
            segs.append(cur)
            cur = []
        cur.append(k)
    if cur:
        segs.append(cur)

    rng = random.Random(int(seed))
    out, moved = [], 0
    for seg in segs:
        rest = seg[1:]
        # each record's queues: its inside hosts' (a record of none is a queue of its own)
        keys = [sorted(k[1]) or [("free", idx)] for idx, k in enumerate(rest)]
        queues = {}
        for idx, ks in enumerate(keys):
            for h in ks:
                queues.setdefault(h, []).append(idx)
        pos = {h: 0 for h in queues}
        order = [seg[0]]
        queued = set()
        ready = []  # records heading all their queues (a list: the seeded choice is repeatable)

        def check(idx):  # once a record heads every queue it is in (twice for two hosts)
            if idx not in queued and all(queues[h][pos[h]] == idx for h in keys[idx]):
                queued.add(idx)
                ready.append(idx)

        for h in queues:
            check(queues[h][0])
        taken = 0
        while ready:
            j = rng.randrange(len(ready))
            ready[j], ready[-1] = ready[-1], ready[j]
            idx = ready.pop()
            order.append(rest[idx])
            moved += idx != taken
            taken += 1
            for h in keys[idx]:
                pos[h] += 1
                if pos[h] < len(queues[h]):
                    check(queues[h][pos[h]])
        if len(order) != len(seg):
            raise SystemExit("interleave.py: a record never headed its queues (a bug)")
        out.extend(order)
    with open(dst, "wb") as f:
        for raw, _, _ in out:
            f.write(raw)
    print(f"interleave: {len(keyed)} records, {len(segs)} windows, {moved} taken out of order")


if __name__ == "__main__":
    main()
