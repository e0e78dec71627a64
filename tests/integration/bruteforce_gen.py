#!/usr/bin/env python3
"""Write a Zeek conn.log of password guessers among look-alikes, the customer map and the
alerts expected of det_bruteforce, for tests/integration/bruteforce_workers.sh (standard library
only, deterministic).

  bruteforce_gen.py OUTDIR     -> OUTDIR/conn.log, OUTDIR/customers.csv, OUTDIR/expected.txt

Customers "isp" (100.64.0.0/16) and "hosting" (100.65.0.0/16); everything else is outside.
Guessers (expected: bruteforce.login naming the target, or bruteforce.horizontal):
  100.64.1.1  Hydra on SSH, 300 connections in 3 minutes (3-4 passwords each)
  100.64.1.2  a slow SSH guesser, one connection every 10-30 s for an hour
  100.64.1.3  RDP (NLA) guessing, 120 connections in 20 minutes
  100.64.1.4  MSSQL 'sa' guessing, 500 connections in 10 minutes
  100.65.1.5  SMB guessing, 80 connections in 15 minutes
  100.64.1.6  FTP guessing, dropped by the target (fail2ban) after 30 guesses, retrying
  100.64.2.1  a telnet stuffing run: 4 credentials on each of 60 servers in 25 minutes
  100.65.2.2  SSH, 3 credentials on each of 30 servers
Look-alikes (expected: no bruteforce alert):
  300 hosts browsing HTTPS (many short connections to a few servers); 20 administrators (a few
  SSH sessions with data, a few quick commands); 5 hosts running rsync/ansible over SSH (60
  connections moving data); 10 customer SSH/FTP servers guessed at from outside; a monitoring
  host checking that SSH answers on 50 servers every minute (connect and close, no data); a
  host sweeping port 22 of 500 addresses (unanswered: det_scan's).
"""
import os
import random
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from flowlog_gen import write_zeek_tsv  # noqa: E402

T0 = 1312970400.0


def conn(out, ts, o, op, r, rp, dur, oib, opk, rib, rpk, hist="ShADadFf", state="SF"):
    out.append(dict(ts=ts, o=o, op=op, r=r, rp=rp, proto="tcp", dur=dur, ob=max(oib - 40 * opk, 0),
                    rb=max(rib - 40 * rpk, 0), state=state, hist=hist, opk=opk, oib=oib, rpk=rpk, rib=rib,
                    astate="FSPA_FSPA"))


def guess(out, r, ts, o, op, dst, port, pk, by):
    conn(out, ts, o, op, dst, port, r.uniform(1.0, 5.0), by + r.randrange(0, by // 8 + 1), pk + r.randrange(0, 4),
         by + 800 + r.randrange(0, 400), pk + r.randrange(0, 3))


def main(outdir):
    r = random.Random(20)
    out, expected = [], []
    # guessers on one target
    for i in range(300):
        guess(out, r, T0 + 60 + i * 0.6, "100.64.1.1", 40000 + i, "203.0.113.10", 22, 20, 3000)
    expected.append("bruteforce.login 100.64.1.1 203.0.113.10 22")
    ts, i = T0 + 30, 0
    while ts < T0 + 3600:
        guess(out, r, ts, "100.64.1.2", 41000 + i, "198.51.100.20", 22, 16, 2500)
        ts += r.uniform(10, 30)
        i += 1
    expected.append("bruteforce.login 100.64.1.2 198.51.100.20 22")
    for i in range(120):
        guess(out, r, T0 + 300 + i * 10, "100.64.1.3", 42000 + i, "203.0.113.30", 3389, 26, 5200)
    expected.append("bruteforce.login 100.64.1.3 203.0.113.30 3389")
    for i in range(500):
        guess(out, r, T0 + 900 + i * 1.2, "100.64.1.4", 20000 + i, "203.0.113.40", 1433, 8, 600)
    expected.append("bruteforce.login 100.64.1.4 203.0.113.40 1433")
    for i in range(80):
        guess(out, r, T0 + 1200 + i * 11, "100.65.1.5", 43000 + i, "203.0.113.50", 445, 10, 1800)
    expected.append("bruteforce.login 100.65.1.5 203.0.113.50 445")
    for i in range(90):
        if i < 30:
            guess(out, r, T0 + 1500 + i * 4, "100.64.1.6", 44000 + i, "203.0.113.60", 21, 9, 520)
        else:
            conn(out, T0 + 1500 + i * 4, "100.64.1.6", 44000 + i, "203.0.113.60", 21, 0, 60, 1, 0, 0, "S", "S0")
    expected.append("bruteforce.login 100.64.1.6 203.0.113.60 21")
    # guessers across servers
    n = 0
    for tg in range(60):
        for k in range(4):
            guess(out, r, T0 + 600 + n * 6, "100.64.2.1", 30000 + n, "198.51.%d.%d" % (100 + tg // 200, 1 + tg % 200),
                  23, 8, 340)
            n += 1
    expected.append("bruteforce.horizontal 100.64.2.1 - 23")
    n = 0
    for tg in range(30):
        for k in range(3):
            guess(out, r, T0 + 2000 + n * 9, "100.65.2.2", 31000 + n, "192.0.2.%d" % (1 + tg), 22, 18, 2900)
            n += 1
    expected.append("bruteforce.horizontal 100.65.2.2 - 22")
    # look-alikes
    for h in range(300):
        host = "100.64.10.%d" % (1 + h % 250) if h < 250 else "100.65.10.%d" % (1 + h - 250)
        for k in range(30):
            conn(out, T0 + r.uniform(0, 4200), host, 50000 + k, "203.0.113.%d" % (200 + r.randrange(5)), 443,
                 r.uniform(0.1, 2), 900 + r.randrange(200), 10, 8000 + r.randrange(20000), 12)
    for a in range(20):
        host = "100.64.20.%d" % (1 + a)
        for k in range(3):
            conn(out, T0 + r.uniform(0, 3000), host, 51000 + k, "198.51.100.%d" % (100 + a), 22, r.uniform(300, 1200),
                 80000 + r.randrange(200000), 500 + r.randrange(500), 300000, 600)
        for k in range(8):
            guess(out, r, T0 + 3000 + k * 120, host, 52000 + k, "198.51.100.%d" % (100 + a), 22, 20, 3600)
    for s in range(5):
        host = "100.64.30.%d" % (1 + s)
        for k in range(60):
            big = r.randrange(2)
            conn(out, T0 + s * 700 + k * 10, host, 53000 + k, "192.0.2.%d" % (100 + s), 22, r.uniform(3, 40),
                 200000 + r.randrange(3000000) if big else 30000 + r.randrange(60000),
                 300 + r.randrange(2000), 20000 + r.randrange(50000), 200 + r.randrange(400))
    for v in range(10):
        server = "100.65.30.%d" % (1 + v)
        port = 22 if v % 2 else 21
        for k in range(200):
            guess(out, r, T0 + v * 300 + k * 2, "45.9.%d.%d" % (v, 2), 54000 + k, server, port, 14, 2200)
    for m in range(60):
        for s in range(50):
            conn(out, T0 + m * 60 + s * 0.2, "100.65.40.1", 10000 + (m * 50 + s) % 50000, "203.0.113.%d" % (100 + s), 22,
                 0.02, 216, 4, 180, 3, hist="ShAFf")
    for i in range(500):
        conn(out, T0 + 1800 + i * 0.5, "100.64.50.1", 33000 + i % 20000, "198.18.%d.%d" % (i // 250, 1 + i % 250), 22,
             0, 60, 1, 0, 0, "S", "S0")
    out.sort(key=lambda c: c["ts"] + c["dur"])
    write_zeek_tsv(os.path.join(outdir, "conn.log"), out)
    with open(os.path.join(outdir, "customers.csv"), "w") as f:
        f.write("prefix,customer_id,name\n100.64.0.0/16,isp,Access ISP\n100.65.0.0/16,hosting,Hosting\n")
    with open(os.path.join(outdir, "expected.txt"), "w") as f:
        f.write("\n".join(sorted(expected)) + "\n")
    print("bruteforce_gen: %d connections, %d expected incidents" % (len(out), len(expected)))


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    main(sys.argv[1])
