#!/usr/bin/env bash
# The benchmark's UDP statistics (bench/bench.py) on made-up runs, no collector started: points
# as medians with min-max, a loss-free rate needs the median run of that rate and of every lower
# one loss-free, each repetition's own loss-free rate, a peer whose runs disagree makes the
# ratio "not supported" in the targets and the report, a rate the sender did not reach ends a
# loss-free rate, a collector's capacity is not ended by a lower rate's stall, the bare receiver's
# ceiling and the CPU beyond receiving are reported, and the 2-worker UDP point on a 2-CPU
# machine puts the sender on a worker's core and says so.
set -euo pipefail
: "${TW_SRC:?}"
command -v python3 >/dev/null || { echo "SKIP: python3 missing"; exit 77; }
python3 - "$TW_SRC/bench" <<'PY'
import math, os, sys
sys.path.insert(0, sys.argv[1])
import bench as B

def run(coll, fmt, rate, loss, rep, cpu=0.3):
    return {"collector": coll, "format": fmt, "offered_rps": rate, "loss_pct": loss, "rep": rep,
            "received_rps": rate * (1 - loss / 100), "cpu_per_m": cpu, "achieved_rps": rate,
            "rss_kb": 1024, "user": 0.1, "sys": 0.1, "minflt": 10, "rss_start_kb": 512,
            "sender_cpu": 0.2}

M = 1e6
rates = [0.8 * M, 1.6 * M, 2.4 * M, 3.2 * M]
# transitwatch: loss-free to 2.4 in every repetition, loses at 3.2
# nfcapd: 0.8 fine; 1.6 loses in one of three runs (median loss-free); 2.4 loses in two of
# three (median losing); 3.2 loss-free in two of three (above its first losing rate: ignored)
loss = {"transitwatch": [[0, 0, 0, 5], [0, 0, 0, 4], [0, 0, 0.005, 6]],
        "nfcapd": [[0, 0, 0, 0], [0, 30, 40, 0], [0, 0, 20, 50]]}
runs = [run(coll, "mixed", rates[k], loss[coll][i][k], i, 0.3 if coll == "transitwatch" else 0.1 * (i + 1))
        for i in range(3) for k in range(4) for coll in ("transitwatch", "nfcapd")]
pts = B.udp_points(runs)
assert len(pts) == 8, pts
p = next(p for p in pts if p["collector"] == "nfcapd" and p["offered_rps"] == 1.6 * M)
assert p["runs"] == 3 and p["loss_free_runs"] == 2, p
assert p["loss_pct"]["median"] == 0 and p["loss_pct"]["max"] == 30, p
assert math.isclose(p["received_rps"]["min"], 1.6 * M * 0.7), p
assert math.isclose(p["cpu_per_m"], 0.2), p
lf = {e["collector"]: e for e in B.udp_loss_free(pts, runs)}
t, n = lf["transitwatch"], lf["nfcapd"]
assert t["median"] == 2.4 * M and t["reps"] == [2.4 * M] * 3 and not t["disagree"], t
# nfcapd's median: 0.8, 1.6 free, 2.4 losing -> 1.6, although 3.2 is loss-free by the median
assert n["median"] == 1.6 * M, n
assert n["reps"] == [3.2 * M, 0.8 * M, 1.6 * M], n
assert [d["offered_rps"] for d in n["disagree"]] == [1.6 * M, 2.4 * M], n
assert B.loss_free_rate({0.8 * M: (0.5, True), 1.6 * M: (0, True)}) == 0
# a rate the sender did not reach ends the loss-free rate, as a loss does
assert B.loss_free_rate({0.8 * M: (0, True), 1.6 * M: (0, False), 2.4 * M: (0, True)}) == 0.8 * M
# capacity: the highest reached loss-free rate with every higher one losing; nfcapd's losses at
# 1.6 and 2.4 do not end it, as they end its loss-free rate
assert t["capacity"] == 2.4 * M and n["capacity"] == 3.2 * M, (t, n)
assert t["sender_short"] is None and n["sender_short"] is None, (t, n)

c = B.Ctx()
c.udp_reps, c.udp_formats, c.rates, c.records, c.reps = 3, ["mixed"], rates, 1000, 3
R = {"udp": runs, "udp_points": pts, "udp_loss_free": list(lf.values())}
rs = {t: (m, ok) for t, m, ok in B.ratios(c, R)}
m, ok = rs["UDP loss-free rate >= 1.5x nfcapd's (mixed)"]
assert ok.startswith("not supported (yes by the medians") and "nfcapd at 1.60 (2 of 3" in ok, ok
assert "2.40 vs 1.60 M rec/s, 1.50x (medians of 3 runs)" in m, m
assert "transitwatch 2.40, 2.40, 2.40, nfcapd 3.20, 0.80, 1.60: 0.75x to 3.00x" in m, m
m, ok = rs["UDP CPU-s/M <= nfcapd's at the same rate, both loss-free"]
assert m.startswith("ratio 1.50-1.50 over 2 rates (medians of 3 runs; runs' extremes 1.00-3.00)"), m

# runs that disagree but cannot change the verdict: the verdict stands, the value is not quoted
calm = [dict(r, loss_pct=0.0) if r["collector"] == "nfcapd" else r for r in runs]
calm = [dict(r, loss_pct=2.0) if r["collector"] == "transitwatch" and r["rep"] == 1
        and r["offered_rps"] == 2.4 * M else r for r in calm]
cp = B.udp_points(calm)
rs2 = {t: (m, ok) for t, m, ok in B.ratios(c, {"udp_points": cp,
                                               "udp_loss_free": B.udp_loss_free(cp, calm)})}
m, ok = rs2["UDP loss-free rate >= 1.5x nfcapd's (mixed)"]
assert ok.startswith("no (whichever runs are taken; the ratio's value is not supported") \
    and "transitwatch at 2.40 (2 of 3 runs loss-free)" in ok, ok

# without the disagreement: a plain yes/no; one run: said to be one run
runs1 = [r for r in runs if r["rep"] == 0]
pts1 = B.udp_points(runs1)
c.udp_reps = 1
R1 = {"udp": runs1, "udp_points": pts1, "udp_loss_free": B.udp_loss_free(pts1, runs1)}
rs1 = {t: (m, ok) for t, m, ok in B.ratios(c, R1)}
m, ok = rs1["UDP loss-free rate >= 1.5x nfcapd's (mixed)"]
assert ok.startswith("no (one run: not enough to quote)") and "(highest rate tried)" in m, (m, ok)
# 1.5x nfcapd's 3.2 is 4.8, a rate this run never offered: said, not judged
assert ok.endswith("1.5x nfcapd's is 4.80 M rec/s, above the highest rate the sender reached "
                   "(3.20): not measured in this run"), ok

c.udp_reps, c.quick, c.stamp, c.machine, c.command = 3, False, "now", "m", "bench/run.sh"
c.version, c.build_type, c.peers, c.hosts, c.rcvbuf, c.pin = "v", "b", [], 1, "1", True
R["ratios"] = B.ratios(c, R)
md = B.report(c, R)
assert "| nfcapd | mixed | 1.60 | 1.60 | 1.60 (1.12-1.60) | 0.00 (0.00-30.00) | 2 of 3 |" in md, md
assert "| mixed | nfcapd | 1.60 | 3.20, 0.80, 1.60 | 3.20 (highest rate tried) |" in md, md

# the bare receiver beside them, whose sender fell short at 3.2 (90 % of it sent): its loss-free
# rate and capacity end at 2.4 and say the sender ended them; the ceiling, beyond-receiving and
# 1.5x rows say what that means
sink = [dict(run("recvmmsg loop", "mixed", rates[k], 0, i, 0.05),
             achieved_rps=rates[k] * (0.9 if k == 3 else 1)) for i in range(3) for k in range(4)]
ps = B.udp_points(runs + sink)
lfs = {e["collector"]: e for e in B.udp_loss_free(ps, runs + sink)}
sk = lfs["recvmmsg loop"]
assert sk["median"] == 2.4 * M and sk["capacity"] == 2.4 * M and sk["reps"] == [2.4 * M] * 3, sk
assert math.isclose(sk["sender_short"]["achieved_rps"], 2.88 * M), sk
assert B.fmt_lf(c, sk["median"], sk) == "2.40 (the sender's limit: 2.88 sent at 3.20 offered)"
rs3 = {t: (m, ok) for t, m, ok in B.ratios(c, {"udp_points": ps,
                                               "udp_loss_free": list(lfs.values())})}
m, _ = rs3["harness ceiling (mixed): the bare recvmmsg loop's loss-free rate"]
assert m.startswith("2.40 (the sender's limit: 2.88 sent at 3.20 offered) M rec/s"), m
m, _ = rs3["CPU-s/M beyond receiving: the collector's less the bare recvmmsg loop's at the same "
           "rate, both loss-free"]
assert m.startswith("transitwatch 0.250 to 0.250 over 3 points; nfcapd 0.150 to 0.150 over 3 "
                    "points"), m
m, ok = rs3["UDP loss-free rate >= 1.5x nfcapd's (mixed)"]
assert "by capacity (every higher rate lost): 2.40 vs 3.20 (highest rate tried), 0.75x" in m, m
assert "1.5x nfcapd's is 4.80 M rec/s, above the bare recvmmsg loop's loss-free 2.40" in ok, ok
assert "**Runs that disagree**" in md and "nfcapd mixed: 1.60 M rec/s: 2 of 3 runs" in md, md

# the 2-worker UDP point: on 2 CPUs the sender shares a core, with more it has its own
cpus = os.cpu_count
try:
    os.cpu_count = lambda: 2
    pl = B.workers_placement(c, 2)
    assert pl["collector_cpus"] == "0-1" and pl["sender_on"] == 1 and pl["sender_shares_core"], pl
    assert pl["placement"].endswith("sender shares a core"), pl
    os.cpu_count = lambda: 4
    pl = B.workers_placement(c, 2)
    assert pl["sender_on"] == 2 and not pl["sender_shares_core"], pl
    assert B.workers_placement(c, 1)["collector_cpus"] == "0"
finally:
    os.cpu_count = cpus
PY
echo "OK: bench statistics"
