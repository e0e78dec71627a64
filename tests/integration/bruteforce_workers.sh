#!/usr/bin/env bash
# The brute-force detector end to end on a generated Zeek conn.log (bruteforce_gen.py: six
# guessers on one target each, two across many servers, among browsing hosts, administrators,
# rsync/ansible runs, customer servers guessed at from outside, a monitoring host and a port-22
# sweep):
#   - exactly the expected incidents (rule, host, peer, port), none on a look-alike;
#   - one worker and three give the same alerts; three, byte for byte the same on every run;
#   - [customer ID] overrides (bruteforce.allow_hosts, bruteforce.attempts) apply per customer;
#   - every alert line passes configs/alert.schema.json (when python3-jsonschema is there).
set -euo pipefail
: "${TW_BIN:?}" "${TW_SRC:?}"
tw=$TW_BIN/collector/transitwatch
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

python3 "$TW_SRC/tests/integration/bruteforce_gen.py" "$tmp" || fail "bruteforce_gen.py"
for n in 1 3; do printf '[collector]\nworkers = %s\n' "$n" >"$tmp/w$n.conf"; done
run() { # workers output
  "$tw" replay -c "$tmp/w$1.conf" -C "$tmp/customers.csv" --no-summaries --no-totals -o "$tmp/$2" \
    "$tmp/conn.log" 2>"$tmp/$2.err" || { cat "$tmp/$2.err" >&2; fail "replay with $1 workers"; }
}
run 1 one.jsonl
run 3 three-a.jsonl
run 3 three-b.jsonl
cmp -s "$tmp/three-a.jsonl" "$tmp/three-b.jsonl" || fail "three workers: output differs between runs"
sort "$tmp/one.jsonl" >"$tmp/one.sorted"
sort "$tmp/three-a.jsonl" >"$tmp/three.sorted"
cmp -s "$tmp/one.sorted" "$tmp/three.sorted" || {
  diff "$tmp/one.sorted" "$tmp/three.sorted" | head -5 >&2
  fail "one and three workers disagree"
}
python3 - "$tmp/one.jsonl" >"$tmp/got.txt" <<'PY'
import json, sys
seen = set()
for line in open(sys.argv[1]):
    d = json.loads(line)
    t = d["transitwatch"]
    if t["detector"] != "bruteforce":
        continue
    assert d["source"]["ip"] == t["host"], d
    assert d["network"].get("direction") == ("outbound" if t.get("peer") else None), d
    e = t["evidence"]
    assert e["login_attempts"] >= 1 and t["flows"] == e["connections"] and t["bytes"] == e["bytes"], e
    seen.add("%s %s %s %s" % (d["rule"]["id"], t["host"], t.get("peer") or "-", d["destination"]["port"]))
print("\n".join(sorted(seen)))
PY
if ! diff -u "$tmp/expected.txt" "$tmp/got.txt"; then
  fail "bruteforce incidents differ from the expected ones (- expected, + raised)"
fi
# per-customer options: the hosting customer declares its SMB guesser a permitted audit host;
# the ISP raises its per-target threshold to 200 (left: Hydra's 300 and MSSQL's 500)
{ cat "$tmp/w1.conf"; printf '[customer hosting]\nbruteforce.allow_hosts = 100.65.1.5/32\n'
  printf '[customer isp]\nbruteforce.attempts = 200\n'; } >"$tmp/cust.conf"
"$tw" replay -c "$tmp/cust.conf" -C "$tmp/customers.csv" --no-summaries --no-totals -o "$tmp/cust.jsonl" \
  "$tmp/conn.log" 2>"$tmp/cust.err" || { cat "$tmp/cust.err" >&2; fail "replay with customer options"; }
got=$(python3 - "$tmp/cust.jsonl" <<'PY'
import json, sys
print(" ".join(sorted({"%s/%s" % (d["rule"]["id"], d["transitwatch"]["host"]) for d in map(json.loads, open(sys.argv[1]))
                       if d["transitwatch"]["detector"] == "bruteforce"})))
PY
)
want="bruteforce.horizontal/100.64.2.1 bruteforce.horizontal/100.65.2.2 bruteforce.login/100.64.1.1 bruteforce.login/100.64.1.4"
[[ $got == "$want" ]] || fail "customer options: got [$got], want [$want]"
if python3 -c 'import jsonschema' 2>/dev/null; then
  python3 "$TW_SRC/tests/integration/validate.py" lines --min-alerts 8 "$tmp/one.jsonl" || fail "schema"
fi
echo "bruteforce_workers: $(grep -c . "$tmp/got.txt") incidents as expected, 1 and 3 workers agree, 3 workers deterministic"
