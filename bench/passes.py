#!/usr/bin/env python3
"""Where a fresh collector's first traffic goes (issue 15): one transitwatch daemon, N passes of
the same capture into it, /proc/PID/stat (user, system CPU, minor faults) and RSS at start and
after each pass. By hand, not in CI:

  bench/passes.py BUILD_DIR WORK_DIR [--passes 3] [--rate 2.4] [--records 4000000]
                  [--hosts 100000] [--hosts-max 1048576] [--reserve yes|no]

The workload is bench.py's (twgen bulk v5, 4096 prefixes of 50 customers, 4 exporters, seed 7);
the configuration bench.py's ([pipeline] hosts_max, rcvbuf = net.core.rmem_max) with
[pipeline] reserve_memory as given. Traffic to 127.0.0.1 only."""
import argparse
import os
import re
import shutil
import socket
import subprocess
import sys
import time

CLK = os.sysconf("SC_CLK_TCK")


def stat(pid):
    with open(f"/proc/{pid}/stat") as f:
        s = f.read()
    v = s[s.rindex(")") + 2:].split()
    rss = 0
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1])
    return int(v[11]) / CLK, int(v[12]) / CLK, int(v[7]), rss


def rxq_drops(port):
    """(queued bytes, drops) of the UDP socket on 127.0.0.1:port."""
    with open("/proc/net/udp") as f:
        for line in f.readlines()[1:]:
            p = line.split()
            if int(p[1].split(":")[1], 16) == port:
                return int(p[4].split(":")[1], 16), int(p[-1])
    return 0, 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build")
    ap.add_argument("work")
    ap.add_argument("--passes", type=int, default=3)
    ap.add_argument("--rate", type=float, default=2.4, help="M records/s")
    ap.add_argument("--records", type=int, default=4000000)
    ap.add_argument("--hosts", type=int, default=100000)
    ap.add_argument("--hosts-max", type=int, default=1048576)
    ap.add_argument("--reserve", choices=("yes", "no"), default="yes")
    a = ap.parse_args()
    tw = os.path.join(a.build, "collector", "transitwatch")
    gen = os.path.join(a.build, "tests", "twgen")
    os.makedirs(a.work, exist_ok=True)
    pcap = os.path.join(a.work, f"v5-{a.records}-{a.hosts}.pcap")
    csv = os.path.join(a.work, "customers.csv")
    if not os.path.exists(pcap):
        subprocess.run([gen, "bulk", "-f", "v5", "-n", str(a.records), "-H", str(a.hosts), "-p",
                        "4096", "-c", "50", "-e", "4", "-s", "7", "--write-customers", csv,
                        "-o", pcap], check=True, stdout=subprocess.DEVNULL)
    with open("/proc/sys/net/core/rmem_max") as f:
        rcvbuf = max(int(f.read()), 65536)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    d = os.path.join(a.work, f"tw-{a.reserve}")
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    conf = os.path.join(d, "tw.conf")
    with open(conf, "w") as f:
        f.write(f"[collector]\nlisten = 127.0.0.1:{port}\nrcvbuf = {rcvbuf}\n[customers]\n"
                f"file = {csv}\n[pipeline]\nhosts_max = {a.hosts_max}\nreserve_memory = "
                f"{a.reserve}\n[output]\njsonl = {d}/out.jsonl\n")
    log = open(os.path.join(d, "log"), "w+")
    t0 = time.monotonic()
    proc = subprocess.Popen([tw, "--config", conf], stdout=log, stderr=log)
    try:
        for _ in range(300):
            log.flush()
            with open(log.name) as f:
                text = f.read()
            if " started\n" in text or proc.poll() is not None:
                break
            time.sleep(0.1)
        if " started\n" not in text:
            sys.exit(f"transitwatch did not start: {text}")
        ready = time.monotonic() - t0
        m = re.search(r"reserved (\d+) MB of tables in ([\d.]+) s", text)
        print(f"reserve_memory = {a.reserve}: started after {ready:.2f} s"
              + (f", {m.group(1)} MB reserved in {m.group(2)} s" if m else ""))
        prev = stat(proc.pid)
        print("| pass | utime s | stime s | minor faults | RSS MB | kernel drops |")
        print("|---|---:|---:|---:|---:|---:|")
        print(f"| start | {prev[0]:.2f} | {prev[1]:.2f} | {prev[2]} | {prev[3] / 1024:.0f} | |")
        dg_rate = int(a.rate * 1e6 / 30)  # v5: 30 records per datagram
        for i in range(1, a.passes + 1):
            drops0 = rxq_drops(port)[1]
            subprocess.run([gen, "send", "--rate", str(dg_rate), "--max-time", "120", pcap,
                            f"127.0.0.1:{port}"], check=True, stdout=subprocess.DEVNULL)
            for _ in range(600):  # drained: queue empty and no CPU for 0.3 s
                c0 = sum(stat(proc.pid)[:2])
                time.sleep(0.3)
                if rxq_drops(port)[0] == 0 and sum(stat(proc.pid)[:2]) - c0 < 0.01:
                    break
            cur = stat(proc.pid)
            print(f"| {i} | +{cur[0] - prev[0]:.2f} | +{cur[1] - prev[1]:.2f} | "
                  f"+{cur[2] - prev[2]} | {cur[3] / 1024:.0f} | {rxq_drops(port)[1] - drops0} |")
            prev = cur
    finally:
        proc.terminate()
        proc.wait(30)


if __name__ == "__main__":
    main()
