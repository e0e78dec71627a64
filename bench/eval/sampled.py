#!/usr/bin/env python3
"""Per-detector recall and false hosts of the same traffic exported as unsampled NetFlow and as
sampled sFlow (bench/eval/run.sh part 5), and the sampling rate at which each detector stops
being reliable. Standard library only.

usage: sampled.py [--md OUT.md] [--json OUT.json] [--reliable DET=RATE ...] [--max-fp X]
                  REF_LABEL=REF_SCORE.json RATE=SCORE.json [RATE=SCORE.json ...]

Each SCORE.json is score.py's --json of one replay against its truth. REF is the unsampled
NetFlow export of the same traffic (the IPFIX run), each RATE (1, 100, 1000, ...) the sFlow
export at 1:RATE. Several REF entries are allowed (a slice for rate 1, the whole scenario for the
others): "netflow:slice=...", then "1:slice=..." is compared with it; the part after ':' pairs a
rate with its reference (default: the reference without a suffix).

A detector is reliable at a rate when its recall is at least RELIABLE_RECALL of its recall on
the unsampled NetFlow (and at least RELIABLE_RECALL_ABS) and its false hosts per 10 000
host-days are no more than max(RELIABLE_FP, the NetFlow run's). It "stops being reliable" at the
lowest rate tested where it is not ("-": the reference finds nothing of it in that traffic, e.g.
long sessions in a one-hour slice).
--reliable DET=RATE: exit 1 unless DET is reliable at every tested rate up to RATE;
--max-fp X: exit 1 when any detector at a sampled rate (> 1) has more false hosts per 10k
host-days than X (1:1 runs on a one-hour slice, where beacons are noisy unsampled too).
"""
import json
import sys

RELIABLE_RECALL = 0.9      # of the unsampled recall
RELIABLE_RECALL_ABS = 0.5  # and at least this, absolutely
RELIABLE_FP = 1.0          # false hosts per 10 000 host-days (issue 11's goal)


def load(path):
    with open(path) as f:
        d = json.load(f)
    return {x["detector"]: x for x in d["detectors"]}, d


def main(argv):
    md = js = None
    reliable_req, max_fp = {}, None
    refs, runs = {}, []
    i = 0
    while i < len(argv):
        a = argv[i]
        if a in ("--md", "--json", "--reliable", "--max-fp"):
            if i + 1 >= len(argv):
                sys.exit(f"{a} needs a value")
            v = argv[i + 1]
            if a == "--md":
                md = v
            elif a == "--json":
                js = v
            elif a == "--reliable":
                det, _, rate = v.partition("=")
                reliable_req[det] = int(rate)
            else:
                max_fp = float(v)
            i += 2
            continue
        label, _, path = a.partition("=")
        name, _, pair = label.partition(":")
        if name.isdigit():
            runs.append((int(name), pair, path))
        else:
            refs[pair] = (name, path)
        i += 1
    if "" not in refs or not runs:
        sys.exit(__doc__)
    ref_data = {k: load(p) for k, (_, p) in refs.items()}
    run_data = [(rate, pair, load(p)) for rate, pair, p in runs]
    dets = [d for d in ref_data[""][0] if ref_data[""][0][d]["labelled"]]
    rates = sorted({r for r, _, _ in run_data})
    out = {"rates": rates, "detectors": {}}
    rc = 0
    lines = ["| detector | NetFlow (unsampled) recall, false hosts | " +
             " | ".join(f"sFlow 1:{r}" for r in rates) + " | stops being reliable at |",
             "|---|---|" + "---|" * len(rates) + "---|"]
    for det in dets:
        row, stops, ok_upto = [], None, 0
        ref0 = ref_data[""][0][det]
        cells = [f"{ref0['recall']:.3f} ({ref0['found']}/{ref0['labelled']}), "
                 f"{ref0['false_hosts']}"]
        per_rate = {}
        for rate, pair, (dd, _) in sorted(run_data, key=lambda x: x[0]):
            ref = ref_data.get(pair, ref_data[""])[0].get(det)
            x = dd.get(det)
            if not x or not ref or not ref["labelled"] or not ref["recall"]:
                cells.append("-")  # not exercised by this traffic (nothing to lose)
                continue
            need = max(RELIABLE_RECALL * ref["recall"], RELIABLE_RECALL_ABS)
            fp_ok = x["fp_per_10k_host_days"] <= max(RELIABLE_FP, ref["fp_per_10k_host_days"])
            good = x["recall"] >= need and fp_ok
            per_rate[rate] = {"recall": x["recall"], "found": x["found"],
                              "labelled": x["labelled"], "false_hosts": x["false_hosts"],
                              "fp_per_10k_host_days": x["fp_per_10k_host_days"],
                              "ref_recall": ref["recall"], "reliable": good,
                              "reference": refs.get(pair, refs[""])[0] + (f":{pair}" if pair else "")}
            if max_fp is not None and rate > 1 and x["fp_per_10k_host_days"] > max_fp:
                print(f"sampled: {det} at 1:{rate}: {x['fp_per_10k_host_days']:.1f} false hosts "
                      f"per 10k host-days > {max_fp}")
                rc = 1
            if good and stops is None:
                ok_upto = rate
            if not good and stops is None:
                stops = rate
            mark = "" if good else " **x**"
            note = (f" (slice; its NetFlow: {ref['recall']:.3f}, {ref['false_hosts']})"
                    if pair else "")
            cells.append(f"{x['recall']:.3f} ({x['found']}/{x['labelled']}), "
                         f"{x['false_hosts']}{mark}{note}")
        stop_txt = f"1:{stops}" if stops else f"reliable up to 1:{rates[-1]}"
        lines.append(f"| {det} | " + " | ".join(cells) + f" | {stop_txt} |")
        out["detectors"][det] = {"netflow": {"recall": ref0["recall"],
                                             "false_hosts": ref0["false_hosts"]},
                                 "rates": per_rate, "stops_at": stops}
        if det in reliable_req:
            want = reliable_req[det]
            bad = [r for r, v in per_rate.items() if r <= want and not v["reliable"]]
            if bad:
                print(f"sampled: {det} is not reliable at 1:{min(bad)} (required up to 1:{want})")
                rc = 1
    # per behaviour: found by its detector at each rate (which kinds of scan, spam, flood survive)
    beh = {}
    for key, (_, d) in ref_data.items():
        for b in d["behaviours"]:
            beh.setdefault(b["behaviour"], {})[("ref", key)] = b
    for rate, pair, (_, d) in run_data:
        for b in d["behaviours"]:
            beh.setdefault(b["behaviour"], {})[(rate, pair)] = b
    lines += ["", "| behaviour | detector | NetFlow | " + " | ".join(f"1:{r}" for r in rates) + " |",
              "|---|---|---|" + "---|" * len(rates)]
    for name in sorted(beh, key=lambda n: (next(iter(beh[n].values()))["detector"], n)):
        v = beh[name]
        b0 = v.get(("ref", ""))
        if not b0:
            continue
        cells = [f"{b0['found']}/{b0['hosts']}"]
        for rate, pair, _ in sorted(run_data, key=lambda x: x[0]):
            b = v.get((rate, pair))
            cells.append(f"{b['found']}/{b['hosts']}" + (" (slice)" if pair else "") if b else "-")
        lines.append(f"| {name} | {b0['detector']} | " + " | ".join(cells) + " |")
    text = "\n".join(lines) + "\n"
    text += ("\nReliable: recall >= %.0f %% of the unsampled recall (and >= %.2f) with at most "
             "max(%g, unsampled) false hosts per 10 000 host-days; **x** marks a rate where it "
             "is not.\n" % (RELIABLE_RECALL * 100, RELIABLE_RECALL_ABS, RELIABLE_FP))
    if md:
        with open(md, "w") as f:
            f.write(text)
    else:
        sys.stdout.write(text)
    if js:
        with open(js, "w") as f:
            json.dump(out, f, indent=1)
    return rc


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
