#!/usr/bin/env bash
# sfcapd (nfdump's sFlow collector) as an oracle: the flow-sample captures of
# $TW_SHARED/testdata/sflow sent to sfcapd and read back with nfdump, and replayed by
# transitwatch, give the same records and packets (each sample times its rate). Bytes differ by
# definition and both are checked exactly against the tshark oracle (expected.json): sfcapd
# counts the sampled frame's length (Ethernet header and FCS included), transitwatch the IP
# length, as NetFlow exporters count.
set -euo pipefail
: "${TW_BIN:?}"
for t in sfcapd nfdump python3 ss; do
  command -v $t >/dev/null || { echo "SKIP: $t not installed (sfcapd: package nfdump-sflow)"; exit 77; }
done
data=${TW_SHARED:-}/testdata/sflow
[[ -f $data/expected.json ]] || { echo "SKIP: $data/expected.json not found (set TW_SHARED)"; exit 77; }
tw=$TW_BIN/collector/transitwatch
gen=$TW_BIN/tests/twgen
tmp=$(mktemp -d)
sfpid=
trap '[[ -n $sfpid ]] && kill $sfpid 2>/dev/null; rm -rf "$tmp"' EXIT
files=(akvorado/data-1140.pcap akvorado/data-qinq.pcap akvorado/data-sflow-expanded-sample.pcap
       akvorado/data-sflow-raw-ipv4.pcap akvorado/data-icmpv4.pcap akvorado/data-icmpv6.pcap
       ndpi/sflow.pcap tcpdump/sflow-print-v6.pcap)
paths=()
for f in "${files[@]}"; do paths+=("$data/$f"); done
$tw replay --no-summaries --no-totals --flows "$tmp/tw.jsonl" "${paths[@]}" >/dev/null
port=$(python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mkdir -p "$tmp/sf"
sfcapd -b 127.0.0.1 -p "$port" -w "$tmp/sf" >"$tmp/sfcapd.log" 2>&1 &
sfpid=$!
for ((i = 0; i < 50; i++)); do ss -lun 2>/dev/null | grep ":$port " >/dev/null && break; sleep 0.1; done
for p in "${paths[@]}"; do $gen send --rate 2000 --dport 6343 "$p" "127.0.0.1:$port" >/dev/null 2>&1; done
# sfcapd has read everything once its socket's receive queue is empty (<= 10 s)
for ((i = 0; i < 100; i++)); do
  q=$(ss -Hlun "sport = :$port" 2>/dev/null | awk '{print $2}')
  [[ ${q:-0} == 0 ]] && break
  sleep 0.1
done
sleep 0.2
kill -TERM $sfpid; wait $sfpid 2>/dev/null || true; sfpid=
nfdump -R "$tmp/sf" -q -N -o "fmt:%byt %pkt" >"$tmp/nf.txt" 2>/dev/null || true
python3 - "$data/expected.json" "$tmp/tw.jsonl" "$tmp/nf.txt" "${files[@]}" <<'PY'
import json, sys
exp, twf, nff, files = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
d = json.load(open(exp))["files"]
frame = ip = 0
for f in files:
    for dg in d[f]["datagrams"]:
        for s in dg.get("samples", []):
            for r in s.get("records", []):
                dec = r.get("decoded") or {}
                if r.get("format") == 1 and dec.get("ip"):
                    last = dec["ip"][-1]
                    frame += r["frame_length"] * s["sampling_rate"]
                    ip += (last["ip_len"] if "ip_len" in last else 40 + last["payload_len"]) * s["sampling_rate"]
tw = [json.loads(l) for l in open(twf)]
tw_tot = (len(tw), sum(o["bytes"] for o in tw), sum(o["packets"] for o in tw))
nf = [l.split() for l in open(nff) if l.strip()]
nf_tot = (len(nf), sum(int(b) for b, _ in nf), sum(int(p) for _, p in nf))
print(f"sfcapd+nfdump: records {nf_tot[0]} bytes {nf_tot[1]} packets {nf_tot[2]}")
print(f"transitwatch:  records {tw_tot[0]} bytes {tw_tot[1]} packets {tw_tot[2]}")
print(f"oracle: sum(frame length x rate) {frame}, sum(IP length x rate) {ip}")
ok = nf_tot[0] == tw_tot[0] and nf_tot[2] == tw_tot[2] and nf_tot[1] == frame and tw_tot[1] == ip
ok = ok and tw_tot[0] > 20
sys.exit(0 if ok else 1)
PY
