#!/usr/bin/env bash
# Decoder work per sFlow flow sample, in instructions (callgrind), not seconds: two captures of
# K and 2K sFlow datagrams (the `twgen sflow-corpus` datagram v4-raw: 2 flow samples with a
# 128-byte raw header each, sequence numbers consecutive) replayed under callgrind, counting
# only the instructions inside decode_datagram; (Ir(2K) - Ir(K)) / samples of K datagrams is
# the cost of one sample (datagram header, sample walk, pkt_parse of the header, dec_emit).
#   bash bench/sflow_cost.sh BUILD_DIR [K]
set -euo pipefail
bin=${1:?build dir}; k=${2:-1000}
command -v valgrind >/dev/null || { echo "valgrind not installed" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$bin/tests/twgen" sflow-corpus "$tmp"
python3 - "$tmp/v4-raw" "$k" "$tmp" <<'PY'
import struct, sys
d = open(sys.argv[1], "rb").read(); k = int(sys.argv[2]); out = sys.argv[3]
for n in (k, 2 * k):
    with open(f"{out}/sf{n}.pcap", "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 101))  # raw IP
        for i in range(n):
            p = bytearray(d); p[16:20] = struct.pack(">I", i + 1)  # datagram sequence
            udp = struct.pack(">HHHH", 40000, 6343, 8 + len(p), 0) + bytes(p)
            ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 64, 17, 0,
                             bytes([127, 0, 0, 1]), bytes([127, 0, 0, 2])) + udp
            f.write(struct.pack("<IIII", 1700000000 + i // 100, (i % 100) * 10000, len(ip), len(ip)) + ip)
PY
ir() {
  valgrind --tool=callgrind --toggle-collect=decode_datagram --callgrind-out-file="$tmp/cg" \
    "$bin/collector/transitwatch" replay --no-summaries --no-totals "$1" >/dev/null 2>"$tmp/log"
  sed -n 's/.*Collected : \([0-9]*\).*/\1/p' "$tmp/log"
}
a=$(ir "$tmp/sf$k.pcap"); b=$(ir "$tmp/sf$((2 * k)).pcap")
echo "sFlow: $(( (b - a) / (2 * k) )) Ir per flow sample inside decode_datagram ($k datagrams: $a Ir, $((2 * k)): $b Ir)"
