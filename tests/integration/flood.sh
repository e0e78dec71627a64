#!/usr/bin/env bash
# Key explosion: a capture where HOSTS distinct inside hosts of one customer (10.0.0.0/8) each
# send one flow, with 5 real offenders talking to a DROP-listed address throughout
# (`twgen flood`). With a small [pipeline] hosts_max and small detector tables, replay must:
# evict hosts (host_evictions > 0), keep peak RSS (/usr/bin/time -v) under a bound computed from
# the config and flat in the number of hosts (HOSTS vs HOSTS/4), and still alert on every
# offender. CI size 300k hosts; TW_FLOOD_HOSTS=5000000 for the full run (bench/RESULTS.md).
set -euo pipefail
: "${TW_BIN:?}" "${TW_SRC:?}"
[[ -x /usr/bin/time ]] || { echo "SKIP: /usr/bin/time not installed (Debian package 'time')"; exit 77; }
command -v python3 >/dev/null || { echo "SKIP: python3 not installed"; exit 77; }
tw=$TW_BIN/collector/transitwatch
gen=$TW_BIN/tests/twgen
hosts=${TW_FLOOD_HOSTS:-300000}
hosts_max=${TW_FLOOD_HOSTS_MAX:-16384}
table=4096 # detector tables (scan pairs, beacon pairs, pending and peers, spam hosts, blocklist hits)
tmp=$(mktemp -d)
cleanup() { rm -rf "$tmp"; }
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

printf '10.0.0.0/8,floodco,FloodCo\n' >"$tmp/map.csv"
cat >"$tmp/tw.conf" <<CONF
[customers]
file = $tmp/map.csv
[blocklist drop]
file = $TW_SRC/configs/blocklists/drop.txt
[pipeline]
window = 1m
hosts_max = $hosts_max
[detector.scan]
max_pairs = $table
[detector.beacon]
max_pairs = $table
pending = $table
prevalence_peers = $table
[detector.spam]
max_hosts = $table
[detector.blocklist]
max_hits = $table
CONF

$gen flood -n 200 -o "$tmp/tiny.pcap" 2>/dev/null || fail "twgen flood (tiny)"
$gen flood -n $((hosts / 4)) -z -o "$tmp/quarter.pcap.gz" 2>/dev/null || fail "twgen flood (quarter)"
$gen flood -n "$hosts" -z -o "$tmp/full.pcap.gz" 2>"$tmp/gen.log" || fail "twgen flood"
cat "$tmp/gen.log"

run() { # name capture -> $tmp/name.jsonl, $tmp/name.time
  /usr/bin/time -v "$tw" replay -c "$tmp/tw.conf" --no-summaries "$2" >"$tmp/$1.jsonl" 2>"$tmp/$1.time" \
    || { tail -5 "$tmp/$1.time" >&2; fail "replay of $1"; }
}
rss() { sed -n 's/.*Maximum resident set size (kbytes): *\([0-9]*\).*/\1/p' "$tmp/$1.time"; }
run tiny "$tmp/tiny.pcap"
run quarter "$tmp/quarter.pcap.gz"
run full "$tmp/full.pcap.gz"
base=$(rss tiny) quarter=$(rss quarter) full=$(rss full)
python3 - "$tmp/full.jsonl" "$hosts" "$hosts_max" "$table" "$base" "$quarter" "$full" <<'PY' || fail "checks"
import json, sys
path, hosts, hosts_max, table, base, quarter, full = sys.argv[1], *map(int, sys.argv[2:])
lines = open(path).read().splitlines()
t = json.loads(lines[-1])["transitwatch"]["totals"]
alerts = [json.loads(l) for l in lines if '"kind":"alert"' in l]
offenders = {a["source"]["ip"] for a in alerts
             if a["rule"]["id"].startswith("blocklist") and a["destination"]["ip"] == "198.18.0.1"}
# bound from the config: what the binary holds with nothing in it (tiny run), plus 1 KiB for
# every host-table slot and every detector table entry (each is well under that), plus slack
bound = base + (hosts_max + 7 * table) + 16 * 1024
print(f"flood: hosts={hosts} hosts_max={hosts_max} records={t['records']} "
      f"host_evictions={t['host_evictions']} alerts={len(alerts)} "
      f"peak_rss_kb={full} (quarter size {quarter}, empty {base}, bound {bound})")
errs = []
if t["records"] < hosts:
    errs.append(f"records {t['records']} < {hosts}")
if not t["host_evictions"] > 0:
    errs.append("no host evictions")
want = {f"10.255.255.{k}" for k in range(1, 6)}
if not want <= offenders:
    errs.append(f"offenders not alerted: {sorted(want - offenders)}")
if full > bound:
    errs.append(f"peak RSS {full} kB over the bound {bound} kB")
if full > quarter * 1.15 + 4096:
    errs.append(f"peak RSS grows with hosts: {quarter} kB at {hosts // 4}, {full} kB at {hosts}")
for e in errs:
    print("FAIL: " + e, file=sys.stderr)
sys.exit(1 if errs else 0)
PY
echo "flood: all checks passed"
