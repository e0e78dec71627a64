#!/usr/bin/env bash
# Per-flow identity with nfdump: the same generated export capture (v5, v9, IPFIX) sent to
# nfcapd and read back with nfdump -o json, and replayed by transitwatch --flows, gives the
# same multiset of flows (addresses, ports, protocol, packets, bytes, first/last in ms).
set -euo pipefail
: "${TW_BIN:?}"
for t in nfcapd nfdump python3; do
  command -v $t >/dev/null || { echo "SKIP: $t not installed"; exit 77; }
done
. "$(dirname "$0")/lib/nfcapd.bash"
tw=$TW_BIN/collector/transitwatch
gen=$TW_BIN/tests/twgen
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export TZ=UTC
fail=0
for ver in v5 v9 ipfix; do
  $gen sample -f $ver -m 6 -o "$tmp/$ver.pcap" 2>/dev/null
  $tw replay --no-summaries --no-totals --flows "$tmp/$ver-tw.jsonl" "$tmp/$ver.pcap" >/dev/null
  d=$tmp/nfcapd-$ver
  nfcapd_record "$gen" "$tmp/$ver.pcap" "$d" || { echo "FAIL: $ver: nfcapd"; exit 1; }
  for f in "$d"/nfcapd.2*; do nfdump -r "$f" -o json 2>/dev/null | sed 's/^No matching flows$//'; done >"$tmp/$ver-nf.json"
  python3 - "$ver" "$tmp/$ver-tw.jsonl" "$tmp/$ver-nf.json" <<'PY' || fail=1
import collections, datetime, json, re, sys
ver, twf, nff = sys.argv[1:4]
def ms(s):
    d = datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%f").replace(tzinfo=datetime.timezone.utc)
    return round(d.timestamp() * 1000)
tw = collections.Counter()
for line in open(twf):
    o = json.loads(line)
    tw[(o["src"], o["dst"], o["sport"], o["dport"], o["proto"], o["packets"], o["bytes"], o["first"], o["last"])] += 1
nf = collections.Counter()
text = open(nff).read()
for chunk in re.findall(r"\[(.*?)\]", text, re.S):
    if not chunk.strip():
        continue
    for o in json.loads("[" + chunk + "]"):
        if o.get("type") != "FLOW":
            continue
        src = o.get("src4_addr") or o.get("src6_addr")
        dst = o.get("dst4_addr") or o.get("dst6_addr")
        nf[(src, dst, o["src_port"], o["dst_port"], o["proto"], o["in_packets"], o["in_bytes"], ms(o["first"]), ms(o["last"]))] += 1
only_tw, only_nf = tw - nf, nf - tw
print(f"{ver}: transitwatch {sum(tw.values())} flows, nfdump {sum(nf.values())} flows, "
      f"{len(only_tw)} only in transitwatch, {len(only_nf)} only in nfdump")
for k in list(only_tw)[:3]: print("  only transitwatch:", k)
for k in list(only_nf)[:3]: print("  only nfdump:", k)
sys.exit(0 if not only_tw and not only_nf and tw else 1)
PY
done
[[ $fail -eq 0 ]] && echo "nfdump_flows: identical flows for v5, v9, IPFIX"
exit $fail
