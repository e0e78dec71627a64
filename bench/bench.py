#!/usr/bin/env python3
"""transitwatch benchmark driver (standard library only). bench/run.sh builds and calls it.

Measures, in one run and on the same machine and sender:
  (a) UDP over loopback at rising offered rates: transitwatch (all detectors on), nfcapd,
      nfacctd; records/s received, loss %, CPU-s per million records, peak RSS;
  (b) replay of the same captures from a file (transitwatch replay, all detectors on);
  (c) raw pcap to flows: through bench/bench_pcap.sh (the meter helper's script) when present;
  memory: peak RSS with 10 million active hosts (--quick: 50 000) against the memory model;
  callgrind instructions per record;
  the speed-up from 1 to 2 workers;
  the host sweep: one workload with 1 000, 10 000 and --hosts inside hosts, time and
      instructions per record (what the host and detector tables' cache misses cost).
CPU time is read from /proc (schedstat, ns) of the whole process tree; loss is taken from the
kernel's per-socket drop counter (/proc/net/udp), the same way for every collector, and checked
against the collectors' own counters where they have them.
"""
import argparse
import datetime
import json
import os
import platform
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request

CLK = os.sysconf("SC_CLK_TCK")


def log(*a):
    print("bench:", *a, file=sys.stderr, flush=True)


# ---------------------------------------------------------------- process measurements
def tree_pids(root):
    """root and every descendant (collectors that fork: nfacctd's plugins)."""
    kids = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                s = f.read()
            ppid = int(s[s.rindex(")") + 2:].split()[1])
            kids.setdefault(ppid, []).append(int(d))
        except (OSError, ValueError):
            pass
    out, todo = [], [root]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(kids.get(p, []))
    return out


def tree_cpu(root):
    """CPU seconds of the process tree: schedstat (ns) per thread, else utime+stime ticks."""
    total = 0.0
    for pid in tree_pids(root):
        try:
            tids = os.listdir(f"/proc/{pid}/task")
        except OSError:
            continue
        for tid in tids:
            try:
                with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                    total += int(f.read().split()[0]) / 1e9
            except (OSError, ValueError, IndexError):
                try:
                    with open(f"/proc/{pid}/task/{tid}/stat") as f:
                        s = f.read()
                    v = s[s.rindex(")") + 2:].split()
                    total += (int(v[11]) + int(v[12])) / CLK
                except (OSError, ValueError):
                    pass
    return total


def tree_stat(root):
    """User and system CPU seconds and minor page faults of the process tree (/proc/PID/stat:
    every thread's, the exited ones' included), and its RSS now in KB."""
    user = sys_ = 0.0
    minflt = rss = 0
    for pid in tree_pids(root):
        try:
            with open(f"/proc/{pid}/stat") as f:
                s = f.read()
            v = s[s.rindex(")") + 2:].split()
            minflt += int(v[7])
            user += int(v[11]) / CLK
            sys_ += int(v[12]) / CLK
            with open(f"/proc/{pid}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        rss += int(line.split()[1])
        except (OSError, ValueError, IndexError):
            pass
    return user, sys_, minflt, rss


def tree_hwm_kb(root):
    tot = 0
    for pid in tree_pids(root):
        try:
            with open(f"/proc/{pid}/status") as f:
                for line in f:
                    if line.startswith("VmHWM:"):
                        tot += int(line.split()[1])
        except OSError:
            pass
    return tot


def udp_sockets(port):
    """(drops, rx_queue bytes, sockets) summed over every UDP socket bound to the port."""
    drops = rxq = n = 0
    for fn in ("/proc/net/udp", "/proc/net/udp6"):
        try:
            with open(fn) as f:
                next(f)
                for line in f:
                    v = line.split()
                    if int(v[1].split(":")[1], 16) != port:
                        continue
                    n += 1
                    rxq += int(v[4].split(":")[1], 16)
                    drops += int(v[12])
        except OSError:
            pass
    return drops, rxq, n


def free_udp_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def free_tcp_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def wait_until(pred, timeout, step=0.05):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(step)
    return False


def run_measured(cmd, **kw):
    """Run to completion; returns (rc, cpu seconds, peak RSS KB, wall seconds, user seconds,
    system seconds)."""
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, **kw)
    _, status, ru = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    return (p.returncode, ru.ru_utime + ru.ru_stime, ru.ru_maxrss, time.monotonic() - t0,
            ru.ru_utime, ru.ru_stime)


def spread(xs):
    """Repetitions of one measure: min, median (of an even count, the mean of the middle two),
    max, and every value sorted."""
    xs = sorted(xs)
    mid = len(xs) // 2
    med = xs[mid] if len(xs) % 2 else (xs[mid - 1] + xs[mid]) / 2
    return {"min": xs[0], "median": med, "max": xs[-1], "runs": xs}


# ---------------------------------------------------------------- workloads
class Ctx:
    pass


def twgen(c, *args):
    r = subprocess.run([c.twgen, *map(str, args)], capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit(f"twgen {' '.join(map(str, args))} failed: {r.stderr}")
    m = re.search(r"records=(\d+)", r.stderr)
    return int(m.group(1)) if m else 0


def capture_datagrams(path):
    """Export datagrams in a capture (twgen writes one unfragmented packet each)."""
    n = 0
    with open(path, "rb") as f:
        hdr = f.read(24)
        endian = "<" if hdr[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
        import struct
        while True:
            h = f.read(16)
            if len(h) < 16:
                break
            caplen = struct.unpack(endian + "IIII", h)[2]
            f.seek(caplen, 1)
            n += 1
    return n


def make_workloads(c):
    c.wl = {}
    n = c.records
    twgen(c, "bulk", "-f", "ipfix", "-n", 1000, "-H", c.hosts, "-p", 4096, "-c", 50,
          "--write-customers", c.customers, "-o", os.path.join(c.work, "tiny.pcap"))
    for fmt in ("v5", "v9", "ipfix", "mixed"):
        path = os.path.join(c.work, f"{fmt}.pcap")
        recs = twgen(c, "bulk", "-f", fmt, "-n", n, "-H", c.hosts, "-p", 4096, "-c", 50,
                     "-e", 4, "-s", 7, "-o", path)
        dg = capture_datagrams(path)
        c.wl[fmt] = {"path": path, "records": recs, "datagrams": dg,
                     "bytes": os.path.getsize(path)}
        log(f"workload {fmt}: {recs} records in {dg} datagrams")


# ---------------------------------------------------------------- (b) replay
def tw_replay(c, pcap, conf=None, out=os.devnull, extra=(), tw=None):
    cmd = [tw or c.tw, "replay", "-C", c.customers, "-o", out, *extra]
    if conf:
        cmd += ["-c", conf]
    cmd.append(pcap)
    if c.pin:
        cmd = ["taskset", "-c", "0", *cmd]
    rc, cpu, rss, wall, user, sys_ = run_measured(cmd, stdout=subprocess.DEVNULL,
                                                  stderr=subprocess.PIPE)
    if rc != 0:
        raise SystemExit(f"replay failed ({rc}): {' '.join(cmd)}")
    return cpu, rss, wall, user, sys_


def bench_replay(c):
    res = {}
    base_cpu, base_rss = min(tw_replay(c, os.path.join(c.work, "tiny.pcap"))
                             for _ in range(c.reps))[:2]
    c.startup = {"cpu": base_cpu, "rss_kb": base_rss}
    for fmt, w in c.wl.items():
        runs = [tw_replay(c, w["path"]) for _ in range(c.reps)]
        cpu, rss, wall, user, sys_ = min(runs)
        res[fmt] = {"records": w["records"], "cpu": cpu, "rss_kb": rss, "wall": wall,
                    "user": user, "sys": sys_,
                    "cpu_per_m": cpu / (w["records"] / 1e6),
                    "cpu_per_m_net": max(cpu - base_cpu, 0) / (w["records"] / 1e6),
                    "rec_per_cpu_s": w["records"] / cpu if cpu else 0}
        log(f"replay {fmt}: {cpu:.3f} CPU-s (user {user:.2f}, sys {sys_:.2f}), "
            f"{res[fmt]['cpu_per_m']:.3f} CPU-s/M, {rss / 1024:.0f} MB")
    return res


# ---------------------------------------------------------------- (a) UDP
def taskset(c, cpu, cmd):
    return ["taskset", "-c", str(cpu), *cmd] if c.pin else cmd


def send(c, pcap, port, rate_dps, count, cpu=1):
    """twgen send on the given CPU: (datagrams sent, seconds, the sender's CPU seconds: loading
    the capture and sending; on loopback the kernel delivers each datagram, up to the
    collector's socket queue, on the sending CPU)."""
    cmd = taskset(c, cpu, [c.twgen, "send", "--rate", str(int(rate_dps)), "--count", str(count),
                           "--max-time", "120", pcap, f"127.0.0.1:{port}"])
    ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    r = subprocess.run(cmd, capture_output=True, text=True)
    ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    m = dict(re.findall(r"(\w+)=([\d.]+)", r.stdout))
    if r.returncode != 0 or "datagrams" not in m:
        raise SystemExit(f"twgen send failed: {r.stdout} {r.stderr}")
    cpu_s = ru1.ru_utime + ru1.ru_stime - ru0.ru_utime - ru0.ru_stime
    return int(m["datagrams"]), float(m["seconds"]), cpu_s


class Collector:
    name = "?"

    def fresh_dir(self, c, name):
        """An empty directory of the run's work area for this start."""
        d = os.path.join(c.work, name)
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
        return d

    def launch(self, c, cmd, log_path, ready=None, timeout=15, cpus=0):
        """Start cmd pinned to cpus in a session of its own (stop() signals the group), its
        output to log_path, and wait until ready() (default: a socket bound to self.port)."""
        self.log = open(log_path, "w+")
        self.proc = subprocess.Popen(taskset(c, cpus, cmd), stdout=self.log, stderr=self.log,
                                     start_new_session=True)
        if not wait_until(ready or (lambda: udp_sockets(self.port)[2] > 0), timeout):
            raise SystemExit(f"{os.path.basename(cmd[0])} did not start; see {log_path}")

    def start(self, c):
        raise NotImplementedError

    def received_records(self, c, sent_dg, drops, rpd):
        return (sent_dg - drops) * rpd

    def stop(self):
        # each collector runs in its own session (start_new_session): the signal goes to the
        # whole group, so children that outlive their parent (nfacctd's plugin processes) do
        # not pile up pinned to the collector's CPU across points
        if not self.proc:
            return
        pgid = self.proc.pid
        if self.proc.poll() is None:
            try:
                os.killpg(pgid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            try:
                os.killpg(pgid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.1)
        try:
            os.killpg(pgid, signal.SIGKILL)
        except ProcessLookupError:
            pass


class Transitwatch(Collector):
    name = "transitwatch"

    def __init__(self, workers=1, tw=None, label=None, cpus="0"):
        """cpus: taskset's CPU list for the collector (pinned to one core unless told)."""
        self.workers = workers
        self.tw = tw
        self.cpus = cpus
        if workers > 1:
            self.name = f"transitwatch ({workers} workers)"
        if label:
            self.name = f"{self.name} [{label}]"

    def start(self, c, tag):
        d = self.fresh_dir(c, f"tw-{tag}")
        self.port = free_udp_port()
        self.mport = free_tcp_port()
        self.out = os.path.join(d, "out.jsonl")
        conf = os.path.join(d, "tw.conf")
        with open(conf, "w") as f:
            f.write(f"[collector]\nlisten = 127.0.0.1:{self.port}\nrcvbuf = {c.rcvbuf}\n"
                    f"workers = {self.workers}\nreuseport = {'yes' if self.workers > 1 else 'no'}\n"
                    f"[customers]\nfile = {c.customers}\n[pipeline]\nhosts_max = {c.hosts_max}\n"
                    f"[output]\njsonl = {self.out}\n[metrics]\nlisten = 127.0.0.1:{self.mport}\n")
        # ready: the sockets and /metrics, then the start itself (after the tables are reserved:
        # [pipeline] reserve_memory, default yes), as a service manager waits for READY=1
        self.launch(c, [self.tw or c.tw, "--config", conf], os.path.join(d, "log"),
                    ready=lambda: udp_sockets(self.port)[2] > 0 and self.metrics() is not None
                    and self.started(), timeout=30, cpus=self.cpus)
        return self.port

    def started(self):
        self.log.flush()
        with open(self.log.name) as f:
            return any(line.rstrip().endswith(" started") for line in f)

    def metrics(self):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.mport}/metrics", timeout=2) as r:
                text = r.read().decode()
        except OSError:
            return None
        m = {}
        for line in text.splitlines():
            if line.startswith("#") or not line.strip():
                continue
            k, _, v = line.rpartition(" ")
            try:
                m[k] = m.get(k, 0) + float(v)
            except ValueError:
                pass
        return m

    def received_records(self, c, sent_dg, drops, rpd):
        # the socket's queue first (a collector starved of CPU on a loaded machine may not have
        # read anything yet: at most 30 s), then /metrics, rendered once a second: wait until
        # two readings agree with the queue still empty
        wait_until(lambda: udp_sockets(self.port)[1] == 0, 30)
        last = None
        for _ in range(12):
            m = self.metrics() or {}
            recs = sum(v for k, v in m.items() if k.startswith("transitwatch_flows_total"))
            if last is not None and recs == last and udp_sockets(self.port)[1] == 0:
                return int(recs)
            last = recs
            time.sleep(1.1)
        return int(last or 0)


class Nfcapd(Collector):
    name = "nfcapd"

    def start(self, c, tag):
        self.dir = self.fresh_dir(c, f"nfcapd-{tag}")
        self.port = free_udp_port()
        self.launch(c, [c.nfcapd, "-w", self.dir, "-b", "127.0.0.1", "-p", str(self.port),
                        "-t", "3600", "-B", str(c.rcvbuf_bytes)],
                    os.path.join(self.dir, "..", f"nfcapd-{tag}.log"))
        time.sleep(0.3)
        return self.port

    def stored_records(self):
        total = 0
        for fn in os.listdir(self.dir):
            if not fn.startswith("nfcapd."):
                continue
            r = subprocess.run(["nfdump", "-r", os.path.join(self.dir, fn), "-I"],
                               capture_output=True, text=True)
            m = re.search(r"^Flows:\s*(\d+)", r.stdout, re.M)
            if m:
                total += int(m.group(1))
        return total


class Nfacctd(Collector):
    name = "nfacctd"

    def start(self, c, tag):
        d = self.fresh_dir(c, f"nfacctd-{tag}")
        self.port = free_udp_port()
        conf = os.path.join(d, "nfacctd.conf")
        with open(conf, "w") as f:
            f.write(f"daemonize: false\nnfacctd_ip: 127.0.0.1\nnfacctd_port: {self.port}\n"
                    f"nfacctd_pipe_size: {c.rcvbuf_bytes}\nplugins: print\n"
                    f"aggregate: src_host, dst_host, src_port, dst_port, proto\n"
                    f"print_output: csv\nprint_output_file: {d}/flows.csv\n"
                    f"print_refresh_time: 3600\n")
        self.launch(c, [c.nfacctd, "-f", conf], os.path.join(d, "log"))
        time.sleep(0.5)
        return self.port


class UdpSink(Collector):
    """bench/udp_sink: a bare recvmmsg loop that does nothing with what it reads, on the same
    core, port setup and socket buffer as the collectors. The highest rate it takes without loss
    is the harness's ceiling: no collector can be shown to take more on this machine and sender,
    so a ratio whose rate lies above it cannot be measured here. Loss from the kernel's drop
    counter, as for every collector (Collector.received_records)."""
    name = "recvmmsg loop"

    def start(self, c, tag):
        d = self.fresh_dir(c, f"sink-{tag}")
        self.port = free_udp_port()
        self.launch(c, [c.udp_sink, "127.0.0.1", str(self.port), str(c.rcvbuf_bytes)],
                    os.path.join(d, "log"))
        return self.port


def udp_point(c, coll, fmt, rate_rps, tag, sender_cpu=1):
    """One collector, one offered rate: start fresh, send the capture once, measure."""
    w = c.wl[fmt]
    rpd = w["records"] / w["datagrams"]
    port = coll.start(c, tag)
    try:
        drops0, _, _ = udp_sockets(port)
        cpu0 = tree_cpu(coll.proc.pid)
        user0, sys0, flt0, rss0 = tree_stat(coll.proc.pid)
        sent, secs, sender = send(c, w["path"], port, rate_rps / rpd, w["datagrams"], sender_cpu)
        # drained: socket queues empty and the process stopped burning CPU
        def idle():
            _, rxq, _ = udp_sockets(port)
            a = tree_cpu(coll.proc.pid)
            time.sleep(0.15)
            return rxq == 0 and tree_cpu(coll.proc.pid) - a < 0.01
        wait_until(idle, 60, 0.05)
        cpu = tree_cpu(coll.proc.pid) - cpu0
        user1, sys1, flt1, _ = tree_stat(coll.proc.pid)
        drops = udp_sockets(port)[0] - drops0
        hwm = tree_hwm_kb(coll.proc.pid)
        recs = coll.received_records(c, sent, drops, rpd)
    finally:
        coll.stop()
    sent_recs = sent * rpd
    if isinstance(coll, Nfcapd):
        stored = coll.stored_records()
        recs = stored if stored else recs
    loss = max(0.0, 1 - recs / sent_recs) if sent_recs else 0
    r = {"collector": coll.name, "format": fmt, "offered_rps": rate_rps,
         "achieved_rps": sent_recs / secs if secs else 0, "sent_records": int(sent_recs),
         "received_records": int(recs), "kernel_drops": drops, "loss_pct": 100 * loss,
         "received_rps": recs / secs if secs else 0, "cpu": cpu,
         "cpu_per_m": cpu / (recs / 1e6) if recs else float("nan"), "rss_kb": hwm,
         # where the CPU went (/proc/PID/stat, 10 ms ticks): user and system time and minor
         # page faults of the tree while it took the traffic, and its RSS when it was started
         "user": user1 - user0, "sys": sys1 - sys0, "minflt": flt1 - flt0, "rss_start_kb": rss0,
         "sender_cpu": sender}
    log(f"udp {coll.name} {fmt} offered {rate_rps / 1e6:.2f} M/s (sent {r['achieved_rps'] / 1e6:.2f}): "
        f"loss {r['loss_pct']:.2f} %, {r['cpu_per_m']:.3f} CPU-s/M (user {r['user']:.2f} s, sys "
        f"{r['sys']:.2f} s, {r['minflt']} minor faults), {hwm / 1024:.0f} MB (at start "
        f"{rss0 / 1024:.0f} MB)")
    return r


# A run lost nothing when it lost less than this share of the records sent, in percent (the
# kernel's drops and the collectors' own counts agree to about that).
LOSS_FREE_PCT = 0.01


def loss_free(loss_pct):
    return loss_pct < LOSS_FREE_PCT


# The sender reached an offered rate when it sent at least this share of it; a collector that
# lost nothing at a rate the sender did not reach has not been shown to take that rate.
REACHED = 0.95


def reached(r):
    """A run or point whose sender reached its offered rate."""
    return r["achieved_rps"] >= REACHED * r["offered_rps"]


def loss_free_rate(losses):
    """{offered rate: (loss %, the sender reached it)} -> the highest rate at which it and every
    lower rate lost nothing, up to the first rate the sender did not reach (0: the lowest rate
    lost)."""
    lf = 0
    for rate in sorted(losses):
        loss, got = losses[rate]
        if not got or not loss_free(loss):
            break
        lf = rate
    return lf


def udp_points(runs):
    """Runs grouped per (collector, workload, offered rate), ordered by workload, collector (as
    first run) and rate: received rate and loss % as spread() (median, min, max), CPU-s per M
    records and the rest as medians, and how many runs lost nothing."""
    groups = {}
    for r in runs:
        groups.setdefault((r["collector"], r["format"], r["offered_rps"]), []).append(r)
    fmts = list(dict.fromkeys(r["format"] for r in runs))
    colls = list(dict.fromkeys(r["collector"] for r in runs))
    out = []
    for (coll, fmt, rate), rs in sorted(groups.items(), key=lambda g: (
            fmts.index(g[0][1]), colls.index(g[0][0]), g[0][2])):
        med = lambda k: spread([r.get(k, 0) for r in rs])["median"]
        cpm = [r["cpu_per_m"] for r in rs if r["cpu_per_m"] == r["cpu_per_m"]]  # not NaN
        out.append({"collector": coll, "format": fmt, "offered_rps": rate, "runs": len(rs),
                    "loss_free_runs": sum(loss_free(r["loss_pct"]) for r in rs),
                    "received_rps": spread([r["received_rps"] for r in rs]),
                    "loss_pct": spread([r["loss_pct"] for r in rs]),
                    "cpu_per_m": spread(cpm)["median"] if cpm else float("nan"),
                    "cpu_per_m_runs": sorted(cpm),
                    **{k: med(k) for k in ("achieved_rps", "rss_kb", "user", "sys", "minflt",
                                           "rss_start_kb", "sender_cpu")}})
    return out


def udp_loss_free(points, runs):
    """Per (collector, workload): the loss-free rate of the median runs and of each repetition
    alone, and the points whose runs disagree (some lost nothing, some lost) at or below the
    first rate the median run lost at: a loss-free rate, or a ratio, that rests on one of those
    is not supported by the run."""
    out = []
    for coll, fmt in dict.fromkeys((p["collector"], p["format"]) for p in points):
        ps = sorted((p for p in points if p["collector"] == coll and p["format"] == fmt),
                    key=lambda p: p["offered_rps"])
        med = loss_free_rate({p["offered_rps"]: (p["loss_pct"]["median"], reached(p))
                              for p in ps})
        first_loss = next((p["offered_rps"] for p in ps if p["offered_rps"] > med), None)
        # the first rate the sender fell short of (median runs): no loss-free rate above it
        short = next((p for p in ps if not reached(p)), None)
        reps = sorted({r.get("rep", 0) for r in runs if r["collector"] == coll
                       and r["format"] == fmt})
        each = [loss_free_rate({r["offered_rps"]: (r["loss_pct"], reached(r)) for r in runs
                                if r["collector"] == coll and r["format"] == fmt
                                and r.get("rep", 0) == i}) for i in reps]
        # its capacity: the highest rate, reached and loss-free in the median run, above which
        # every reached rate lost (a stall that cost one run a little at a lower rate does not
        # end it, as it ends the loss-free rate; 0: it lost at every rate)
        got = [p for p in ps if reached(p)]
        cap = 0
        for p in reversed(got):
            if loss_free(p["loss_pct"]["median"]):
                cap = p["offered_rps"]
                break
        out.append({"collector": coll, "format": fmt, "median": med, "reps": each,
                    "capacity": cap,
                    "sender_short": {"offered_rps": short["offered_rps"],
                                     "achieved_rps": short["achieved_rps"]} if short else None,
                    "disagree": [{"offered_rps": p["offered_rps"], "runs": p["runs"],
                                  "loss_free_runs": p["loss_free_runs"],
                                  "loss_pct": p["loss_pct"]}
                                 for p in ps if 0 < p["loss_free_runs"] < p["runs"]
                                 and reached(p)
                                 and (first_loss is None or p["offered_rps"] <= first_loss)]})
    return out


def bench_udp(c):
    """The sweep: every (workload, rate) point c.udp_reps times per collector. A repetition is
    a whole sweep, and at each point the collectors run one after the other (the first one
    rotating between repetitions), so that a slow minute of a shared machine falls on all of
    them at that point and the repetitions of one point are minutes apart. Returns every run
    (the JSON keeps them; udp_points and udp_loss_free summarise them)."""
    colls = [Transitwatch()]
    if c.udp_sink:
        colls.append(UdpSink())
    if c.nfcapd:
        colls.append(Nfcapd())
    if c.nfacctd:
        colls.append(Nfacctd())
    runs = []
    for i in range(c.udp_reps):
        order = colls[i % len(colls):] + colls[:i % len(colls)]
        log(f"udp: repetition {i + 1} of {c.udp_reps}, order {', '.join(k.name for k in order)}")
        for fmt in c.udp_formats:
            for rate in c.rates:
                for coll in order:
                    r = udp_point(c, coll, fmt, rate, f"{fmt}-{int(rate)}-{i}")
                    r["rep"] = i
                    runs.append(r)
    return runs


def workers_placement(c, n):
    """Where the workers' UDP point runs n workers: the collector's CPU list, the sender's CPU,
    whether they share a core, and a label for the report.
    One worker as in the sweep (CPU 0, the sender on CPU 1). More: the collector on CPUs 0..n-1,
    one per worker (pinned to one core its threads would take turns), and the sender on the next
    CPU when the machine has one, else on CPU 1, sharing a core with a worker."""
    if not c.pin:
        cpus, sender, shares, label = None, None, False, "unpinned"
    elif n == 1:
        cpus, sender, shares, label = "0", 1, False, "collector on CPU 0, sender on CPU 1"
    else:
        ncpu = os.cpu_count() or 1
        k = min(n, ncpu)
        sender = k if ncpu > k else 1
        cpus, shares = f"0-{k - 1}", sender < k
        label = (f"collector on CPUs 0-{k - 1}, sender on CPU {sender}"
                 + (": sender shares a core" if shares else ""))
    return {"collector_cpus": cpus, "sender_on": sender, "sender_shares_core": shares,
            "placement": label}


def bench_workers(c):
    """1 vs 2 workers: replay wall rate and UDP at the top offered rate. The replay also on a
    workload of 5x the records (same hosts, one window): start-up, the window close (serial,
    every worker idle) and the exit are fixed costs that a 2 M replay of 0.5-0.8 s weighs at
    about a fifth; the longer replay and the marginal rate ((long - short records) / (long -
    short wall)) show what the threads give per record. Runs alternate 1, 2 workers. UDP:
    c.udp_reps runs each, alternating, placed by workers_placement."""
    out = {}
    w = c.wl["mixed"]
    long_path = os.path.join(c.work, "mixed-long.pcap")
    long_recs = twgen(c, "bulk", "-f", "mixed", "-n", 5 * w["records"], "-H", c.hosts, "-p",
                      4096, "-c", 50, "-e", 4, "-s", 7, "-o", long_path)
    confs = {}
    for n in (1, 2):
        confs[n] = os.path.join(c.work, f"workers{n}.conf")
        with open(confs[n], "w") as f:
            f.write(f"[collector]\nworkers = {n}\n")
    runs = {(n, k): [] for n in (1, 2) for k in ("short", "long")}
    for _ in range(c.reps):
        for k, path in (("short", w["path"]), ("long", long_path)):
            for n in (1, 2):
                cmd = [c.tw, "replay", "-c", confs[n], "-C", c.customers, "-o", os.devnull, path]
                runs[(n, k)].append(run_measured(cmd, stdout=subprocess.DEVNULL,
                                                 stderr=subprocess.DEVNULL))
    os.remove(long_path)
    for n in (1, 2):
        rc, cpu, rss, wall = min(runs[(n, "short")], key=lambda r: r[3])[:4]
        out[f"replay_{n}"] = {"wall": wall, "cpu": cpu, "rps_wall": w["records"] / wall}
        rc, cpu, rss, lwall = min(runs[(n, "long")], key=lambda r: r[3])[:4]
        out[f"long_{n}"] = {"wall": lwall, "cpu": cpu, "records": long_recs,
                            "rps_wall": long_recs / lwall,
                            "rps_marginal": (long_recs - w["records"]) / max(lwall - wall, 1e-9)}
    udp = {1: [], 2: []}
    for i in range(c.udp_reps):
        for n in ((1, 2) if i % 2 == 0 else (2, 1)):
            pl = workers_placement(c, n)
            u = udp_point(c, Transitwatch(n, cpus=pl["collector_cpus"]), "mixed", c.rates[-1],
                          f"workers{n}-{i}", pl["sender_on"])
            u["rep"] = i
            udp[n].append(u)
    for n in (1, 2):
        out[f"udp_{n}"] = {**udp_points(udp[n])[0], **workers_placement(c, n),
                           "all_runs": udp[n]}
    return out


# ---------------------------------------------------------------- memory
def stats_gauges(text, names):
    """Values of the replay's --stats listing (name, then the number) for the given names."""
    out = {}
    for line in text.splitlines():
        f = line.split()
        if len(f) == 2 and f[0] in names and f[1].isdigit():
            out[f[0]] = int(f[1])
    return out


# The memory model's host slot (bench/RESULTS.md, "Memory model"): struct host 64 B + every
# detector's per-host state (flood 64, scan 40), rounded up to 8. The run checks the replay's
# host_slot_bytes against it, so a struct that grows without the model being updated fails.
MODEL_SLOT_BYTES = 64 + 64 + 40


def bench_memory(c):
    """Peak RSS with c.mem_hosts active hosts (hosts_max = 1.25 x) against the memory model
    (bench/RESULTS.md, "Memory model"): the host tables, 8 bytes and a bit per position of the
    capacity (tag, slot number, the slot's live bit) + the most hosts held at once x slot bytes (struct host + every enabled
    detector's per-host state, rounded up to 8: MODEL_SLOT_BYTES; IPv4 and IPv6 hosts alike, addresses are 16
    bytes; the slots are dense, so capacity left free costs 8 bytes, not a slot), plus the
    detectors' pools, fixed by config and touched as entries are used, plus the lists and the
    decoder. The replay reports the host tables' part (hosts_table_bytes, host_slot_bytes,
    hosts_high_water in its --stats listing); the rest is peak - tables. With a million hosts or
    more the gauge is checked against the model's formula with the model's slot (1 %), the slot
    against MODEL_SLOT_BYTES, and from 5 M hosts on that the host tables are most of the peak
    (>= 80 %; below, the pools' fixed ~100 MB weigh more)."""
    pcap = os.path.join(c.work, "hosts.pcap")
    csv = os.path.join(c.work, "hosts-customers.csv")
    # every host appears: sweep (-S) so the uniform part of the records walks all of them
    recs = twgen(c, "bulk", "-f", "ipfix", "-n", c.mem_hosts * 3, "-H", c.mem_hosts, "-p", 4096,
                 "-c", 50, "-S", "--write-customers", csv, "-o", pcap)
    conf = os.path.join(c.work, "mem.conf")
    with open(conf, "w") as f:
        f.write(f"[pipeline]\nhosts_max = {int(c.mem_hosts * 1.25)}\n")
    out = os.path.join(c.work, "mem.jsonl")
    err = os.path.join(c.work, "mem.stats")
    with open(err, "w") as ef:
        rc, cpu, rss, wall = run_measured([c.tw, "replay", "--stats", "--no-progress", "-c", conf,
                                           "-C", csv, "-o", out, "--no-summaries", pcap],
                                          stdout=subprocess.DEVNULL, stderr=ef)[:4]
    with open(err) as ef:
        g = stats_gauges(ef.read(), ("hosts_table_bytes", "host_slot_bytes", "hosts_capacity",
                                     "hosts_active", "hosts_high_water"))
    os.unlink(pcap)
    tot = {}
    try:
        with open(out) as f:
            for line in f:
                if '"transitwatch.totals"' in line:
                    tot = json.loads(line)["transitwatch"]["totals"]
    except (OSError, ValueError):
        pass
    table_kb = g.get("hosts_table_bytes", 0) / 1024
    share = table_kb / rss if rss else 0
    cap = g.get("hosts_capacity", 0)
    model_kb = (cap * 8 + (cap + 63) // 64 * 8
                + g.get("hosts_high_water", 0) * MODEL_SLOT_BYTES) / 1024
    r = {"hosts": c.mem_hosts, "records": recs, "rss_kb": rss, "table_kb": table_kb,
         "bytes_per_host": rss * 1024 / c.mem_hosts, "gauges": g, "table_share": share,
         "model_checked": c.mem_hosts >= 1000000,
         "model_kb": model_kb,
         "model_slot": MODEL_SLOT_BYTES,
         # the pools are fixed by config (about 100 MB): the tables are most of the peak only
         # from a few million hosts on (1 M: 177 of 276 MB)
         "model_ok": c.mem_hosts < 1000000 or (table_kb <= rss
                                               and g.get("host_slot_bytes") == MODEL_SLOT_BYTES
                                               and (share >= 0.8 or c.mem_hosts < 5000000)
                                               and abs(table_kb - model_kb) <= 0.01 * model_kb),
         "host_evictions": tot.get("host_evictions"), "cpu": cpu, "rc": rc}
    log(f"memory: {c.mem_hosts} hosts: {rss / 1024:.0f} MB peak, host tables {table_kb / 1024:.0f} "
        f"MB ({100 * share:.0f} %), {r['bytes_per_host']:.0f} B/host")
    return r


# ---------------------------------------------------------------- callgrind
def sanitized(c):
    """Whether the build under test is a sanitizer or fuzzing one (valgrind cannot run it)."""
    try:
        with open(os.path.join(c.bin, "CMakeCache.txt")) as f:
            return re.search(r"^TW_(SANITIZE|TSAN|FUZZ):BOOL=ON", f.read(), re.M) is not None
    except OSError:
        return False


def can_callgrind(c):
    return shutil.which("valgrind") is not None and not sanitized(c)


def callgrind_ir(c, pcap, out, tw=None):
    """Instructions of one replay of pcap under callgrind, its profile written to out (None: no
    total)."""
    r = subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}",
                        tw or c.tw, "replay", "-C", c.customers, "-o", os.devnull, pcap],
                       capture_output=True, text=True)
    m = re.search(r"Collected : (\d+)", r.stderr)
    return int(m.group(1)) if m else None


def bench_callgrind(c, tw=None, tag=""):
    if not can_callgrind(c):
        return None
    res = {}
    for name, n in (("small", 1000), ("big", c.cg_records)):
        pcap = os.path.join(c.work, f"cg-{name}.pcap")
        if not os.path.exists(pcap):
            twgen(c, "bulk", "-f", "mixed", "-n", n, "-H", c.hosts, "-p", 4096, "-c", 50, "-s", 7,
                  "-o", pcap)
        out = os.path.join(c.work, f"callgrind-{name}{tag}.out")
        res[name] = {"records": n, "ir": callgrind_ir(c, pcap, out, tw) or 0, "file": out}
    big, small = res["big"], res["small"]
    res["ir_per_record"] = (big["ir"] - small["ir"]) / (big["records"] - small["records"])
    res["ir_per_record_gross"] = big["ir"] / big["records"]
    ann = subprocess.run(["callgrind_annotate", big["file"]], capture_output=True, text=True).stdout
    top = []
    for line in ann.splitlines():
        m = re.match(r"\s*([\d,]+) \(\s*([\d.]+)%\)\s+(\S+)", line)
        if m and "PROGRAM TOTALS" not in line and len(top) < 15:
            fn = m.group(3)
            fn = fn.split(":")[-1] if ":" in fn else fn
            top.append((fn, int(m.group(1).replace(",", "")) / big["records"], float(m.group(2))))
    res["top"] = top
    log(f"callgrind: {res['ir_per_record']:.0f} Ir/record")
    return res


# ---------------------------------------------------------------- host sweep
def bench_hostsweep(c):
    """The same mixed workload (generator, seed, prefixes, customers, record count) with 1 000,
    10 000 and c.hosts inside hosts: only the host and detector tables' size changes, not the
    work per record. Per host count: replay wall and CPU time (pinned, sweep_rounds rounds in a
    rotating order, medians), time per record net of a 1 000-record run, and with valgrind (not
    in a sanitizer build) the instructions per record net of the same run. Time that grows with
    the hosts while the instructions do not is what the tables' cache misses cost
    (bench/RESULTS.md, issue 15, fifty-eighth part)."""
    counts = sorted({1000, 10000, c.hosts})
    n = c.records
    def capture(h, recs, path):
        twgen(c, "bulk", "-f", "mixed", "-n", recs, "-H", h, "-p", 4096, "-c", 50, "-e", 4,
              "-s", 7, "-o", path)
        return path

    caps = {}
    for h in counts:
        small = capture(h, 1000, os.path.join(c.work, f"sweep-{h}-small.pcap"))
        # c.hosts' capture is make_workloads' mixed one (the same arguments): not made again
        big = (c.wl["mixed"]["path"] if h == c.hosts
               else capture(h, n, os.path.join(c.work, f"sweep-{h}.pcap")))
        caps[h] = (big, small)
    walls = {h: [] for h in counts}
    cpus = {h: [] for h in counts}
    small_walls = []
    order = list(counts)
    for r in range(c.sweep_rounds):
        k = r % len(order)
        for h in order[k:] + order[:k]:
            _, _, wall, user, sys_ = tw_replay(c, caps[h][0])
            walls[h].append(wall)
            cpus[h].append(user + sys_)
        small_walls.append(tw_replay(c, caps[counts[0]][1])[2])
    small_wall = spread(small_walls)["median"]
    res = {"records": n, "rounds": c.sweep_rounds, "small_wall": small_wall, "hosts": []}
    for h in counts:
        w, cp = spread(walls[h]), spread(cpus[h])
        ipr = None
        if can_callgrind(c):
            out = os.path.join(c.work, "callgrind-sweep.out")
            ir_big, ir_small = callgrind_ir(c, caps[h][0], out), callgrind_ir(c, caps[h][1], out)
            ipr = (ir_big - ir_small) / (n - 1000) if ir_big and ir_small else None
        ns = max(w["median"] - small_wall, 0) / (n - 1000) * 1e9
        res["hosts"].append({"hosts": h, "wall": w, "cpu": cp, "ns_per_record": ns,
                             "ir_per_record": ipr})
        log(f"host sweep: {h} hosts: {w['median']:.3f} s wall (median of {len(walls[h])}), "
            f"{ns:.0f} ns per record" + (f", {ipr:.0f} Ir per record" if ipr else ""))
    return res


def report_hostsweep(S):
    L = ["### Host sweep: the same records with more inside hosts\n",
         f"One mixed workload, {S['records']} records, with each host count (only the host and "
         f"detector tables' size changes); replay pinned to one core, {S['rounds']} rounds in a "
         f"rotating order, medians; per record net of a 1000-record run "
         f"({S['small_wall']:.3f} s).\n",
         "| inside hosts | wall s, median (min-max) | CPU-s, median | ns per record | Ir per record "
         "(callgrind) | time vs the fewest hosts | Ir vs the fewest hosts |",
         "|---:|---|---:|---:|---:|---:|---:|"]
    base = S["hosts"][0]
    for e in S["hosts"]:
        w = e["wall"]
        ir = f"{e['ir_per_record']:.0f}" if e["ir_per_record"] else "-"
        dt = (f"{100 * (e['ns_per_record'] / base['ns_per_record'] - 1):+.1f} %"
              if base["ns_per_record"] else "-")
        di = (f"{100 * (e['ir_per_record'] / base['ir_per_record'] - 1):+.1f} %"
              if e["ir_per_record"] and base["ir_per_record"] else "-")
        L.append(f"| {e['hosts']} | {w['median']:.3f} ({w['min']:.3f}-{w['max']:.3f}) | "
                 f"{e['cpu']['median']:.3f} | {e['ns_per_record']:.0f} | {ir} | {dt} | {di} |")
    L.append("\nTime that grows with the hosts while the instructions stay is what the tables' "
             "cache misses cost; the rest of a record's time is its instructions.\n")
    return "\n".join(L)


# ---------------------------------------------------------------- old build against this one
def bench_against(c):
    """The old build (--against) and this one, measured back to back in one run, the order
    alternating every repetition (old new, new old, ...) so that a shared machine's drift falls
    on both alike; every repetition is kept and reported as min / median / max."""
    bins = (("old", c.tw_old), ("new", c.tw))
    reps = c.against_reps
    res = {"reps": reps, "replay": {}, "workers": {}, "udp": {}, "callgrind": {}}
    def pair(measure):
        runs = {"old": [], "new": []}
        for i in range(reps):
            for label, tw in (bins if i % 2 == 0 else bins[::-1]):
                runs[label].append(measure(tw))
        return runs
    for fmt, w in c.wl.items():
        runs = pair(lambda tw: tw_replay(c, w["path"], tw=tw))
        res["replay"][fmt] = {k: {"cpu": spread([r[0] for r in v]), "wall": spread([r[2] for r in v]),
                                  "rss_kb": spread([r[1] for r in v])} for k, v in runs.items()}
        log(f"against: replay {fmt}: CPU-s old {res['replay'][fmt]['old']['cpu']['median']:.3f} "
            f"new {res['replay'][fmt]['new']['cpu']['median']:.3f}")
    w = c.wl["mixed"]
    for n in (1, 2):
        conf = os.path.join(c.work, f"against-workers{n}.conf")
        with open(conf, "w") as f:
            f.write(f"[collector]\nworkers = {n}\n")
        runs = pair(lambda tw: tw_replay(c, w["path"], conf=conf, tw=tw))
        res["workers"][n] = {k: {"cpu": spread([r[0] for r in v]), "wall": spread([r[2] for r in v])}
                             for k, v in runs.items()}
    for n in (1, 2):
        runs = {"old": [], "new": []}
        for i in range(max(2, reps // 2)):
            for label, tw in (bins if i % 2 == 0 else bins[::-1]):
                u = udp_point(c, Transitwatch(n, tw=tw, label=label), "mixed", c.rates[-1],
                              f"against-{label}-{n}-{i}")
                runs[label].append(u)
        res["udp"][n] = {k: {"loss_pct": spread([u["loss_pct"] for u in v]),
                             "cpu_per_m": spread([u["cpu_per_m"] for u in v])}
                         for k, v in runs.items()}
    for label, tw in bins:
        g = bench_callgrind(c, tw=tw, tag=f"-{label}")
        if g:
            res["callgrind"][label] = g["ir_per_record"]
    return res


def report_against(c, A):
    L = []
    a = L.append
    a(f"### This build against {c.tw_old}\n")
    a(f"Back to back in one run, the order alternating, {A['reps']} repetitions each (UDP: "
      f"{max(2, A['reps'] // 2)}); min / median / max of the repetitions; the ratio is new / old "
      "of the medians. On a shared machine the spread between repetitions of one binary is the "
      "noise floor: a ratio inside it is no difference.\n")
    a("| measure | old min / median / max | new min / median / max | new / old |")
    a("|---|---|---|---:|")
    def row(name, o, n, fmt="{:.3f}"):
        f = lambda s: " / ".join(fmt.format(x) for x in (s["min"], s["median"], s["max"]))
        ratio = n["median"] / o["median"] if o["median"] else float("nan")
        a(f"| {name} | {f(o)} | {f(n)} | {ratio:.3f} |")
    for fmt, r in A["replay"].items():
        row(f"replay {fmt}: CPU-s", r["old"]["cpu"], r["new"]["cpu"])
        row(f"replay {fmt}: peak RSS MB", {k: v / 1024 for k, v in r["old"]["rss_kb"].items() if k != "runs"},
            {k: v / 1024 for k, v in r["new"]["rss_kb"].items() if k != "runs"}, "{:.0f}")
    for n, r in A["workers"].items():
        row(f"replay mixed, {n} worker{'s' if n > 1 else ''}: wall s", r["old"]["wall"], r["new"]["wall"])
        row(f"replay mixed, {n} worker{'s' if n > 1 else ''}: CPU-s", r["old"]["cpu"], r["new"]["cpu"])
    for n, r in A["udp"].items():
        row(f"UDP mixed at {fmt_m(c.rates[-1])} M rec/s, {n} worker{'s' if n > 1 else ''}: "
            "CPU-s per M records", r["old"]["cpu_per_m"], r["new"]["cpu_per_m"])
        row(f"UDP mixed at {fmt_m(c.rates[-1])} M rec/s, {n} worker{'s' if n > 1 else ''}: loss %",
            r["old"]["loss_pct"], r["new"]["loss_pct"], "{:.2f}")
    if A["callgrind"].get("old") and A["callgrind"].get("new"):
        o, n = A["callgrind"]["old"], A["callgrind"]["new"]
        a(f"| callgrind Ir per record (net, mixed; not timing: no noise) | {o:.0f} | {n:.0f} | "
          f"{n / o:.3f} |")
    a("")
    return "\n".join(L)


# ---------------------------------------------------------------- (c) raw pcap
def bench_pcap(c):
    script = os.path.join(c.src, "bench", "bench_pcap.sh")
    if not os.access(script, os.X_OK) and not os.path.exists(script):
        return {"note": "bench/bench_pcap.sh (raw pcap to flows, the meter helper's script) is "
                        "not in the tree yet: section (c) not measured."}
    env = dict(os.environ, TW_BIN=c.bin, TW_SRC=c.src, BENCH_WORK=c.work,
               BENCH_QUICK="1" if c.quick else "0", BENCH_PIN="1" if c.pin else "0")
    try:
        r = subprocess.run(["bash", script], capture_output=True, text=True, env=env,
                           timeout=900)
    except subprocess.TimeoutExpired:
        return {"note": "bench/bench_pcap.sh did not finish within 15 minutes (a peer hung?)"}
    return {"rc": r.returncode, "markdown": r.stdout.strip(), "stderr": r.stderr[-2000:]}


# ---------------------------------------------------------------- report
def fmt_m(x):
    return f"{x / 1e6:.2f}"


def fmt_spread(sp, f="{:.2f}"):
    """A spread() as "median (min-max)"; the value alone when every run gave it."""
    lo, med, hi = (f.format(sp[k]) for k in ("min", "median", "max"))
    return med if lo == hi else f"{med} ({lo}-{hi})"


def fmt_lf(c, rate, e=None):
    """A loss-free rate for the report; e: its udp_loss_free entry, to say when the sender's
    limit, not the collector, ended it."""
    sh = e and e.get("sender_short")
    if sh and rate == max((r for r in c.rates if r < sh["offered_rps"]), default=0):
        return (f"{fmt_m(rate) if rate else 'none'} (the sender's limit: {fmt_m(sh['achieved_rps'])}"
                f" sent at {fmt_m(sh['offered_rps'])} offered)")
    if not rate:
        return f"below {fmt_m(c.rates[0])}"
    return fmt_m(rate) + (" (highest rate tried)" if rate == c.rates[-1] else "")


def disagreements(lf):
    """The plain statement of udp_loss_free's disagreeing points, one per (collector, workload)
    that has any; empty when the runs agree."""
    out = []
    for e in lf:
        if e["disagree"]:
            pts = "; ".join(f"{fmt_m(d['offered_rps'])} M rec/s: {d['loss_free_runs']} of "
                            f"{d['runs']} runs loss-free, loss {fmt_spread(d['loss_pct'])} %"
                            for d in e["disagree"])
            out.append(f"{e['collector']} {e['format']}: {pts}")
    return out


def report(c, R):
    L = []
    a = L.append
    a(f"## Benchmark run {c.stamp}{' (quick)' if c.quick else ''}\n")
    a(f"- Machine: {c.machine}")
    a(f"- Command: `{c.command}`")
    a(f"- transitwatch {c.version}, build {c.build_type}; peers: {', '.join(c.peers) or 'none'}")
    a(f"- Workloads: `twgen bulk`, {c.records} records each, {c.hosts} inside hosts in 4096 "
      f"prefixes of 50 customers, 4 exporters; all detectors on; socket buffer {c.rcvbuf} for "
      f"every collector{'; collector pinned to CPU 0, sender to CPU 1' if c.pin else ''}.")
    a("")
    if "replay" in R:
        a("### (b) Replay of export captures from a file (transitwatch replay, all detectors on)\n")
        a("| workload | records | CPU-s | CPU-s per M records | records per CPU-s | peak RSS MB | "
          "user CPU-s | sys CPU-s |")
        a("|---|---:|---:|---:|---:|---:|---:|---:|")
        for fmt, r in R["replay"].items():
            a(f"| {fmt} | {r['records']} | {r['cpu']:.3f} | {r['cpu_per_m']:.3f} | "
              f"{fmt_m(r['rec_per_cpu_s'])} M | {r['rss_kb'] / 1024:.0f} | "
              f"{r.get('user', 0):.2f} | {r.get('sys', 0):.2f} |")
        a(f"\nStart-up alone (1000 records): {c.startup['cpu']:.3f} CPU-s, "
          f"{c.startup['rss_kb'] / 1024:.0f} MB.\n")
    if "udp" in R:
        n = c.udp_reps
        a("### (a) UDP over loopback at rising offered rates\n")
        a(f"{n} run{'s' if n > 1 else ''} per point and collector (`--reps`): a repetition is the "
          "whole sweep, and at each point the collectors run one after the other, so a slow "
          "minute falls on all of them. Received rate and loss: median (min-max) of the runs; "
          "the other columns: medians. A run is loss-free when it lost under "
          f"{LOSS_FREE_PCT} % of the records sent.\n")
        a("| collector | workload | offered M rec/s | sent M rec/s | received M rec/s | loss % | "
          "loss-free runs | CPU-s per M records | peak RSS MB | user CPU-s | sys CPU-s | "
          "minor faults | RSS at start MB |")
        a("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        for p in R["udp_points"]:
            rx = {k: v / 1e6 for k, v in p["received_rps"].items() if k != "runs"}
            a(f"| {p['collector']} | {p['format']} | {fmt_m(p['offered_rps'])} | "
              f"{fmt_m(p['achieved_rps'])} | {fmt_spread(rx)} | {fmt_spread(p['loss_pct'])} | "
              f"{p['loss_free_runs']} of {p['runs']} | {p['cpu_per_m']:.3f} | "
              f"{p['rss_kb'] / 1024:.0f} | {p['user']:.2f} | {p['sys']:.2f} | "
              f"{p['minflt']:.0f} | {p['rss_start_kb'] / 1024:.0f} |")
        a("")
        a("Loss-free rate: the highest offered rate at which the median run, and the median run "
          "of every lower rate, lost nothing; beside it each repetition's own. Only rates the "
          f"sender reached count (it sent at least {REACHED:.0%} of the offered rate). Capacity: "
          "the highest such rate that was loss-free with every higher one losing: a collector "
          "whose single run lost a little at a lower rate (a stall, not its limit) keeps it.\n")
        a("| workload | collector | loss-free to, M rec/s | each repetition | capacity: every "
          "higher rate lost, M rec/s |")
        a("|---|---|---|---|---|")
        for e in R["udp_loss_free"]:
            a(f"| {e['format']} | {e['collector']} | {fmt_lf(c, e['median'], e)} | "
              f"{', '.join(fmt_m(x) for x in e['reps'])} | {fmt_lf(c, e['capacity'], e)} |")
        a("")
        dis = disagreements(R["udp_loss_free"])
        if n == 1:
            a("One run per point: how far runs of one point differ is not measured, and a ratio "
              "from this run may be one run's luck (`--reps N`).\n")
        elif dis:
            a("**Runs that disagree** (some loss-free, some losing at the same point, at or "
              "below the first rate the median run lost at): " + " | ".join(dis) + ". A loss-free "
              "rate or ratio that rests on one of these points is not supported by this run.\n")
        else:
            a(f"Every point's {n} runs agree on loss-free or losing up to each collector's "
              "first losing rate.\n")
    if R.get("ratios"):
        a("### Targets (ratios measured in this run)\n")
        a("| target | measured | met |")
        a("|---|---|---|")
        for t, m, ok in R["ratios"]:
            a(f"| {t} | {m} | {ok} |")
        a("")
    if "workers" in R:
        w = R["workers"]
        a("### 1 vs 2 workers\n")
        a(f"| workers | replay wall M rec/s (min of {c.reps}) | replay CPU-s |")
        a("|---:|---:|---:|")
        for n in (1, 2):
            rp = w[f"replay_{n}"]
            a(f"| {n} | {fmt_m(rp['rps_wall'])} | {rp['cpu']:.3f} |")
        a(f"\nSpeed-up 1 -> 2 workers, replay: "
          f"{w['replay_1']['wall'] / w['replay_2']['wall']:.2f}x.\n")
        if "long_1" in w:
            l1, l2 = w["long_1"], w["long_2"]
            a(f"The same replay on {l1['records']} records (5x, same hosts, one window; min of "
              f"{c.reps}, runs alternating): 1 worker {fmt_m(l1['rps_wall'])}, 2 workers "
              f"{fmt_m(l2['rps_wall'])} M rec/s: **{l1['wall'] / l2['wall']:.2f}x**; marginal "
              f"rate beyond the first {c.records} records (start-up, "
              f"the window close and the exit left out): {fmt_m(l1['rps_marginal'])} -> "
              f"{fmt_m(l2['rps_marginal'])} M rec/s, "
              f"{l2['rps_marginal'] / max(l1['rps_marginal'], 1):.2f}x.\n")
        u1, u2 = w["udp_1"], w["udp_2"]
        a(f"UDP, mixed workload at {fmt_m(c.rates[-1])} M rec/s offered, {u1['runs']} run"
          f"{'s' if u1['runs'] > 1 else ''} each, alternating; received rate and loss median "
          "(min-max), the rest medians:\n")
        a("| workers | placement | received M rec/s | loss % | CPU-s per M records | "
          "sender CPU-s |")
        a("|---:|---|---:|---:|---:|---:|")
        for n, u in ((1, u1), (2, u2)):
            rx = {k: v / 1e6 for k, v in u["received_rps"].items() if k != "runs"}
            a(f"| {n} | {u['placement']} | {fmt_spread(rx)} | {fmt_spread(u['loss_pct'])} | "
              f"{u['cpu_per_m']:.3f} | {u['sender_cpu']:.2f} |")
        gain = u2["received_rps"]["median"] / max(u1["received_rps"]["median"], 1)
        a(f"\nUDP received 1 -> 2 workers: {gain:.2f}x (medians).\n")
        if u2["sender_shares_core"]:
            a("What this UDP figure can and cannot show: the machine has too few cores for a "
              "2-worker collector and the sender each to have their own. The collector's three "
              "busy threads (receive, pipeline with shard 0, worker) share two cores with the "
              "sender, and on loopback the kernel's delivery of every datagram up to the "
              "collector's socket runs on the sending core (the sender CPU-s column: the sender "
              "process's own user and system time, loading the capture included). So the "
              "2-worker row is two workers on one core plus what the sender leaves of the "
              "other, against one worker with a core of its own: it shows whether a second "
              "worker helps a collector that has to share, not what a core per worker gives "
              "(most likely more; measuring that needs a core for the sender, or the traffic "
              "from another host). The 1 -> 2 worker target is the replay rate above, where "
              "the records come from a file.\n")
    if R.get("memory"):
        m = R["memory"]
        a("### Memory\n")
        g = m.get("gauges", {})
        a(f"{m['hosts']} active hosts (replay, all detectors on, hosts_max = 1.25 x hosts): peak RSS "
          f"{m['rss_kb'] / 1024:.0f} MB ({m['bytes_per_host']:.0f} B per active host); host "
          f"evictions {m['host_evictions']}. Model: host tables {g.get('hosts_capacity', 0)} "
          f"positions x (8 B + 1 bit) + {g.get('hosts_high_water', 0)} hosts held at most x "
          f"{g.get('host_slot_bytes', 0)} B = {m['table_kb'] / 1024:.0f} MB "
          f"({100 * m['table_share']:.0f} % of the peak), the rest (detector pools, lists, "
          f"decoder) {(m['rss_kb'] - m['table_kb']) / 1024:.0f} MB"
          + (f"; host tables = the formula with the model's {MODEL_SLOT_BYTES} B slot (1 %), "
             f">= 80 % of the peak from 5 M hosts: "
             f"{'yes' if m['model_ok'] else 'NO'}.\n"
             if m["model_checked"] else ".\n"))
    if R.get("callgrind"):
        g = R["callgrind"]
        a("### Instructions per record (callgrind)\n")
        a(f"Replay of a {g['big']['records']}-record mixed capture: {g['big']['ir']:,} Ir; "
          f"net of a 1000-record run: **{g['ir_per_record']:.0f} Ir per record** "
          f"({g['ir_per_record_gross']:.0f} gross).\n")
        a("| function | Ir per record | % |")
        a("|---|---:|---:|")
        for fn, ipr, pct in g["top"]:
            a(f"| {fn} | {ipr:.1f} | {pct:.2f} |")
        a("")
    if R.get("against"):
        a(report_against(c, R["against"]))
    if R.get("hostsweep"):
        a(report_hostsweep(R["hostsweep"]))
    if "pcap" in R:
        a("### (c) Raw pcap to flows\n")
        p = R["pcap"]
        a(p.get("markdown") or p.get("note") or f"bench_pcap.sh failed (rc {p.get('rc')}): "
          f"{p.get('stderr', '')}")
        a("")
    return "\n".join(L)


def ratios(c, R):
    out = []
    pts = R.get("udp_points", [])
    nf = [p for p in pts if p["collector"] == "nfcapd"]
    tw = [p for p in pts if p["collector"] == "transitwatch"]
    reps = c.udp_reps
    of_runs = f"medians of {reps} runs" if reps > 1 else "one run per rate: no spread"
    if nf and R.get("replay"):
        best = min(p["cpu_per_m"] for p in nf if p["cpu_per_m"] == p["cpu_per_m"])
        worst = max(r["cpu_per_m"] for r in R["replay"].values())
        out.append(("replay <= 1/5 of nfcapd's best CPU-s/M",
                    f"{worst:.3f} vs {best:.3f} / 5 = {best / 5:.3f} (nfcapd: {of_runs})",
                    "yes" if worst <= best / 5 else f"no ({worst / (best / 5):.1f}x over)"))
    if nf and tw:
        pairs = [(t, n) for t in tw for n in nf
                 if t["format"] == n["format"] and t["offered_rps"] == n["offered_rps"]]
        # issue 15: at most nfcapd's, compared where both lost nothing (a collector that drops
        # part of the offered records spends its CPU on fewer of them: not the same work)
        both = [(t, n) for t, n in pairs
                if loss_free(t["loss_pct"]["median"]) and loss_free(n["loss_pct"]["median"])
                and t["cpu_per_m_runs"] and n["cpu_per_m_runs"]]
        free = [t["cpu_per_m"] / n["cpu_per_m"] for t, n in both]
        # the spread: each point's runs at their most and least favourable to transitwatch
        lo = [min(t["cpu_per_m_runs"]) / max(n["cpu_per_m_runs"]) for t, n in both]
        hi = [max(t["cpu_per_m_runs"]) / min(n["cpu_per_m_runs"]) for t, n in both]
        spread_txt = f"; runs' extremes {min(lo):.2f}-{max(hi):.2f}" if reps > 1 and both else ""
        out.append(("UDP CPU-s/M <= nfcapd's at the same rate, both loss-free",
                    f"ratio {min(free):.2f}-{max(free):.2f} over {len(free)} rates ({of_runs}"
                    f"{spread_txt})" if free else "no rate where both lost nothing",
                    "yes" if free and max(free) <= 1.0 else "no"))
        lfs = {(e["collector"], e["format"]): e for e in R.get("udp_loss_free", [])}
        for fmt in c.udp_formats:
            t, n = lfs.get(("transitwatch", fmt)), lfs.get(("nfcapd", fmt))
            if not t or not n:
                continue
            x = lambda tl, nl: f"{tl / nl:.2f}x" if nl else "-"
            measured = (f"{fmt_lf(c, t['median'], t)} vs {fmt_lf(c, n['median'], n)} M rec/s, "
                        f"{x(t['median'], n['median'])} ({of_runs})")
            if reps > 1:
                measured += ("; each repetition: transitwatch "
                             f"{', '.join(fmt_m(v) for v in t['reps'])}, nfcapd "
                             f"{', '.join(fmt_m(v) for v in n['reps'])}: "
                             f"{x(min(t['reps']), max(n['reps']))} to "
                             f"{x(max(t['reps']), min(n['reps']))}")
            ok = lambda tl, nl: bool(nl) and tl >= 1.5 * nl
            met = "yes" if ok(t["median"], n["median"]) else "no"
            split = [f"{e['collector']} at {fmt_m(d['offered_rps'])} ({d['loss_free_runs']} of "
                     f"{d['runs']} runs loss-free)" for e in (t, n) for d in e["disagree"]]
            if split and (ok(min(t["reps"]), max(n["reps"]))
                          == ok(max(t["reps"]), min(n["reps"]))):
                # the verdict holds whichever runs are taken; the ratio's value does not
                met += (f" (whichever runs are taken; the ratio's value is not supported: the "
                        f"runs disagree: {'; '.join(split)})")
            elif split:
                met = (f"not supported ({met} by the medians, but the runs disagree: "
                       f"{'; '.join(split)})")
            elif reps == 1:
                met += " (one run: not enough to quote)"
            need, sink = 1.5 * max(n["median"], n["capacity"]), lfs.get((UdpSink.name, fmt))
            top = max((p["achieved_rps"] for p in pts
                       if p["format"] == fmt and reached(p)), default=0)
            if n["median"] and need > top and (not sink or sink["median"] >= top):
                met += (f"; 1.5x nfcapd's is {fmt_m(need)} M rec/s, above the highest rate the "
                        f"sender reached ({fmt_m(top)}): not measured in this run")
            elif sink and n["median"] and need > sink["median"]:
                # the rate the target asks for is more than this harness can be shown to carry
                met += (f"; 1.5x nfcapd's is {fmt_m(need)} M rec/s, above the bare recvmmsg "
                        f"loop's loss-free {fmt_lf(c, sink['median'], sink)}: not measurable with this "
                        "machine and sender")
            measured += (f"; by capacity (every higher rate lost): {fmt_lf(c, t['capacity'], t)} "
                         f"vs {fmt_lf(c, n['capacity'], n)}, {x(t['capacity'], n['capacity'])}")
            out.append((f"UDP loss-free rate >= 1.5x nfcapd's ({fmt})", measured, met))
    lfs = {(e["collector"], e["format"]): e for e in R.get("udp_loss_free", [])}
    # what each collector spends beyond receiving: its CPU-s/M less the bare loop's at the
    # same point, where both lost nothing (nfcapd close to 0: receiving is its cost)
    sk = {(p["format"], p["offered_rps"]): p for p in pts if p["collector"] == UdpSink.name
          and loss_free(p["loss_pct"]["median"]) and p["cpu_per_m_runs"]}
    beyond = []
    for name, ps in (("transitwatch", tw), ("nfcapd", nf)):
        d = [p["cpu_per_m"] - sk[(p["format"], p["offered_rps"])]["cpu_per_m"] for p in ps
             if (p["format"], p["offered_rps"]) in sk and loss_free(p["loss_pct"]["median"])
             and p["cpu_per_m_runs"]]
        if d:
            beyond.append(f"{name} {min(d):.3f} to {max(d):.3f} over {len(d)} points")
    if beyond:
        out.append(("CPU-s/M beyond receiving: the collector's less the bare recvmmsg loop's "
                    "at the same rate, both loss-free", f"{'; '.join(beyond)} ({of_runs})",
                    "-"))
    for fmt in c.udp_formats:
        sink = lfs.get((UdpSink.name, fmt))
        if sink:
            top = max((p for p in pts if p["collector"] == UdpSink.name and p["format"] == fmt),
                      key=lambda p: p["offered_rps"])
            out.append((f"harness ceiling ({fmt}): the bare recvmmsg loop's loss-free rate",
                        f"{fmt_lf(c, sink['median'], sink)} M rec/s; at the top rate the sender "
                        f"reached {fmt_m(top['achieved_rps'])} of {fmt_m(top['offered_rps'])} "
                        f"offered ({of_runs})", "-"))
    if R.get("workers"):
        w = R["workers"]
        short = w["replay_1"]["wall"] / w["replay_2"]["wall"]
        lng = w["long_1"]["wall"] / w["long_2"]["wall"] if "long_1" in w else 0
        out.append(("1 -> 2 workers >= 1.8x the replay rate",
                    f"{short:.2f}x on {c.records} records, {lng:.2f}x on {5 * c.records}",
                    "yes" if min(short, lng) >= 1.8 else
                    ("on the longer replay only" if lng >= 1.8 else "no")))
    if R.get("memory"):
        m = R["memory"]
        out.append((f"{m['hosts']} active hosts in <= 1 GiB (every detector on)",
                    f"{m['rss_kb'] / 1024:.0f} MB", "yes" if m["rss_kb"] <= 1024 * 1024 else "no"))
        if m["model_checked"]:
            out.append(("memory model: the slot and the host tables as modelled, >= 80 % of the peak from 5 M hosts",
                        f"{m['table_kb'] / 1024:.0f} of {m['rss_kb'] / 1024:.0f} MB",
                        "yes" if m["model_ok"] else "no"))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--src", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--command", default="bench/run.sh")
    ap.add_argument("--build-type", default="RelWithDebInfo")
    ap.add_argument("--only", default="replay,udp,workers,memory,callgrind,hostsweep,pcap")
    ap.add_argument("--against", default=None,
                    help="an older build directory: measure its transitwatch against this one")
    ap.add_argument("--against-reps", type=int, default=None)
    ap.add_argument("--mem-hosts", type=int, default=None,
                    help="active hosts of the memory run (default 10 000 000; --quick 50 000)")
    ap.add_argument("--hosts", type=int, default=None,
                    help="inside hosts of the replay, UDP, workers and callgrind workloads "
                         "(default 100 000; --quick 20 000)")
    ap.add_argument("--rates", default=None,
                    help="UDP offered rates in M records/s, comma-separated (default 0.8,...,4.0)")
    ap.add_argument("--reps", type=int, default=None,
                    help="UDP: runs per (workload, rate) and collector, and of each workers' UDP "
                         "point (default 3; --quick 1)")
    a = ap.parse_args()
    c = Ctx()
    c.bin, c.src, c.work, c.quick, c.command = a.bin, a.src, a.work, a.quick, a.command
    c.build_type = a.build_type
    c.tw = os.path.join(a.bin, "collector", "transitwatch")
    c.tw_old = os.path.join(a.against, "collector", "transitwatch") if a.against else None
    c.against_reps = a.against_reps or (3 if a.quick else 5)
    c.twgen = os.path.join(a.bin, "tests", "twgen")
    c.udp_sink = os.path.join(a.bin, "bench", "udp_sink")
    if not os.access(c.udp_sink, os.X_OK):
        c.udp_sink = None
    c.nfcapd = shutil.which("nfcapd") or (os.path.exists("/usr/bin/nfcapd") and "/usr/bin/nfcapd")
    c.nfacctd = shutil.which("nfacctd") or (os.path.exists("/usr/sbin/nfacctd")
                                            and "/usr/sbin/nfacctd")
    c.pin = (os.cpu_count() or 1) >= 2 and shutil.which("taskset") is not None
    c.records = 100000 if a.quick else 2000000
    c.hosts = a.hosts if a.hosts is not None else (20000 if a.quick else 100000)
    if c.hosts < 1:
        raise SystemExit(f"bench: --hosts must be >= 1: {a.hosts}")
    c.hosts_max = max(262144 if a.quick else 1048576, int(c.hosts * 1.25))
    c.mem_hosts = a.mem_hosts if a.mem_hosts is not None else (50000 if a.quick else 10000000)
    if c.mem_hosts < 1:
        raise SystemExit(f"bench: --mem-hosts must be >= 1: {a.mem_hosts}")
    c.cg_records = 20000 if a.quick else 200000
    c.sweep_rounds = 3 if a.quick else 15
    c.reps = 1 if a.quick else 3
    c.udp_reps = a.reps if a.reps is not None else (1 if a.quick else 3)
    if c.udp_reps < 1:
        raise SystemExit(f"bench: --reps must be >= 1: {a.reps}")
    c.rates = [0.4e6, 1.2e6] if a.quick else [0.8e6, 1.6e6, 2.4e6, 3.2e6, 4.0e6]
    if a.rates:
        try:
            c.rates = sorted(float(x) * 1e6 for x in a.rates.split(","))
        except ValueError:
            raise SystemExit(f"bench: --rates: not a comma list of M records/s: {a.rates}")
        if not c.rates or c.rates[0] <= 0:
            raise SystemExit(f"bench: --rates: rates must be > 0: {a.rates}")
    c.udp_formats = ["v5"] if a.quick else ["v5", "mixed"]
    # one socket buffer for every collector: what an unprivileged SO_RCVBUF may have
    try:
        with open("/proc/sys/net/core/rmem_max") as f:
            c.rcvbuf_bytes = max(int(f.read()), 65536)
    except OSError:
        c.rcvbuf_bytes = 4 << 20
    c.rcvbuf = f"{c.rcvbuf_bytes}"
    c.customers = os.path.join(c.work, "customers.csv")
    c.stamp = datetime.datetime.now().strftime("%Y-%m-%d %H:%M")
    cpu = "?"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = re.search(r"model name\s*:\s*(.*)", f.read()).group(1)
    except (OSError, AttributeError):
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    c.machine = (f"{cpu}, {os.cpu_count()} CPUs, {mem:.0f} GiB, Linux {platform.release()}, "
                 f"rmem_max {c.rcvbuf_bytes}")
    c.version = subprocess.run([c.tw, "--version"], capture_output=True, text=True).stdout.strip()
    c.peers = []
    for name, cmd in (("nfcapd", [c.nfcapd, "-V"]), ("nfacctd", [c.nfacctd, "-V"])):
        if cmd[0]:
            v = subprocess.run(cmd, capture_output=True, text=True)
            first = (v.stdout + v.stderr).strip().splitlines()
            c.peers.append(first[0][:60] if first else name)
    os.makedirs(c.work, exist_ok=True)
    only = set(a.only.split(","))
    make_workloads(c)
    R = {}
    if "replay" in only:
        R["replay"] = bench_replay(c)
    if "udp" in only:
        R["udp"] = bench_udp(c)
        R["udp_points"] = udp_points(R["udp"])
        R["udp_loss_free"] = udp_loss_free(R["udp_points"], R["udp"])
    if "workers" in only:
        R["workers"] = bench_workers(c)
    if "memory" in only:
        R["memory"] = bench_memory(c)
    if "callgrind" in only:
        R["callgrind"] = bench_callgrind(c)
    if "hostsweep" in only:
        R["hostsweep"] = bench_hostsweep(c)
    if "pcap" in only:
        R["pcap"] = bench_pcap(c)
    if c.tw_old:
        R["against"] = bench_against(c)
    R["ratios"] = ratios(c, R)
    md = report(c, R)
    with open(a.out, "w") as f:
        f.write(md + "\n")
    with open(os.path.splitext(a.out)[0] + ".json", "w") as f:
        json.dump(R, f, indent=1, default=str)
    print(md)


if __name__ == "__main__":
    main()
