#!/usr/bin/env bash
# Hostile input: the crafted datagrams and captures of `twgen hostile` (one per flaw, >= 60,
# generated here, not committed), each (a) replayed on its own: no crash or sanitizer report,
# its counter > 0 in the totals line, the valid datagrams appended to it decoded (exact record
# count); capture-file flaws: exit 1 naming the file, what came before still decoded; and
# (b) sent over loopback with `twgen send`, case after case, to ONE daemon: it stays up
# (/healthz), the counter moves on /metrics, the records counter grows by exactly the case's
# valid records. Driver: hostile.py. Bounded: every wait has a timeout.
set -euo pipefail
: "${TW_BIN:?}" "${TW_SRC:?}"
command -v python3 >/dev/null || { echo "SKIP: python3 not installed"; exit 77; }
tw=$TW_BIN/collector/transitwatch
gen=$TW_BIN/tests/twgen
tmp=$(mktemp -d)
cleanup() { rm -rf "$tmp"; }
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

mkdir "$tmp/cases"
$gen hostile "$tmp/cases" || fail "twgen hostile"
n=$(wc -l <"$tmp/cases/MANIFEST.tsv")
[[ $n -ge 60 ]] || fail "only $n hostile cases"

# one config for both: an allow-list (so exporter_denied can move), room for every case's own
# observation domain on the one loopback exporter, a socket buffer that holds the floods
cat >"$tmp/tw.conf" <<CONF
[collector]
listen = 127.0.0.1:0
rcvbuf = 8M
exporters_allow_only = yes
[templates]
max_domains = 1024
[exporter 10.255.0.1]
allow = yes
[exporter 127.0.0.1]
allow = yes
[output]
jsonl = $tmp/out.jsonl
[metrics]
listen = 127.0.0.1:0
CONF

python3 "$TW_SRC/tests/integration/hostile.py" replay "$tw" "$tmp/cases" "$tmp/tw.conf" \
  || fail "replay of hostile cases"
mkdir "$tmp/live"
python3 "$TW_SRC/tests/integration/hostile.py" live "$tw" "$gen" "$tmp/cases" "$tmp/tw.conf" "$tmp/live" \
  || fail "hostile cases over loopback"
echo "hostile: all $n cases passed"
