#!/usr/bin/env bash
# nfcapd archives: a real nfcapd (nfdump's collector) writes them in this test from NetFlow v9
# that twgen sends it over loopback; then `transitwatch replay DIR` and `replay FILE` must give
# the same totals as `nfdump -r` (flows, packets, bytes, in JSON and CSV mode) and the same
# alerts as replaying the original export capture.
# What nfdump's output cannot carry: the exporter as our decoder numbers it (alerts do not use
# it) and, in CSV mode, milliseconds (CSV prints whole seconds), so alerts are compared in JSON
# mode only; event ids and observer fields are per run and are stripped before comparing.
set -euo pipefail
: "${TW_BIN:?}" "${TW_SRC:?}"
tw=$TW_BIN/collector/transitwatch
gen=$TW_BIN/tests/twgen
command -v nfcapd >/dev/null && command -v nfdump >/dev/null \
  || { echo "SKIP: nfcapd/nfdump not installed (apt-get install nfdump)"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. "$(dirname "$0")/lib/nfcapd.bash"
fail() { echo "FAIL: $*" >&2; exit 1; }

$gen sample -f v9 -m 20 -o "$tmp/s.pcap" 2>/dev/null
nfcapd_record "$gen" "$tmp/s.pcap" "$tmp/arch" -t 3600 || fail "nfcapd could not record the capture"
files=("$tmp"/arch/nfcapd.[0-9]*)
[[ -f "${files[0]}" ]] || fail "nfcapd wrote no file: $(cat "$tmp/arch.log")"

stat_of() { nfdump -R "$tmp/arch" -I | sed -n "s/^$1: //p"; }
nflows=$(stat_of Flows); npk=$(stat_of Packets); nby=$(stat_of Bytes)
[[ $nflows -gt 1000 ]] || fail "nfcapd stored only $nflows flows"

lists=(--customers "$TW_SRC/configs/customers.csv"
       --blocklist drop="$TW_SRC/configs/blocklists/drop.txt"
       --blocklist feodo="$TW_SRC/configs/blocklists/feodo.txt")
totals() { tail -1 | grep -o "\"$1\":[0-9]*" | head -1 | cut -d: -f2; }
for fmt in json csv; do
  for input in "$tmp/arch" "${files[0]}"; do
    $tw replay "${lists[@]}" --nfdump-format $fmt --no-stats "$input" >"$tmp/o.jsonl"
    [[ $(totals archive_records <"$tmp/o.jsonl") == "$nflows" ]] || fail "$fmt $input: flows $(totals archive_records <"$tmp/o.jsonl") != $nflows"
    [[ $(totals flow_packets <"$tmp/o.jsonl") == "$npk" ]] || fail "$fmt $input: packets"
    [[ $(totals bytes <"$tmp/o.jsonl") == "$nby" ]] || fail "$fmt $input: bytes"
  done
done
echo "archive totals = nfdump -r: $nflows flows, $npk packets, $nby bytes (json and csv, dir and file)"

# the same alerts as the original capture (JSON mode)
alerts() { grep '"kind":"alert"' | sed -e 's/"observer":{[^}]*},//' -e 's/"id":"[^"]*",//g' | sort; }
$tw replay "${lists[@]}" --no-stats "$tmp/s.pcap" | alerts >"$tmp/a-capture"
$tw replay "${lists[@]}" --no-stats "$tmp/arch" | alerts >"$tmp/a-archive"
[[ -s "$tmp/a-capture" ]] || fail "no alerts from the capture"
cmp -s "$tmp/a-capture" "$tmp/a-archive" || { diff "$tmp/a-capture" "$tmp/a-archive" | head -5; fail "alerts differ"; }
echo "alerts: $(wc -l <"$tmp/a-capture") alike from the capture and the archive"

# an archive directory with a stray file and nfcapd.current: skipped; a broken archive: an error
cp "${files[0]}" "$tmp/arch/nfcapd.current.1234"
echo "not a flow file" >"$tmp/arch/README"
$tw replay --no-stats "$tmp/arch" | tail -1 | grep -q "\"archive_records\":$nflows" || fail "stray files were read"
head -c 300 "${files[0]}" >"$tmp/nfcapd.202001010000"
set +e
$tw replay --no-stats "$tmp/nfcapd.202001010000" >/dev/null 2>"$tmp/err"; rc=$?
set -e
[[ $rc -ne 0 && $rc -lt 128 ]] || fail "broken archive: exit $rc"
grep -q 'nfcapd.202001010000' "$tmp/err" || fail "broken archive: no message"
echo "nfcapd_archive: all checks passed"
