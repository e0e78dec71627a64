#!/usr/bin/env bash
# The beacon detector on real packet captures ($TW_SHARED/testdata/pcap/stratosphere-slips), with
# default settings: Slips' C2 capture (147.32.80.37 -> 141.193.213.20:443 every 2.3-3.8 s, 22
# connections in 67 s, DNS lookups of an enrichment process beside it) raises beacon.fast for
# that pair only, with its evidence (period, packets, bytes, first check-in); the SSH brute
# force, the ICMP sweep and the ARP scan raise no beacon alert. Each capture is replayed with the
# customer being the capture's /24 and a wider /16.
set -euo pipefail
: "${TW_BIN:?}"
dir=${TW_SHARED:-}/testdata/pcap/stratosphere-slips
if [[ -z ${TW_SHARED:-} || ! -f $dir/test-cc-capture-2.pcap ]]; then
  echo "SKIP: shared test data not found (TW_SHARED=${TW_SHARED:-unset})"
  exit 77
fi
command -v python3 >/dev/null || { echo "SKIP: python3 not installed"; exit 77; }
tw=$TW_BIN/collector/transitwatch
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

for map in 24 16; do
  if [[ $map == 24 ]]; then
    printf 'prefix,customer_id,name\n147.32.80.0/24,ctu,CTU\n192.168.1.0/24,lan,LAN\n' >"$tmp/map.csv"
  else
    printf 'prefix,customer_id,name\n147.32.0.0/16,ctu,CTU\n192.168.0.0/16,lan,LAN\n' >"$tmp/map.csv"
  fi
  for cap in test-cc-capture-2 malicious-ssh-bruteforce test12-icmp-portscan test8-malicious; do
    out=$tmp/$cap-$map.jsonl
    "$tw" replay -C "$tmp/map.csv" --no-summaries -o "$out" "$dir/$cap.pcap" 2>"$tmp/err" \
      || { cat "$tmp/err" >&2; fail "replay of $cap"; }
    python3 - "$cap" "$out" <<'PY' || fail "$cap (customer /$map)"
import json, sys
cap, path = sys.argv[1], sys.argv[2]
alerts = [json.loads(l) for l in open(path) if '"kind":"alert"' in l]
beacons = [a for a in alerts if a["rule"]["id"].startswith("beacon.")]
if cap != "test-cc-capture-2":
    if beacons:
        sys.exit(f"{cap}: unexpected {[(a['rule']['id'], a['source'], a['destination']) for a in beacons]}")
    print(f"{cap}: no beacon alert")
    sys.exit(0)
pairs = {(a["source"]["ip"], a["destination"]["ip"], a["destination"].get("port")) for a in beacons}
if pairs != {("147.32.80.37", "141.193.213.20", 443)}:
    sys.exit(f"beacon pairs {sorted(pairs)}")
a = beacons[0]
tw = a["transitwatch"]
ev = tw["evidence"]
errs = []
if a["rule"]["id"] != "beacon.fast":
    errs.append(a["rule"]["id"])
if not 2.3 <= ev["period_s"] <= 3.8:
    errs.append(f"period {ev['period_s']}")
if ev["connections"] < 9 or ev["checkins"] < 9:
    errs.append(f"connections {ev['connections']} checkins {ev['checkins']}")
if not (tw.get("packets", 0) > 0 and tw.get("bytes", 0) > 0 and ev["bytes_in"] > 0 and ev["bytes_out"] > 0):
    errs.append("packets/bytes missing")
if ev["first_checkin"] != "2024-02-13T14:34:40.856Z":  # the first of the 22 connections
    errs.append(f"first check-in {ev['first_checkin']}")
if ev["prevalence"]["hosts"] != 1:
    errs.append(f"prevalence {ev['prevalence']}")
if errs:
    sys.exit("; ".join(errs))
print(f"{cap}: beacon.fast period {ev['period_s']} s, {ev['checkins']} check-ins, initiator {ev['initiator']}")
PY
  done
done
echo "beacon captures: ok"
