#!/usr/bin/env python3
"""Score transitwatch alerts against the ground truth of `twgen eval` (standard library only).

usage: score.py TRUTH.jsonl ALERTS.jsonl [--md OUT.md] [--json OUT.json]
       score.py --compare ALERTS_A.jsonl ALERTS_B.jsonl [...]

Per detector: recall = labelled misbehaving hosts with at least one alert of that detector /
labelled hosts; false positives = other hosts with an alert of that detector; precision by
hosts; FP per 10 000 hosts per simulated day. The hostility score is scored per customer.
Requirements checked (exit 1 when broken): recall >= 0.95 and FP/10k host-days <= 1 for each
detector. --compare exits 1 unless every file gives the same set of
(rule, customer, host, peer, window) alerts.
"""
import json
import sys
from datetime import datetime, timezone

DETECTOR_OF_LABEL = {
    "spam": "spam",
    "beacon_fast": "beacon",
    "beacon_slow": "beacon",
    "scan_h": "scan",
    "scan_v": "scan",
    "flood": "flood",
    "flood_baseline": "flood",
}
DETECTORS = ["spam", "beacon", "scan", "flood", "hostility"]


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
                "detector": tw.get("detector", ""),
                "customer": tw.get("customer", {}).get("id", ""),
                "host": tw.get("host", ""),
                "peer": tw.get("peer", ""),
                "win_start": ts_ms(tw["window"]["start"]),
                "win_end": ts_ms(tw["window"]["end"]),
                "evidence": tw.get("evidence", {}),
            })
    return out


def compare(paths):
    sets = []
    for p in paths:
        sets.append({(a["rule"], a["customer"], a["host"], a["peer"], a["win_start"]) for a in load_alerts(p)})
    ok = all(s == sets[0] for s in sets[1:])
    for p, s in zip(paths, sets):
        print("%-40s %d alerts" % (p, len(s)))
    if not ok:
        for p, s in zip(paths[1:], sets[1:]):
            diff = sorted(s ^ sets[0])
            if diff:
                print("differences %s vs %s (%d):" % (paths[0], p, len(diff)))
                for d in diff[:20]:
                    print("  ", d)
    print("identical" if ok else "DIFFERENT")
    return 0 if ok else 1


def main(argv):
    if len(argv) >= 2 and argv[1] == "--compare":
        return compare(argv[2:])
    if len(argv) < 3:
        print(__doc__)
        return 2
    truth_path, alerts_path = argv[1], argv[2]
    md_out = json_out = None
    if "--md" in argv:
        md_out = argv[argv.index("--md") + 1]
    if "--json" in argv:
        json_out = argv[argv.index("--json") + 1]
    truth = [json.loads(l) for l in open(truth_path) if l.strip()]
    scen = next(t for t in truth if t["label"] == "scenario")
    hosts = scen["hosts"]
    days = scen["duration_s"] / 86400.0
    host_days = hosts * days
    bad = {d: {} for d in DETECTORS}   # detector -> {(cust, host): truth}
    benign_labels = {}
    for t in truth:
        d = DETECTOR_OF_LABEL.get(t["label"])
        if d:
            bad[d][(t["customer"], t["host"])] = t
        elif t["label"] == "customer" and t.get("hostile"):
            bad["hostility"][(t["customer"], "")] = t
        elif t["label"].startswith("benign") and "host" in t:
            benign_labels[(t["customer"], t["host"])] = t["label"]
    alerts = load_alerts(alerts_path)
    by_det = {d: {} for d in DETECTORS}
    for a in alerts:
        if a["rule"] == "customer.hostile_share":
            key, d = (a["customer"], ""), "hostility"
        elif a["detector"] in by_det:
            key, d = (a["customer"], a["host"]), a["detector"]
        else:
            continue
        by_det[d].setdefault(key, []).append(a)

    rows, ok = [], True
    for d in DETECTORS:
        labelled = bad[d]
        flagged = by_det[d]
        tp = sum(1 for k in labelled if k in flagged)
        fp_keys = [k for k in flagged if k not in labelled]
        fp = len(fp_keys)
        recall = tp / len(labelled) if labelled else 1.0
        precision = tp / (tp + fp) if tp + fp else 1.0
        if d == "hostility":
            ncust = sum(1 for t in truth if t["label"] == "customer")
            fp_rate = fp / max(ncust - len(labelled), 1)
            fp_col = "%d of %d customers" % (fp, ncust - len(labelled))
            req = recall >= 0.95 and fp == 0
        else:
            fp_rate = fp / host_days * 10000.0
            fp_col = "%.2f" % fp_rate
            req = recall >= 0.95 and fp_rate <= 1.0
        ok &= req
        extra = ""
        if d == "beacon":
            lat_fast, lat_slow, agree, n = [], [], 0, 0
            for k, t in labelled.items():
                al = flagged.get(k)
                if not al:
                    continue
                first = min(a["win_end"] for a in al)
                (lat_fast if t["label"] == "beacon_fast" else lat_slow).append((first - t["start_ms"]) / 60000.0)
                periods = [a["evidence"].get("period_s", 0) for a in al]
                n += 1
                if all(abs(p - t["period_s"]) <= 0.25 * t["period_s"] for p in periods):
                    agree += 1
            extra = ("fast: detected after <= %.0f min; slow: after <= %.0f min; period within 25%% "
                     "in every alert for %d/%d" % (max(lat_fast or [0]), max(lat_slow or [0]), agree, n))
        rows.append({"detector": d, "labelled": len(labelled), "tp": tp, "fp": fp,
                     "precision": precision, "recall": recall, "fp_per_10k_host_days": fp_rate,
                     "fp_col": fp_col, "ok": req, "note": extra,
                     "fp_hosts": ["%s/%s (%s)" % (k[0], k[1], benign_labels.get(k, "background")) for k in fp_keys[:10]]})
    lines = ["| detector | labelled | detected | false pos. | precision | recall | FP per 10k host-days | ok |",
             "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append("| %s | %d | %d | %d | %.3f | %.3f | %s | %s |" % (
            r["detector"], r["labelled"], r["tp"], r["fp"], r["precision"], r["recall"], r["fp_col"],
            "yes" if r["ok"] else "NO"))
    lines.append("")
    lines.append("Scenario: %d hosts, %.2f simulated days (%.0f host-days), %d alerts." % (
        hosts, days, host_days, len(alerts)))
    for r in rows:
        if r["note"]:
            lines.append("%s: %s." % (r["detector"], r["note"]))
        if r["fp_hosts"]:
            lines.append("%s false positives: %s" % (r["detector"], ", ".join(r["fp_hosts"])))
    text = "\n".join(lines)
    print(text)
    if md_out:
        open(md_out, "w").write(text + "\n")
    if json_out:
        json.dump(rows, open(json_out, "w"), indent=1)
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
