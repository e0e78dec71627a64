#!/usr/bin/env python3
"""Build a mix of customers from the real captures in the shared test data (issue 11 item 7):
infected hosts re-addressed into one customer, benign hosts into others, every capture's time
shifted so that they all start together; writes the merged capture, the customer map and the
ground truth (score.py's format: one line per labelled host, one per customer with "hostile").

usage: mix.py --testdata DIR --out DIR [--start UNIX_SECONDS] [--copies N]

Which host goes where (MIX below) comes from ../shared/testdata/README.md section 2:
  infected (100.70.0.0/24), a hosting customer with several compromised servers: each infected
      capture's infected host placed at N addresses (--copies, default 5): the TLS beacon of
      test-cc-capture-2 (147.32.80.37) at 100.70.0.10-14, the ICMP sweeper of
      test12-icmp-portscan (192.168.1.109) at .20-24, the SSH brute-forcer of
      malicious-ssh-bruteforce (147.32.80.40) at .30-34. Copy k holds the packets to and from
      the infected host only, k x 3 s later (machines are not infected at one instant), so the
      benign hosts they talk to see several infected clients (the beacons' resolver, the
      brute force's target, the swept hosts) while their own other traffic is there once. A
      customer's hostile share is judged only from min_active (10) active hosts and min_hosts
      (3) hostile ones on: one infected host per capture, 3 hosts, could never be condemned
      (nor would a real hosting customer be, on so few);
  office (100.71.0.0/24): the brute force's target (147.32.80.37 in that capture, attacked from
      outside) and the resolver the infected host of test-cc-capture-2 asks (147.32.80.9);
  home (100.72.0.0/24): the hosts that answered the ICMP sweep, and the ARP-scanning host of
      test8-malicious (layer 2 only: invisible to flows).
The sweep's targets that did not answer keep their addresses (outside every customer); the
answering ones are home's, so the sweep crosses from one customer to another (the pipeline
judges records between customers from both ends). Every other address keeps its value
(outside every customer). Standard library only. IPv4 in Ethernet frames is re-addressed with
fresh IP, TCP and UDP checksums; other frames (ARP, IPv6) are copied unchanged. Prints a
summary; exits 1 when a capture is missing.
"""
import json
import os
import struct
import sys

CUSTOMERS = [
    ("100.70.0.0/24", "infected", "Infected hosts - real captures", True),
    ("100.71.0.0/24", "office", "Office - real captures - benign", False),
    ("100.72.0.0/24", "home", "Home network - real captures - benign", False),
]
SWEEP_ANSWERED = ["192.168.1.1", "192.168.1.100", "192.168.1.101", "192.168.1.102", "192.168.1.110",
                  "192.168.1.117", "192.168.1.120", "192.168.1.130", "192.168.1.131", "192.168.1.171",
                  "192.168.1.192"]
# capture -> {original address: (new address, customer, label, detector or None for benign, also)};
# an infected host's new address is the first of its copies (see infected_copies)
MIX = {
    "pcap/stratosphere-slips/test-cc-capture-2.pcap": {
        "147.32.80.37": ("100.70.0.10", "infected", "beacon_tls_c2", "beacon", []),
        "147.32.80.9": ("100.71.0.53", "office", "resolver", None, []),
    },
    "pcap/stratosphere-slips/test12-icmp-portscan.pcap": dict(
        {"192.168.1.109": ("100.70.0.20", "infected", "scan_icmp", "scan", [])},
        **{a: ("100.72.0.%d" % (10 + i), "home", "answered_icmp_sweep", None, [])
           for i, a in enumerate(SWEEP_ANSWERED)}),
    "pcap/stratosphere-slips/malicious-ssh-bruteforce.pcap": {
        "147.32.80.40": ("100.70.0.30", "infected", "ssh_bruteforce", "bruteforce", []),
        "147.32.80.37": ("100.71.0.22", "office", "attacked_from_outside", None, []),
    },
    "pcap/stratosphere-slips/test8-malicious.pcap": {
        "192.168.1.247": ("100.72.0.50", "home", "arp_scan_layer2_only", None, []),
    },
}
COPY_SHIFT_US = 3000000  # copy k of an infected host starts k x 3 s later


def infected_copies(amap, copies):
    """The capture's address maps, one per copy: copy k moves the infected host to its k-th
    address (the first one's last byte + k); the other hosts keep theirs."""
    inf = [o for o, v in amap.items() if v[3] is not None]
    maps = [amap]
    for k in range(1, copies if inf else 1):
        m = dict(amap)
        for o in inf:
            new, cid, label, det, also = amap[o]
            a, b, c, d = new.split(".")
            m[o] = ("%s.%s.%s.%d" % (a, b, c, int(d) + k), cid, label, det, also)
        maps.append(m)
    return inf, maps


def endpoints(frame):
    """The IPv4 source and destination of an Ethernet frame, or None."""
    if len(frame) < 34 or frame[12:14] != b"\x08\x00" or frame[14] >> 4 != 4:
        return None
    return "%d.%d.%d.%d" % tuple(frame[26:30]), "%d.%d.%d.%d" % tuple(frame[30:34])


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def aton(a):
    return bytes(int(x) for x in a.split("."))


PCAP_MAGICS = (0xA1B2C3D4, 0xA1B23C4D, 0xD4C3B2A1, 0x4D3CB2A1)  # us and ns, both byte orders


def pcap_link(path):
    """The link type of classic pcap path, or None when it is not one (pcapng, a log)."""
    with open(path, "rb") as f:
        hdr = f.read(24)
    if len(hdr) < 24 or struct.unpack("<I", hdr[:4])[0] not in PCAP_MAGICS:
        return None
    e = "<" if struct.unpack("<I", hdr[:4])[0] in (0xA1B2C3D4, 0xA1B23C4D) else ">"
    return struct.unpack(e + "I", hdr[20:24])[0]


def read_pcap(path, links=(1,)):
    """(time in us, frame, original length) of each packet of classic pcap path."""
    with open(path, "rb") as f:
        hdr = f.read(24)
        magic = struct.unpack("<I", hdr[:4])[0]
        e = "<" if magic in (0xA1B2C3D4, 0xA1B23C4D) else ">"
        nano = magic in (0xA1B23C4D, 0x4D3CB2A1)
        if struct.unpack(e + "I", hdr[20:24])[0] not in links:
            raise SystemExit("mix: %s: only Ethernet captures" % path)
        while True:
            ph = f.read(16)
            if len(ph) < 16:
                return
            sec, frac, incl, orig = struct.unpack(e + "IIII", ph)
            data = f.read(incl)
            yield sec * 1000000 + (frac // 1000 if nano else frac), data, orig


def write_pcap(path, packets, link=1):
    """A classic pcap (microseconds) of (time in us, frame, original length) packets."""
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, link))
        for ts, data, orig in packets:
            f.write(struct.pack("<IIII", ts // 1000000, ts % 1000000, len(data), max(orig, len(data))) + data)


def readdress(frame, amap):
    """Ethernet/IPv4 frame with src/dst mapped; checksums redone when the packet is whole."""
    if len(frame) < 34 or frame[12:14] != b"\x08\x00":
        return frame
    ip = bytearray(frame[14:])
    ihl = (ip[0] & 15) * 4
    if ip[0] >> 4 != 4 or ihl < 20 or len(ip) < ihl:
        return frame
    src, dst = "%d.%d.%d.%d" % tuple(ip[12:16]), "%d.%d.%d.%d" % tuple(ip[16:20])
    if src not in amap and dst not in amap:
        return frame
    if src in amap:
        ip[12:16] = aton(amap[src][0])
    if dst in amap:
        ip[16:20] = aton(amap[dst][0])
    ip[10:12] = b"\0\0"
    ip[10:12] = struct.pack("!H", csum(bytes(ip[:ihl])))
    tot = struct.unpack("!H", ip[2:4])[0]
    frag = struct.unpack("!H", ip[6:8])[0] & 0x3FFF
    proto = ip[9]
    if frag == 0 and tot <= len(ip) and proto in (6, 17):
        l4 = ip[ihl:tot]
        off = 16 if proto == 6 else 6
        if len(l4) >= off + 2 and not (proto == 17 and l4[6:8] == b"\0\0"):
            l4[off:off + 2] = b"\0\0"
            pseudo = bytes(ip[12:20]) + struct.pack("!BBH", 0, proto, len(l4))
            c = csum(pseudo + bytes(l4))
            l4[off:off + 2] = struct.pack("!H", c if c or proto == 6 else 0xFFFF)
            ip[ihl:tot] = l4
    return frame[:14] + bytes(ip)


def main(argv):
    opts = {}
    i = 1
    while i < len(argv):
        if argv[i] in ("--testdata", "--out", "--start", "--copies") and i + 1 < len(argv):
            opts[argv[i]] = argv[i + 1]
            i += 2
        else:
            print(__doc__)
            return 2
    if "--testdata" not in opts or "--out" not in opts:
        print(__doc__)
        return 2
    start_us = int(opts.get("--start", "1700000000")) * 1000000
    copies = int(opts.get("--copies", "5"))
    if not 1 <= copies <= 10:
        print("mix: --copies takes 1 to 10", file=sys.stderr)
        return 2
    os.makedirs(opts["--out"], exist_ok=True)
    packets = []
    labelled = []  # (original, new, customer, label, detector, also, capture)
    for rel, amap in MIX.items():
        path = os.path.join(opts["--testdata"], rel)
        if not os.path.exists(path):
            print("mix: %s missing" % path, file=sys.stderr)
            return 1
        pk = list(read_pcap(path))
        t0 = min(p[0] for p in pk)
        inf, maps = infected_copies(amap, copies)
        for c, m in enumerate(maps):
            for k, (ts, data, orig) in enumerate(pk):
                ends = endpoints(data)
                if c and not (ends and (ends[0] in inf or ends[1] in inf)):
                    continue  # a copy holds the infected host's packets only
                packets.append((ts - t0 + start_us + c * COPY_SHIFT_US, rel, c * len(pk) + k,
                                readdress(data, m), orig))
            for o, v in m.items():
                if c == 0 or o in inf:
                    labelled.append((o,) + v + (rel,))
    packets.sort(key=lambda p: (p[0], p[1], p[2]))
    out_pcap = os.path.join(opts["--out"], "mix.pcap")
    write_pcap(out_pcap, ((ts, data, orig) for ts, _, _, data, orig in packets))
    with open(os.path.join(opts["--out"], "customers.csv"), "w") as f:
        f.write("# mix of real captures (bench/eval/mix.py)\nprefix,customer_id,name\n")
        for prefix, cid, name, _ in CUSTOMERS:
            f.write("%s,%s,%s\n" % (prefix, cid, name))
    hosts = {}
    for orig, new, cid, label, det, also, rel in labelled:
        t = {"label": label, "customer": cid, "host": new, "original": orig, "capture": rel}
        if det:
            t.update(detector=det, also=also, start_ms=start_us // 1000)
        else:
            t["benign"] = True
        hosts[new] = t
    span = (max(p[0] for p in packets) - start_us) / 1e6
    with open(os.path.join(opts["--out"], "truth.jsonl"), "w") as f:
        for t in hosts.values():
            f.write(json.dumps(t) + "\n")
        for prefix, cid, name, hostile in CUSTOMERS:
            n = sum(1 for t in hosts.values() if t["customer"] == cid)
            f.write(json.dumps({"label": "customer", "customer": cid, "hosts": n, "hostile": hostile}) + "\n")
        f.write(json.dumps({"label": "scenario", "hosts": len(hosts), "duration_s": max(span, 1),
                            "start_ms": start_us // 1000}) + "\n")
    print("mix: %d packets from %d captures (infected hosts at %d addresses each), %.1f s, %d labelled "
          "hosts in %d customers -> %s" % (len(packets), len(MIX), copies, span, len(hosts), len(CUSTOMERS),
                                           out_pcap))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
