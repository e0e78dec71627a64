#!/usr/bin/env bash
# Decoder work per record, NetFlow v5, v9, IPFIX and sFlow v5 by one method, in instructions
# (callgrind), not seconds: for each format the export of the same evaluation traffic
# (`twgen eval -m 360 -x 1.0 -F -s 2008`, no flooders; sFlow: `-f sflow -N RATE`, raw 128-byte
# headers through pkt_parse, 20 s counter samples), cut to its first K and first 2K datagrams,
# each replayed under callgrind counting only the instructions inside decode_datagram and not
# those of the record's hand-off to the pipeline (pipeline_flow: classification, windows,
# detectors, which sFlow's arrival-time records would otherwise drag in as their windows close);
# (Ir(2K) - Ir(K)) / (records(2K) - records(K)) is one record's cost with the set-up (templates
# cached once, tables made) excluded: datagram header, set or sample walk, template
# interpretation or packet parse, sampling, dec_emit. Records are the decoder's own count
# (totals decode.records) of a plain replay of each cut. records/s: the decoder's records of the
# whole capture over the user CPU of its plain replay without customers (read, decode, and a
# pipeline that finds no customer: an upper bound on the decoder's cost; one core; meaningful
# only on a quiet machine: say "machine loaded" next to it otherwise).
#   bash bench/decoder_cost.sh BUILD_DIR [K] [SFLOW_RATE]
set -euo pipefail
bin=${1:?build dir}; k=${2:-1000}; rate=${3:-100}
command -v valgrind >/dev/null || { echo "valgrind not installed" >&2; exit 2; }
tw=$bin/collector/transitwatch; gen=$bin/tests/twgen
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# the first n frames of a pcap (microsecond or nanosecond, either byte order)
cut() {
  python3 - "$1" "$2" "$3" <<'PY'
import struct, sys
src, n, dst = sys.argv[1], int(sys.argv[2]), sys.argv[3]
d = open(src, "rb").read()
e = "<" if d[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
out, off = [d[:24]], 24
for _ in range(n):
    if off + 16 > len(d):
        sys.exit(f"{src}: fewer than {n} frames")
    incl = struct.unpack(e + "I", d[off + 8:off + 12])[0]
    out.append(d[off:off + 16 + incl]); off += 16 + incl
open(dst, "wb").write(b"".join(out))
PY
}
records() { # the decoder's record count of a plain replay
  "$tw" replay --no-summaries -o "$tmp/out.jsonl" "$1" 2>/dev/null
  tail -1 "$tmp/out.jsonl" | python3 -c 'import json, sys; print(json.load(sys.stdin)["transitwatch"]["totals"]["decode"]["records"])'
}
ir() {
  valgrind --tool=callgrind --toggle-collect=decode_datagram --toggle-collect=pipeline_flow \
    --callgrind-out-file="$tmp/cg" \
    "$tw" replay --no-summaries --no-totals "$1" >/dev/null 2>"$tmp/log"
  sed -n 's/.*Collected : \([0-9]*\).*/\1/p' "$tmp/log"
}
echo "| format | records in $k / $((2 * k)) datagrams | records per datagram | Ir per record | records/s (user CPU, whole capture) |"
echo "|---|---|---|---|---|"
for fmt in v5 v9 ipfix sflow; do
  if [[ $fmt == sflow ]]; then
    "$gen" eval -f sflow -N "$rate" -m 360 -x 1.0 -F -s 2008 -o "$tmp/full.pcap" 2>/dev/null
    name="sFlow v5 1:$rate"
  else
    "$gen" eval -f "$fmt" -m 360 -x 1.0 -F -s 2008 -o "$tmp/full.pcap" 2>/dev/null
    name=$fmt
  fi
  cut "$tmp/full.pcap" "$k" "$tmp/a.pcap"; cut "$tmp/full.pcap" $((2 * k)) "$tmp/b.pcap"
  ra=$(records "$tmp/a.pcap"); rb=$(records "$tmp/b.pcap")
  ia=$(ir "$tmp/a.pcap"); ib=$(ir "$tmp/b.pcap")
  rall=$(records "$tmp/full.pcap")
  user=$( { /usr/bin/time -f %U "$tw" replay --no-summaries --no-totals "$tmp/full.pcap" >/dev/null; } 2>&1 | tail -1)
  python3 - "$name" "$ra" "$rb" "$ia" "$ib" "$k" "$user" "$rall" <<'PY'
import sys
name, ra, rb, ia, ib, k = sys.argv[1], *map(int, sys.argv[2:7])
user, rall = float(sys.argv[7]), int(sys.argv[8])
per = (ib - ia) / (rb - ra)
rps = f"{rall / user:,.0f} ({rall} records)" if user > 0 else "(too fast to time)"
print(f"| {name} | {ra} / {rb} | {rb / (2 * k):.1f} | {per:,.0f} | {rps} |")
PY
done
