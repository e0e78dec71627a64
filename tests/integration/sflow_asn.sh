#!/usr/bin/env bash
# sFlow extended gateway AS numbers reach the customer map's ASN lines end to end: every real
# capture in $TW_SHARED/testdata/sflow with a gateway record (akvorado data-1140 and
# data-sflow-expanded-sample, tcpdump sflow_expanded) replayed with a map that has only
# "ASnnn,..." lines (no prefixes) for the AS numbers tshark shows. Each sample's record, found by
# tshark's 5-tuple, must belong to the customer of its source AS (outbound), of its destination
# AS (the last of the path, the router's own when the path is empty: inbound), or both
# (internal); a sample whose ASes are 0 or unmapped stays unmatched.
source "$(dirname "$0")/lib/common.bash"
data=${TW_SHARED:-}/testdata/sflow
[[ -f $data/expected.json ]] || { echo "SKIP: $data/expected.json not found (set TW_SHARED)"; exit 77; }
files=(akvorado/data-1140.pcap akvorado/data-sflow-expanded-sample.pcap tcpdump/sflow_expanded.pcap)
for f in "${files[@]}"; do
  python3 - "$data/expected.json" "$f" "$tmp/cust.csv" "$tmp/want.json" <<'PY'
import json, sys
exp = json.load(open(sys.argv[1]))["files"][sys.argv[2]]
want, ases = [], set()
for dg in exp["datagrams"]:
    for s in dg.get("samples") or []:
        gw = ip = None
        for r in s.get("records") or []:
            gw = r.get("gateway", gw)
            if r.get("decoded", {}).get("ip"):
                ip = r["decoded"]["ip"][-1]
        if not ip:
            continue
        src_as = gw["src_as"] if gw else 0
        path = [a for seg in gw["as_path"] for a in seg["asns"]] if gw else []
        dst_as = (path[-1] if path else gw["as"]) if gw else 0
        ases |= {a for a in (src_as, dst_as) if a}
        want.append({"src": ip["src"], "dst": ip["dst"], "sport": ip.get("src_port", 0),
                     "dport": ip.get("dst_port", 0), "src_as": src_as, "dst_as": dst_as})
assert any(w["src_as"] or w["dst_as"] for w in want), "no gateway AS in " + sys.argv[2]
with open(sys.argv[3], "w") as fh:
    for a in sorted(ases):
        fh.write("AS%d,as%d,AS %d\n" % (a, a, a))
json.dump(want, open(sys.argv[4], "w"))
PY
  "$tw" replay -C "$tmp/cust.csv" --format json --no-summaries \
    --no-totals --flows "$tmp/flows.json" "$data/$f" >/dev/null 2>"$tmp/err" \
    || fail "replay of $f: $(cat "$tmp/err")"
  python3 - "$tmp/want.json" "$tmp/flows.json" "$f" <<'PY'
import ipaddress, json, sys
want = json.load(open(sys.argv[1]))
got = [json.loads(l) for l in open(sys.argv[2])]
norm = lambda a: ipaddress.ip_address(a).compressed
if len(got) != len(want):
    sys.exit("FAIL: %s: %d records, tshark shows %d samples with IP" % (sys.argv[3], len(got), len(want)))
for w in want:
    key = (norm(w["src"]), norm(w["dst"]), w["sport"], w["dport"])
    rec = [g for g in got if (norm(g["src"]), norm(g["dst"]), g["sport"], g["dport"]) == key]
    if not rec:
        sys.exit("FAIL: %s: no record %s" % (sys.argv[3], key))
    s, d = ("as%d" % w["src_as"]) if w["src_as"] else "", ("as%d" % w["dst_as"]) if w["dst_as"] else ""
    dirn, cust = ("internal", s) if s and d else ("outbound", s) if s else \
        ("inbound", d) if d else ("none", "")
    for g in rec:
        if (g["direction"], g["customer"]) != (dirn, cust):
            sys.exit("FAIL: %s: %s is %s/%s, the gateway record (src AS %d, dst AS %d) says %s/%s"
                     % (sys.argv[3], key, g["direction"], g["customer"], w["src_as"], w["dst_as"],
                        dirn, cust))
print("%s: %d records, AS customers as tshark's gateway records say" % (sys.argv[3], len(want)))
PY
done
echo "sflow_asn: ok"
