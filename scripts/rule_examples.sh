#!/usr/bin/env bash
# Print one real example alert per rule, as the README's "Rules" section shows them: the
# bundled sample (with the sample lists, and with a list naming part of a customer's own space),
# the labelled evaluation scenario (with its config, and once more with thresholds that make its
# flooder a bits-per-second flood and one of its spam bots a declared mail server), the
# password guessers' Zeek log of the brute-force tests (tests/integration/bruteforce_gen.py)
# and, when ../shared/testdata is there, Stratosphere's real SSH brute-force capture.
# Usage: scripts/rule_examples.sh [BUILD_DIR]   (default build; needs transitwatch and twgen)
# Prints, per rule, the alert's message and its ECS endpoints and evidence, as JSON (the
# customer verdict's list of named hosts cut to its first one).
set -euo pipefail
cd "$(dirname "$0")/.."
b=${1:-build}
tw=$b/collector/transitwatch
gen=$b/tests/twgen
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cfg=configs
"$gen" sample -f ipfix -m 30 -o "$tmp/sample.pcap" >/dev/null 2>&1
lists=(-C "$cfg/customers.csv" -b "spamhaus-drop=$cfg/blocklists/drop.txt"
       -b "spamhaus-dropv6=$cfg/blocklists/drop_v6.txt" -b "feodo=$cfg/blocklists/feodo.txt")
"$tw" replay --no-stats "${lists[@]}" "$tmp/sample.pcap" >"$tmp/1.jsonl"
printf '; part of customer acme'"'"'s space\n192.0.2.0/26 ; SBL999\n' >"$tmp/own.txt"
"$tw" replay --no-stats "${lists[@]}" -b "own=$tmp/own.txt" "$tmp/sample.pcap" >"$tmp/2.jsonl"
"$gen" eval -f ipfix -m 120 -s 2008 -x 0.3 -o "$tmp/eval.pcap" -t "$tmp/truth.jsonl" \
  --write-customers "$tmp/eval.csv" --write-config "$tmp/eval.conf" >/dev/null 2>&1
"$tw" replay --no-stats -c "$tmp/eval.conf" -C "$tmp/eval.csv" "$tmp/eval.pcap" >"$tmp/3.jsonl"
sed 's/^mta = /mta = 100.64.1.4\/32, /; s/^\[detector.spam\]$/&\nmta_fanout = 100/' "$tmp/eval.conf" >"$tmp/alt.conf"
printf '[detector.flood]\npps_max = 1000000000\nbps_max = 10000000\n' >>"$tmp/alt.conf"
"$tw" replay --no-stats -c "$tmp/alt.conf" -C "$tmp/eval.csv" "$tmp/eval.pcap" >"$tmp/4.jsonl"
python3 tests/integration/bruteforce_gen.py "$tmp" >/dev/null
"$tw" replay --no-stats -C "$tmp/customers.csv" "$tmp/conn.log" >"$tmp/5.jsonl"
real=../shared/testdata/pcap/stratosphere-slips/malicious-ssh-bruteforce.pcap
: >"$tmp/0.jsonl"
if [[ -f $real ]]; then
  printf '147.32.80.0/24,ctu,CTU\n' >"$tmp/ctu.csv"
  "$tw" replay --no-stats -C "$tmp/ctu.csv" "$real" >"$tmp/0.jsonl"
fi
python3 - "$tmp"/{0,3,1,2,4,5}.jsonl <<'PY'
import json, sys
seen = {}
for f in sys.argv[1:]:
    for line in open(f):
        d = json.loads(line)
        if d["event"]["kind"] != "alert" or d["rule"]["id"] in seen:
            continue
        keep = {"message": d["message"]}
        for k in ("source", "destination", "network"):
            if k in d:
                keep[k] = d[k]
        if "ip" in d["observer"]:
            keep["observer"] = {k: v for k, v in d["observer"].items() if k in ("ip", "ingress")}
        if "threat" in d:
            keep["threat"] = d["threat"]
        ev = d["transitwatch"].get("evidence", {})
        if len(ev.get("hostile", [])) > 1:  # the verdict names up to 8 hosts: show one
            ev["hostile"] = ev["hostile"][:1] + ["... %d more" % (len(ev["hostile"]) - 1)]
            if len(ev["hostile"][0].get("incidents", [])) > 1:
                ev["hostile"][0]["incidents"] = ev["hostile"][0]["incidents"][:1] + ["..."]
        keep["transitwatch"] = {"evidence": ev}
        seen[d["rule"]["id"]] = keep
for rid in sorted(seen):
    body = ",\n ".join("%s: %s" % (json.dumps(k), json.dumps(v, ensure_ascii=False))
                        for k, v in seen[rid].items())
    print("`%s`:\n```json\n{%s}\n```" % (rid, body))
PY
