#!/usr/bin/env python3
"""Score transitwatch alerts against ground truth (standard library only).

usage: score.py TRUTH.jsonl ALERTS.jsonl [--md OUT.md] [--json OUT.json] [--title TEXT]
                [--min-recall DET=X ...] [--max-fp DET=X ...] [--max-hostile-fp N]
       score.py --compare [--ignore-window] ALERTS_A.jsonl ALERTS_B.jsonl [...]

Truth: JSON lines. One per labelled host: {"label": behaviour, "customer", "host", "detector":
the detector expected to find it, "also": [other detectors that count], "start_ms", ...} or
{"benign": true, ...} for a look-alike that must stay quiet; {"label": "customer", "customer",
"hostile": true} for the customers the hostility score should condemn; {"label": "scenario",
"hosts", "duration_s", "start_ms"}. (Older truth files without "detector" are mapped by label.)

Per detector: recall = labelled hosts expected of it with an alert of it (or of an "also"
detector) / those hosts; false hosts = hosts it alerted on that are not labelled misbehaving
(benign look-alikes and background); false hosts per 10 000 host-days; time to first alert =
end of the first alerting window - the behaviour's start (median and max over found hosts).
Hosts labelled misbehaving but flagged by another detector are listed as cross-detections, not
as false hosts. Per behaviour: found by its detector, found by any detector, time to first alert.

Thresholds are explicit: --min-recall beacon=0.95 --max-fp beacon=1 (per 10 000 host-days);
"all" names every detector. Exit 1 when a given threshold is broken, else 0: without
thresholds the table is printed and nothing is asserted.
--compare exits 1 unless every file gives the same set of (rule, customer, host, peer, window)
alerts; with --ignore-window, the same (rule, customer, host, peer) incidents (a metered raw
capture ends flows at the meter's timeouts, so an alert may land one window later).
"""
import json
import statistics
import sys
from datetime import datetime, timezone

LEGACY_DETECTOR = {
    "spam": "spam", "beacon_fast": "beacon", "beacon_slow": "beacon", "scan_h": "scan",
    "scan_v": "scan", "flood": "flood", "flood_baseline": "flood",
}
DETECTORS = ["spam", "beacon", "long_session", "scan", "flood", "bruteforce", "blocklist"]


def ts_ms(s):
    return int(datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc).timestamp() * 1000)


def load_alerts(path):
    out = []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            o = json.loads(line)
            if o.get("event", {}).get("kind") != "alert":
                continue
            tw = o.get("transitwatch", {})
            out.append({
                "rule": o["rule"]["id"],
                # the long-session rule lives in the beacon detector (it shares its pair state)
                # but is scored as a detector of its own
                "detector": "long_session" if o["rule"]["id"] == "beacon.long_session"
                else tw.get("detector", "") or o["rule"].get("ruleset", ""),
                "customer": tw.get("customer", {}).get("id", ""),
                "host": tw.get("host", ""),
                "peer": tw.get("peer", ""),
                "win_start": ts_ms(tw["window"]["start"]),
                "win_end": ts_ms(tw["window"]["end"]),
                "evidence": tw.get("evidence", {}),
            })
    return out


def load_shares(path):
    """Highest hostile_share per customer over the summaries (absent without summaries)."""
    out = {}
    with open(path) as f:
        for line in f:
            if '"transitwatch.summary"' not in line:
                continue
            tw = json.loads(line).get("transitwatch", {})
            c = tw.get("customer", {}).get("id", "")
            sh = tw.get("hostile_share")
            if c and sh is not None:
                out[c] = max(out.get(c, 0.0), sh)
    return out


def compare(paths, ignore_window=False):
    sets = []
    for p in paths:
        sets.append({(a["rule"], a["customer"], a["host"], a["peer"]) + (() if ignore_window else (a["win_start"],))
                     for a in load_alerts(p)})
    ok = all(s == sets[0] for s in sets[1:])
    for p, s in zip(paths, sets):
        print("%-40s %d %s" % (p, len(s), "incidents" if ignore_window else "alerts"))
    if not ok:
        for p, s in zip(paths[1:], sets[1:]):
            diff = sorted(s ^ sets[0])
            if diff:
                print("differences %s vs %s (%d):" % (paths[0], p, len(diff)))
                for d in diff[:20]:
                    print("  ", "only in %s" % (paths[0] if d in sets[0] else p), d)
    print("identical" if ok else "DIFFERENT")
    return 0 if ok else 1


def load_truth(path):
    return [json.loads(l) for l in open(path) if l.strip()]


def minutes(ms):
    return ms / 60000.0


def fmt_min(v):
    if v is None:
        return "-"
    return "%.1f" % v if v < 100 else "%.0f" % v


def score(truth, alerts, host_days=None):
    """Returns a dict with per-detector rows, per-behaviour rows and the hostility verdicts."""
    scen = next((t for t in truth if t.get("label") == "scenario"), None)
    if host_days is None:
        host_days = scen["hosts"] * scen["duration_s"] / 86400.0 if scen else 0.0
    bad, benign = {}, {}
    hostile_truth, customers = set(), set()
    for t in truth:
        lab = t.get("label", "")
        if lab == "scenario":
            continue
        if lab == "customer":
            customers.add(t["customer"])
            if t.get("hostile"):
                hostile_truth.add(t["customer"])
            continue
        if "host" not in t:
            continue
        key = (t.get("customer", ""), t["host"])
        if t.get("benign"):
            benign[key] = t
            continue
        det = t.get("detector") or LEGACY_DETECTOR.get(lab)
        if not det:
            continue
        t = dict(t, detector=det, also=list(t.get("also", [])))
        bad[key] = t
    # alerts by (customer, host), by detector
    by_host = {}
    hostile_alerts = set()
    for a in alerts:
        if a["rule"] == "customer.hostile_share" or a["detector"] == "hostility":
            hostile_alerts.add(a["customer"])
            continue
        by_host.setdefault((a["customer"], a["host"]), []).append(a)
    dets = list(DETECTORS)
    for al in by_host.values():
        for a in al:
            if a["detector"] not in dets:
                dets.append(a["detector"])
    for t in bad.values():
        if t["detector"] not in dets:
            dets.append(t["detector"])

    def first_alert(key, accept):
        al = [a for a in by_host.get(key, []) if accept is None or a["detector"] in accept]
        return min((a["win_end"] for a in al), default=None)

    rows = []
    for d in dets:
        labelled = {k: t for k, t in bad.items() if t["detector"] == d}
        found, lat = 0, []
        for k, t in labelled.items():
            f = first_alert(k, {d, *t["also"]})
            if f is not None:
                found += 1
                lat.append(minutes(max(0, f - t.get("start_ms", f))))
        flagged = {k for k, al in by_host.items() if any(a["detector"] == d for a in al)}
        false_hosts = sorted(k for k in flagged if k not in bad)
        cross = sorted(k for k in flagged if k in bad and d != bad[k]["detector"] and d not in bad[k]["also"])
        fp_rate = len(false_hosts) / host_days * 10000.0 if host_days else None
        if not labelled and not flagged:
            continue
        rows.append({
            "detector": d, "labelled": len(labelled), "found": found,
            "recall": found / len(labelled) if labelled else None,
            "false_hosts": len(false_hosts), "fp_per_10k_host_days": fp_rate,
            "ttfa_median_min": statistics.median(lat) if lat else None,
            "ttfa_max_min": max(lat) if lat else None,
            "false_by_label": count_by(false_hosts, benign),
            "false_examples": ["%s/%s (%s)" % (k[0], k[1], benign[k]["label"] if k in benign else "background")
                               for k in false_hosts[:8]],
            "cross": ["%s/%s (%s)" % (k[0], k[1], bad[k]["label"]) for k in cross[:8]],
            "missed": ["%s/%s (%s%s)" % (k[0], k[1], t["label"],
                                         ", %d check-ins" % t["checkins"] if "checkins" in t else "")
                       for k, t in sorted(labelled.items()) if first_alert(k, {d, *t["also"]}) is None][:12],
        })
    behaviours = {}
    for k, t in bad.items():
        b = behaviours.setdefault(t["label"], {"behaviour": t["label"], "detector": t["detector"],
                                               "hosts": 0, "found": 0, "found_any": 0, "lat": [],
                                               "checkins": []})
        b["hosts"] += 1
        if "checkins" in t:
            b["checkins"].append(t["checkins"])
        f = first_alert(k, {t["detector"], *t["also"]})
        if f is not None:
            b["found"] += 1
            b["lat"].append(minutes(max(0, f - t.get("start_ms", f))))
        if first_alert(k, None) is not None:
            b["found_any"] += 1
    brows = []
    for b in sorted(behaviours.values(), key=lambda b: (b["detector"], b["behaviour"])):
        brows.append({
            "behaviour": b["behaviour"], "detector": b["detector"], "hosts": b["hosts"],
            "found": b["found"], "found_any": b["found_any"],
            "recall": b["found"] / b["hosts"],
            "ttfa_median_min": statistics.median(b["lat"]) if b["lat"] else None,
            "checkins_median": statistics.median(b["checkins"]) if b["checkins"] else None,
        })
    benign_rows = []
    per_label = {}
    for k, t in benign.items():
        r = per_label.setdefault(t["label"], {"label": t["label"], "hosts": 0, "flagged": 0, "by": {}})
        r["hosts"] += 1
        al = by_host.get(k, [])
        if al:
            r["flagged"] += 1
            for det in {a["detector"] for a in al}:
                r["by"][det] = r["by"].get(det, 0) + 1
    benign_rows = sorted(per_label.values(), key=lambda r: r["label"])
    hostility = {
        "customers": sorted(customers), "hostile_truth": sorted(hostile_truth),
        "condemned": sorted(hostile_alerts),
        "correct": sorted(hostile_alerts & hostile_truth),
        "wrong": sorted(hostile_alerts - hostile_truth),
        "missed": sorted(hostile_truth - hostile_alerts),
    }
    return {"host_days": host_days, "hosts": scen["hosts"] if scen else None,
            "days": scen["duration_s"] / 86400.0 if scen else None, "alerts": len(alerts),
            "detectors": rows, "behaviours": brows, "benign": benign_rows, "hostility": hostility}


def count_by(keys, benign):
    out = {}
    for k in keys:
        lab = benign[k]["label"] if k in benign else "background"
        out[lab] = out.get(lab, 0) + 1
    return out


def markdown(res, title=None):
    L = []
    if title:
        L += ["### " + title, ""]
    if res["hosts"]:
        L.append("Scenario: %d hosts, %.2f simulated days (%.0f host-days), %d alerts." % (
            res["hosts"], res["days"], res["host_days"], res["alerts"]))
        L.append("")
    L += ["| detector | labelled hosts | found | recall | false hosts | false hosts per 10k host-days | "
          "time to first alert, median / max (min) |",
          "|---|---|---|---|---|---|---|"]
    for r in res["detectors"]:
        L.append("| %s | %d | %d | %s | %d | %s | %s / %s |" % (
            r["detector"], r["labelled"], r["found"],
            "%.3f" % r["recall"] if r["recall"] is not None else "-", r["false_hosts"],
            "%.1f" % r["fp_per_10k_host_days"] if r["fp_per_10k_host_days"] is not None else "-",
            fmt_min(r["ttfa_median_min"]), fmt_min(r["ttfa_max_min"])))
    L += ["", "| behaviour | expected detector | hosts | found by it | found by any | median check-ins in run | "
          "time to first alert, median (min) |", "|---|---|---|---|---|---|---|"]
    for b in res["behaviours"]:
        L.append("| %s | %s | %d | %d | %d | %s | %s |" % (
            b["behaviour"], b["detector"], b["hosts"], b["found"], b["found_any"],
            "%g" % b["checkins_median"] if b["checkins_median"] is not None else "-",
            fmt_min(b["ttfa_median_min"])))
    if res["benign"]:
        L += ["", "| benign look-alike | hosts | flagged | by detector |", "|---|---|---|---|"]
        for r in res["benign"]:
            L.append("| %s | %d | %d | %s |" % (r["label"], r["hosts"], r["flagged"],
                                                ", ".join("%s %d" % kv for kv in sorted(r["by"].items())) or "-"))
    h = res["hostility"]
    if h["customers"]:
        L += ["", "Hostility: condemned %s; should be %s; wrong %s; missed %s." % (
            ", ".join(h["condemned"]) or "none", ", ".join(h["hostile_truth"]) or "none",
            ", ".join(h["wrong"]) or "none", ", ".join(h["missed"]) or "none")]
        if h.get("max_share"):
            L.append("Highest hostile_share in the summaries: %s." % ", ".join(
                "%s %.2f" % kv for kv in sorted(h["max_share"].items())))
    for r in res["detectors"]:
        if r["false_by_label"]:
            L.append("%s false hosts by kind: %s; e.g. %s." % (
                r["detector"], ", ".join("%s %d" % kv for kv in sorted(r["false_by_label"].items())),
                ", ".join(r["false_examples"][:4])))
        if r["missed"]:
            L.append("%s missed: %s." % (r["detector"], ", ".join(r["missed"])))
        if r["cross"]:
            L.append("%s also flagged hosts labelled for another detector: %s." % (r["detector"], ", ".join(r["cross"])))
    return "\n".join(L)


def parse_thresholds(argv, flag):
    out = {}
    while flag in argv:
        i = argv.index(flag)
        d, _, v = argv[i + 1].partition("=")
        out[d] = float(v)
        del argv[i:i + 2]
    return out


def check(res, min_recall, max_fp, max_hostile_fp):
    fails = []
    rows = {r["detector"]: r for r in res["detectors"]}
    for d, x in min_recall.items():
        for name in (rows if d == "all" else [d]):
            r = rows.get(name)
            if r is None or r["recall"] is None:
                if d != "all":
                    fails.append("%s: no labelled hosts" % name)
                continue
            if r["recall"] < x:
                fails.append("%s recall %.3f < %.3f" % (name, r["recall"], x))
    for d, x in max_fp.items():
        for name in (rows if d == "all" else [d]):
            r = rows.get(name)
            if r is None:
                continue
            if r["fp_per_10k_host_days"] is not None and r["fp_per_10k_host_days"] > x:
                fails.append("%s false hosts per 10k host-days %.1f > %g" % (name, r["fp_per_10k_host_days"], x))
    if max_hostile_fp is not None and len(res["hostility"]["wrong"]) > max_hostile_fp:
        fails.append("hostility condemned %d benign customers (> %d)" % (len(res["hostility"]["wrong"]), max_hostile_fp))
    return fails


def main(argv):
    argv = list(argv)
    if len(argv) >= 2 and argv[1] == "--compare":
        rest = argv[2:]
        ign = "--ignore-window" in rest
        return compare([p for p in rest if p != "--ignore-window"], ign)
    min_recall = parse_thresholds(argv, "--min-recall")
    max_fp = parse_thresholds(argv, "--max-fp")
    opts = {}
    for flag in ("--md", "--json", "--title", "--max-hostile-fp"):
        if flag in argv:
            i = argv.index(flag)
            opts[flag] = argv[i + 1]
            del argv[i:i + 2]
    if len(argv) != 3:
        print(__doc__)
        return 2
    res = score(load_truth(argv[1]), load_alerts(argv[2]))
    res["hostility"]["max_share"] = load_shares(argv[2])
    text = markdown(res, opts.get("--title"))
    print(text)
    hf = int(opts["--max-hostile-fp"]) if "--max-hostile-fp" in opts else None
    fails = check(res, min_recall, max_fp, hf)
    res["thresholds"] = {"min_recall": min_recall, "max_fp_per_10k_host_days": max_fp,
                         "max_hostile_fp": hf, "failures": fails}
    if "--md" in opts:
        with open(opts["--md"], "w") as f:
            f.write(text + "\n")
    if "--json" in opts:
        with open(opts["--json"], "w") as f:
            json.dump(res, f, indent=1)
    if min_recall or max_fp or hf is not None:
        for x in fails:
            print("THRESHOLD BROKEN:", x)
        print("PASS (the thresholds given)" if not fails else "FAIL")
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
