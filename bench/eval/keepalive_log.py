#!/usr/bin/env python3
"""One host's day of UDP keepalives to a peer only it uses, one record per message (what an
exporter whose inactive timeout is shorter than the keepalive's period exports), written as a
Zeek conn.log (TSV) for the log reader, from the protocols' specifications, not from the
detectors (RESULTS, sixty-seventh part):

  bench/eval/keepalive_log.py OUT KIND [SEED]

KIND: wireguard (PersistentKeepalive = 25: a 32-byte message every 25 s, never answered; a
handshake, 148 bytes answered with 92, at the first keepalive after the key is 120 s old), natt
(IPsec NAT-T, RFC 3948: a 1-byte keepalive every 20 s, 4500 to 4500), sip (a PBX's trunk:
OPTIONS every 60 s each way, 5060 to 5060, each answered), openvpn (keepalive 10 60: a ping each
way every 10 s), imap (a mail client polling IMAPS every 10 minutes, a new TCP connection each
time), or udp-c2 (a C2 implant that keeps one UDP socket and checks in every 60 s, +-10 %, to
port 40000 with a request and an answer). Host 100.64.0.10; replay with a one-prefix map, e.g.
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
PEER = "198.51.100.7"
T0 = 1312970400.0
DAY = 86400.0


def main(out, kind, seed):
    r = random.Random(seed)
    cs = []

    def msg(ts, sport, dport, size, back=0, proto="udp"):
        """One message from the host (payload bytes), answered with back bytes when back."""
        hdr = 28 if proto == "udp" else 40
        if back:
            cs.append(dict(ts=ts, o=HOST, op=sport, r=PEER, rp=dport, proto=proto, dur=0.04,
                           ob=size, rb=back, state="SF", hist="Dd", opk=1, oib=size + hdr, rpk=1,
                           rib=back + hdr))
        else:
            cs.append(dict(ts=ts, o=HOST, op=sport, r=PEER, rp=dport, proto=proto, dur=0.0,
                           ob=size, rb=0, state="S0", hist="D", opk=1, oib=size + hdr, rpk=0,
                           rib=0))

    def peer_msg(ts, sport, dport, size):
        cs.append(dict(ts=ts, o=PEER, op=dport, r=HOST, rp=sport, proto="udp", dur=0.0, ob=size,
                       rb=0, state="S0", hist="D", opk=1, oib=size + 28, rpk=0, rib=0))

    t = T0 + r.uniform(0, 10)
    if kind == "wireguard":
        port, key = r.randint(32768, 60999), 0.0
        while t < T0 + DAY:
            msg(t, port, 51820, 32)
            if t >= key:
                msg(t + 0.001, port, 51820, 148, 92)
                key = t + 120
            t += 25 + r.uniform(0, 0.05)
    elif kind == "natt":
        while t < T0 + DAY:
            msg(t, 4500, 4500, 1)
            t += 20 + r.uniform(0, 0.02)
    elif kind == "sip":
        while t < T0 + DAY:
            msg(t, 5060, 5060, r.randint(480, 540), r.randint(400, 460))
            peer_msg(t + r.uniform(20, 40), 5060, 5060, r.randint(470, 530))
            t += 60 + r.uniform(0, 0.05)
    elif kind == "openvpn":
        port = r.randint(32768, 60999)
        while t < T0 + DAY:
            msg(t, port, 1194, 53)
            peer_msg(t + r.uniform(0, 10), port, 1194, 53)
            t += 10 + r.uniform(0, 0.01)
    elif kind == "imap":
        while t < T0 + DAY:
            cs.append(dict(ts=t, o=HOST, op=r.randint(49152, 65535), r=PEER, rp=993, proto="tcp",
                           dur=0.6, ob=r.randint(1900, 2200), rb=r.randint(4200, 4700),
                           state="SF", hist="ShADadFf", opk=12, oib=2500, rpk=11, rib=5200))
            t += 600 + r.uniform(0, 1)
    elif kind == "udp-c2":
        port = r.randint(32768, 60999)
        while t < T0 + DAY:
            msg(t, port, 40000, r.randint(120, 200), r.randint(60, 400))
            t += 60 * r.uniform(0.9, 1.1)
    else:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    cs.sort(key=lambda c: c["ts"] + c["dur"])
    write_zeek_tsv(out, cs)


if __name__ == "__main__":
    if len(sys.argv) not in (3, 4):
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]) if len(sys.argv) == 4 else 1)
