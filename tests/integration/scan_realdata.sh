#!/usr/bin/env bash
# The scan detector on Stratosphere's real captures ($TW_SHARED/testdata/pcap/stratosphere-slips,
# see the README there), seen as a transit provider sees them (the host under test is the
# customer, the rest of the world outside), then with whole networks as customers:
#   - test12-icmp-portscan: 192.168.1.109 pings 18 addresses in 1.6 s (11 answer): one
#     scan.icmp_sweep naming it, with the probes' packets and bytes, and no other scan alert;
#     the same with the whole /24 as the customer (records between customers' hosts reach both
#     ends, so the answers of the swept hosts join the sweeper's probes);
#   - malicious-ssh-bruteforce: nmap ssh-brute, 67 connections from 147.32.80.40 to one port of
#     147.32.80.37: not reconnaissance, so no scan alert of any kind (it is a brute force);
#   - test8-malicious: an ARP scan, invisible to flows: no alert at all;
#   - test-cc-capture-2: a beacon and DNS lookups: no scan alert.
set -euo pipefail
. "$(dirname "$0")/lib/stratosphere.bash"

alerts() { # customers.csv capture -> "rule host" lines of the alerts
  printf '%s\n' "$1" >"$tmp/c.csv"
  "$tw" replay -C "$tmp/c.csv" --no-summaries --no-totals "$caps/$2" >"$tmp/out.jsonl" 2>"$tmp/err" \
    || { cat "$tmp/err" >&2; fail "replay of $2"; }
  cat "$tmp/out.jsonl" >>"$tmp/all.jsonl"
  python3 - "$tmp/out.jsonl" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    d = json.loads(line)
    t = d["transitwatch"]
    print(d["rule"]["id"], t.get("host", "-"), t["flows"], t["packets"], t["bytes"])
PY
}

out=$(alerts "192.168.1.109/32,sweeper,Sweeper" test12-icmp-portscan.pcap)
echo "icmp sweep: $out"
[[ $(grep -c '^scan\.' <<<"$out") -eq 1 ]] || fail "icmp sweep: want one scan alert, got: $out"
grep -q '^scan.icmp_sweep 192.168.1.109 18 25 700$' <<<"$out" || fail "icmp sweep not found as expected: $out"
out=$(alerts "192.168.1.0/24,lan,LAN" test12-icmp-portscan.pcap)
echo "icmp sweep inside one customer: $out"
[[ $(grep -c '^scan\.' <<<"$out") -eq 1 ]] || fail "icmp sweep inside the customer: want one scan alert, got: $out"
grep -q '^scan.icmp_sweep 192.168.1.109 18 25 700$' <<<"$out" || fail "icmp sweep inside the customer not found: $out"

for cust in "147.32.80.40/32,attacker,A" "147.32.80.0/24,ctu,CTU"; do
  out=$(alerts "$cust" malicious-ssh-bruteforce.pcap)
  ! grep -q '^scan\.' <<<"$out" || fail "ssh brute force taken for a scan ($cust): $out"
done
out=$(alerts "192.168.1.0/24,lan,LAN" test8-malicious.pcap)
[[ -z $out ]] || fail "ARP scan: flows cannot see it, yet: $out"
for cust in "147.32.80.37/32,host,H" "147.32.80.0/24,ctu,CTU"; do
  out=$(alerts "$cust" test-cc-capture-2.pcap)
  ! grep -q '^scan\.' <<<"$out" || fail "beacon capture taken for a scan ($cust): $out"
done
# every alert of the real captures: its rule in the rule table, ECS as defined
"$tw" --list-rules >"$tmp/rules.jsonl"
python3 "$TW_SRC/tests/integration/validate.py" rules --table "$tmp/rules.jsonl" --min-alerts 1 \
  "$tmp/all.jsonl" >&2 || fail "a rule of the real captures without its table entry"
python3 "$TW_SRC/tests/integration/validate.py" ecs "$tmp/all.jsonl" >&2 || fail "not ECS"
echo "scan_realdata: all checks passed"
