#!/usr/bin/env python3
"""Score transitwatch on the labelled real captures and logs in the shared test data.

usage: real.py --tw TRANSITWATCH --testdata DIR [--truth-dir DIR] --out DIR
               [--md OUT.md] [--json OUT.json] [--require DATASET=HOST ...] [--require-all]
               [--placements N] [--window SECONDS]

Every bench/eval/truth/NAME.json describes one dataset: its source (a path under the shared
testdata folder: a capture, nfcapd file, Zeek or Argus log), the customers (the capture's
inside hosts as prefixes) and its labelled hosts: misbehaving ones with the detector expected to
find them (and others that count), benign ones that must stay quiet. truth/absent.json lists
the labelled data the issue names that is not there. For each dataset present, the source is
replayed with its customer map and every labelled host is scored: found by its detector, found
by any, the rules raised, the peers named, time to first alert (end of the first alerting
window - the first record's start). Files under testdata/pcap and testdata/flows that no truth
file names are listed as unlabelled.

--placements N replays each classic pcap again with its times shifted so that it starts at N
evenly spaced places of a window (--window, the default 300 s) and 2 s before a window's end: a
capture is a sample of traffic that could have fallen anywhere on the clock, so every labelled
host must be right at every placement (a host's "ok" covers them all; the table says how many
placements were right).

Nothing is asserted unless asked: --require DATASET=HOST makes the run fail (exit 1) when that
labelled host is missed (misbehaving) or flagged (benign), or when the dataset is absent;
--require-all asks it of every labelled host of every present dataset.
"""
import glob
import ipaddress
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mix  # noqa: E402
import score  # noqa: E402


def customer_of(host, customers):
    a = ipaddress.ip_address(host)
    best = None
    for c in customers:
        n = ipaddress.ip_network(c["prefix"], strict=False)
        if a in n and (best is None or n.prefixlen > best[0]):
            best = (n.prefixlen, c["id"])
    return best[1] if best else ""


def pcap_shifted(src, dst, position_s, window_s):
    """Copy classic pcap src to dst with every packet's time moved by whole seconds so that the
    first packet falls position_s into a window; the shift, or None when src is not a classic
    pcap (pcapng, a log, an nfcapd file: not shifted)."""
    link = mix.pcap_link(src)
    if link is None:
        return None
    packets = list(mix.read_pcap(src, links=(link,)))
    shift = (position_s - packets[0][0] // 1000000 % window_s) % window_s if packets else 0
    mix.write_pcap(dst, ((ts + shift * 1000000, data, orig) for ts, data, orig in packets), link)
    return shift


def run_dataset(tw, testdata, t, out, placements=0, window_s=300):
    src = os.path.join(testdata, os.path.relpath(t["source"], "testdata"))
    name = t["name"]
    if not os.path.exists(src):
        return {"name": name, "status": "absent", "source": t["source"], "hosts": []}
    r = score_dataset(tw, src, t, os.path.join(out, name))
    if r["status"] != "scored" or not placements:
        return r
    positions = [k * window_s // placements for k in range(placements)] + [window_s - 2]
    r["placements"] = []
    for pos in positions:
        d = os.path.join(out, name, "at-%03d" % pos)
        os.makedirs(d, exist_ok=True)
        shifted = os.path.join(d, "capture.pcap")
        if pcap_shifted(src, shifted, pos, window_s) is None:
            break
        p = score_dataset(tw, shifted, t, d)
        os.remove(shifted)
        wrong = [h["host"] for h in p["hosts"] if not h["ok"]] if p["status"] == "scored" else ["(%s)" % p["status"]]
        r["placements"].append({"position_s": pos, "wrong": wrong})
        for h in r["hosts"]:
            h.setdefault("placements_ok", 0)
            h.setdefault("placements", 0)
            h["placements"] += 1
            if h["host"] not in wrong and p["status"] == "scored":
                h["placements_ok"] += 1
            else:
                h["ok"] = False
    return r


def score_dataset(tw, src, t, d):
    name = t["name"]
    os.makedirs(d, exist_ok=True)
    csv = os.path.join(d, "customers.csv")
    with open(csv, "w") as f:
        f.write("prefix,customer_id,name\n")
        for c in t["customers"]:
            f.write("%s,%s,%s\n" % (c["prefix"], c["id"], c.get("name", c["id"])))
    alerts_path = os.path.join(d, "alerts.jsonl")
    flows_path = os.path.join(d, "flows.jsonl")
    cmd = [tw, "replay", "-C", csv, "--no-summaries", "--no-stats", "-o", alerts_path,
           "--flows", flows_path, src]
    p = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, timeout=600)
    if p.returncode not in (0, 1):
        return {"name": name, "status": "error: exit %d: %s" % (p.returncode, p.stderr.strip()[:200]),
                "source": t["source"], "hosts": []}
    first = None
    with open(flows_path) as f:
        for line in f:
            o = json.loads(line)
            first = o["first"] if first is None else min(first, o["first"])
    alerts = score.load_alerts(alerts_path)
    rows = []
    for h in t["hosts"]:
        cust = customer_of(h["host"], t["customers"])
        al = [a for a in alerts if a["host"] == h["host"] and a["customer"] == cust]
        accept = {h.get("detector", ""), *h.get("also", [])}
        mine = [a for a in al if a["detector"] in accept]
        first_end = min((a["win_end"] for a in mine), default=None)
        row = {
            "host": h["host"], "label": h["label"], "benign": bool(h.get("benign")),
            "detector": h.get("detector", ""), "also": h.get("also", []),
            "found": bool(mine), "found_any": bool(al),
            "rules": sorted({a["rule"] for a in al}),
            "peers": sorted({a["peer"] for a in al if a["peer"]}),
            "expected_peer": h.get("peer", ""),
            "ttfa_s": (first_end - first) / 1000.0 if first_end is not None and first is not None else None,
        }
        row["ok"] = not row["found_any"] if row["benign"] else row["found"]
        rows.append(row)
    labelled = {h["host"] for h in t["hosts"]}
    others = sorted({(a["customer"], a["host"]) for a in alerts if a["host"] not in labelled})
    return {"name": name, "status": "scored", "source": t["source"], "hosts": rows,
            "alerts": len(alerts), "unlabelled_alerted": ["%s/%s" % k for k in others]}


def main(argv):
    args = {"--truth-dir": os.path.join(os.path.dirname(os.path.abspath(__file__)), "truth")}
    requires, require_all = [], False
    i = 1
    while i < len(argv):
        a = argv[i]
        if a == "--require":
            requires.append(argv[i + 1])
            i += 2
        elif a == "--require-all":
            require_all = True
            i += 1
        elif a in ("--tw", "--testdata", "--truth-dir", "--out", "--md", "--json", "--placements", "--window"):
            args[a] = argv[i + 1]
            i += 2
        else:
            print(__doc__)
            return 2
    if "--tw" not in args or "--testdata" not in args or "--out" not in args:
        print(__doc__)
        return 2
    testdata = args["--testdata"]
    truths, absent = [], []
    for path in sorted(glob.glob(os.path.join(args["--truth-dir"], "*.json"))):
        t = json.load(open(path))
        if "absent" in t:
            absent = t["absent"]
        else:
            truths.append(t)
    results = [run_dataset(args["--tw"], testdata, t, args["--out"], int(args.get("--placements", 0)),
                           int(args.get("--window", 300))) for t in truths]
    named = {os.path.normpath(os.path.join(testdata, os.path.relpath(t["source"], "testdata"))) for t in truths}
    unlabelled = []
    for sub in ("pcap", "flows"):
        for p in sorted(glob.glob(os.path.join(testdata, sub, "**", "*"), recursive=True)):
            if os.path.isfile(p) and os.path.normpath(p) not in named and not p.endswith((".md", ".txt")):
                unlabelled.append(os.path.relpath(p, os.path.dirname(os.path.normpath(testdata))))
    for a in absent:
        a["present"] = [p for p in a["looked_for"]
                        if os.path.exists(os.path.join(testdata, os.path.relpath(p, "testdata")))]
    L = ["| dataset | labelled host | behaviour | expected detector | found by it | found by any | rules raised | "
         "peers named | time to first alert (s) | right at every placement | ok |",
         "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        if r["status"] != "scored":
            L.append("| %s | - | - | - | - | - | - | - | - | - | %s |" % (r["name"], r["status"].upper()))
            continue
        for h in r["hosts"]:
            exp = "none (benign)" if h["benign"] else h["detector"] + ("".join(" or " + x for x in h["also"]))
            peers = ", ".join(h["peers"]) or "-"
            if h["expected_peer"] and h["peers"] and h["peers"] != [h["expected_peer"]]:
                peers += " (labelled peer %s)" % h["expected_peer"]
            plc = "%d/%d" % (h["placements_ok"], h["placements"]) if h.get("placements") else "-"
            L.append("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
                r["name"], h["host"], h["label"], exp, "-" if h["benign"] else ("yes" if h["found"] else "NO"),
                "yes" if h["found_any"] else "no", ", ".join(h["rules"]) or "-", peers,
                "%.1f" % h["ttfa_s"] if h["ttfa_s"] is not None else "-", plc, "yes" if h["ok"] else "NO"))
    for a in absent:
        L.append("| %s | - | %s | - | - | - | - | - | - | - | %s |" % (
            a["name"], a["expect"], "ABSENT" if not a["present"] else "PRESENT WITHOUT TRUTH FILE: " + ", ".join(a["present"])))
    L.append("")
    for r in results:
        for p in r.get("placements", []):
            if p["wrong"]:
                L.append("%s shifted to start %d s into a window: wrong for %s." % (
                    r["name"], p["position_s"], ", ".join(p["wrong"])))
        if r.get("unlabelled_alerted"):
            L.append("%s: alerts on hosts nobody labelled: %s." % (r["name"], ", ".join(r["unlabelled_alerted"])))
    if unlabelled:
        L.append("Files under testdata/pcap and testdata/flows without a truth file: %s." % ", ".join(unlabelled))
    mis = [h for r in results for h in r["hosts"] if not h["benign"]]
    ben = [h for r in results for h in r["hosts"] if h["benign"]]
    L.append("Real data: %d labelled misbehaving hosts, %d found by their detector, %d by any; %d benign hosts, %d "
             "flagged; %d datasets absent." % (len(mis), sum(h["found"] for h in mis), sum(h["found_any"] for h in mis),
                                              len(ben), sum(h["found_any"] for h in ben),
                                              len(absent) + sum(r["status"] == "absent" for r in results)))
    text = "\n".join(L)
    print(text)
    fails = []
    by_name = {r["name"]: r for r in results}
    for req in requires:
        ds, _, host = req.partition("=")
        r = by_name.get(ds)
        if not r or r["status"] != "scored":
            fails.append("%s: %s" % (ds, r["status"] if r else "no truth file"))
            continue
        h = next((h for h in r["hosts"] if h["host"] == host), None)
        if not h:
            fails.append("%s: %s not labelled" % (ds, host))
        elif not h["ok"]:
            fails.append("%s: %s %s" % (ds, host, "flagged" if h["benign"] else "missed"))
    if require_all:
        for r in results:
            if r["status"] != "scored":
                fails.append("%s: %s" % (r["name"], r["status"]))
            for h in r["hosts"]:
                if not h["ok"]:
                    fails.append("%s: %s %s" % (r["name"], h["host"], "flagged" if h["benign"] else "missed"))
    for f in fails:
        print("REQUIREMENT BROKEN:", f)
    if "--md" in args:
        with open(args["--md"], "w") as f:
            f.write(text + "\n")
    if "--json" in args:
        with open(args["--json"], "w") as f:
            json.dump({"datasets": results, "absent": absent, "unlabelled": unlabelled, "failures": fails}, f, indent=1)
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
