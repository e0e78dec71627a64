#!/usr/bin/env python3
"""Hostile-input suite driver (called by hostile.sh).

  hostile.py replay TW CASEDIR CONFIG        every case replayed on its own
  hostile.py live TW TWGEN CASEDIR CONFIG TMP every sendable case sent to one running daemon

CASEDIR holds the captures and MANIFEST.tsv written by `twgen hostile` (name, file, counter,
records, flags; see tests/gen/twgen_hostile.h). Every wait is bounded; exit status 0 = all
passed, 1 = failures (listed on stderr).
"""
import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request

SANITIZER_MARKS = ("ERROR: AddressSanitizer", "runtime error:", "ERROR: LeakSanitizer",
                   "Invalid read", "Invalid write")


def manifest(casedir):
    cases = []
    with open(os.path.join(casedir, "MANIFEST.tsv")) as f:
        for line in f:
            name, fname, counter, records, flags = line.rstrip("\n").split("\t")
            cases.append({"name": name, "file": os.path.join(casedir, fname), "counter": counter,
                          "records": int(records), "flags": set(flags.split(",")) - {"-"}})
    return cases


def counter_value(totals, dotted):
    obj = totals
    for part in dotted.split("."):
        obj = obj[part]
    return obj


def replay(tw, casedir, config):
    cases = manifest(casedir)
    failures = []
    for c in cases:
        try:
            p = subprocess.run([tw, "replay", "-c", config, "--no-summaries", c["file"]],
                               capture_output=True, text=True, timeout=60)
        except subprocess.TimeoutExpired:
            failures.append(f"{c['name']}: replay hung (> 60 s)")
            continue
        why = []
        if p.returncode < 0:
            why.append(f"killed by signal {-p.returncode}")
        if any(m in p.stderr for m in SANITIZER_MARKS):
            why.append("sanitizer report: " + p.stderr[-400:])
        lines = [l for l in p.stdout.splitlines() if '"transitwatch.totals"' in l]
        totals = json.loads(lines[-1])["transitwatch"]["totals"] if lines else None
        if totals is None:
            why.append("no totals line")
        else:
            if totals["records"] != c["records"]:
                why.append(f"records {totals['records']} != {c['records']}")
        if c["counter"] == "exit":
            if p.returncode != 1:
                why.append(f"exit status {p.returncode}, want 1")
            if os.path.basename(c["file"]) not in p.stderr:
                why.append("error does not name the file: " + p.stderr.strip()[-200:])
            if p.stderr.count("\n") > 5:
                why.append("more than a few log lines for one bad file")
        else:
            if p.returncode != 0:
                why.append(f"exit status {p.returncode}: {p.stderr.strip()[-200:]}")
            if totals is not None:
                try:
                    v = counter_value(totals, c["counter"])
                except KeyError:
                    v = None
                if not v:
                    why.append(f"{c['counter']} = {v}, want > 0")
        if why:
            failures.append(f"{c['name']}: " + "; ".join(why))
    print(f"hostile replay: {len(cases)} cases, {len(cases) - len(failures)} passed")
    return cases, failures


COUNTER_METRICS = {}


def metric_line_name(counter):
    """The /metrics line of a JSON totals counter, from the one table (--list-counters)."""
    return COUNTER_METRICS[counter]


def load_counter_metrics(tw):
    out = subprocess.run([tw, "--list-counters"], capture_output=True, text=True, check=True)
    for line in out.stdout.splitlines():
        key, metric = line.split(" ", 1)
        if key != "-":
            COUNTER_METRICS[key] = metric


def scrape(url):
    with urllib.request.urlopen(url + "/metrics", timeout=5) as r:
        text = r.read().decode()
    out = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            k, _, v = line.rpartition(" ")
            out[k] = float(v)
    return out


def healthy(url):
    """The daemon's main loop runs: /healthz answers 200 "ok", or 503 "degraded: ..." (the data
    has trouble, as hostile data does: no customer map, clocks off), but not "stalled"."""
    try:
        with urllib.request.urlopen(url + "/healthz", timeout=3) as r:
            return r.status == 200
    except urllib.error.HTTPError as e:
        return e.code == 503 and e.read().decode().startswith("degraded:")
    except Exception:
        return False


def live(tw, twgen, casedir, config, tmp):
    cases = [c for c in manifest(casedir) if "nosend" not in c["flags"]]
    log_path = os.path.join(tmp, "daemon.log")
    log = open(log_path, "w")
    d = subprocess.Popen([tw, "--config", config], stdout=subprocess.DEVNULL, stderr=log)
    failures = []
    try:
        udp = http = None
        deadline = time.time() + 15
        while time.time() < deadline and not (udp and http):
            text = open(log_path).read()
            m1 = re.search(r"listening on UDP port (\d+)", text)
            m2 = re.search(r"metrics on .*\(port (\d+)\)", text)
            udp, http = (m1 and m1.group(1)), (m2 and m2.group(1))
            time.sleep(0.1)
        if not (udp and http):
            return cases, ["daemon did not start: " + open(log_path).read()[-500:]]
        url = f"http://127.0.0.1:{http}"
        deadline = time.time() + 10
        while time.time() < deadline and not healthy(url):
            time.sleep(0.1)
        load_counter_metrics(tw)
        rec_key = metric_line_name("records")
        dg_key = "transitwatch_udp_datagrams_total"
        before = scrape(url)
        for c in cases:
            out = subprocess.run([twgen, "send", "--dport", "2055", c["file"], f"127.0.0.1:{udp}"],
                                 capture_output=True, text=True, timeout=60)
            m = re.search(r"datagrams=(\d+)", out.stdout)
            if out.returncode != 0 or not m:
                failures.append(f"{c['name']}: twgen send failed: {out.stderr.strip()[-200:]}")
                continue
            sent = int(m.group(1))
            key = metric_line_name(c["counter"])
            want_dg = before.get(dg_key, 0) + sent
            want_rec = before.get(rec_key, 0) + c["records"]
            # metrics are published once a second: wait for every datagram to be taken
            now = before
            deadline = time.time() + 8
            while time.time() < deadline:
                if d.poll() is not None:
                    break
                try:
                    now = scrape(url)
                except Exception:
                    now = {}
                if now.get(dg_key, 0) >= want_dg and now.get(rec_key, 0) >= want_rec:
                    break
                time.sleep(0.15)
            why = []
            if d.poll() is not None:
                failures.append(f"{c['name']}: daemon died (status {d.returncode})")
                break
            if not healthy(url):
                why.append("/healthz: the main loop does not answer (stalled or gone)")
            if now.get(dg_key, 0) != want_dg:
                why.append(f"datagrams {now.get(dg_key)} != {want_dg}")
            if now.get(rec_key, 0) != want_rec:
                why.append(f"records grew by {now.get(rec_key, 0) - before.get(rec_key, 0)}, "
                           f"want {c['records']}")
            if "nolive" not in c["flags"] and not now.get(key, 0) > before.get(key, 0):
                why.append(f"{key} did not move ({before.get(key)} -> {now.get(key)})")
            if why:
                failures.append(f"{c['name']}: " + "; ".join(why))
            before = now
        if now.get("transitwatch_udp_kernel_drops_total", 0):
            failures.append("kernel drops during the run: sends were too fast for the buffer")
    finally:
        if d.poll() is None:
            d.send_signal(signal.SIGTERM)
            try:
                d.wait(timeout=15)
            except subprocess.TimeoutExpired:
                d.kill()
                failures.append("daemon did not stop on SIGTERM")
        log.close()
    if d.returncode not in (0, None) and not any("died" in f for f in failures):
        failures.append(f"daemon exit status {d.returncode}")
    text = open(log_path).read()
    if any(m in text for m in SANITIZER_MARKS):
        failures.append("sanitizer report in the daemon log: " + text[-600:])
    print(f"hostile live: {len(cases)} cases sent to one daemon, "
          f"{len(cases) - len([f for f in failures if ':' in f])} passed")
    return cases, failures


def main():
    mode = sys.argv[1]
    if mode == "replay":
        _, failures = replay(sys.argv[2], sys.argv[3], sys.argv[4])
    elif mode == "live":
        _, failures = live(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6])
    else:
        print("usage: hostile.py replay|live ...", file=sys.stderr)
        return 2
    for f in failures:
        print("FAIL: " + f, file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
