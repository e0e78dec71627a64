#!/usr/bin/env bash
# Worker threads: a replay of the labelled scenario (every detector alerts) with one worker,
# two and three (threads beside the pipeline thread), the default shard map and one with
# another share for the pipeline thread's shard (dispatcher_cost), gives the same alerts and
# summaries, line for line in the same order (alerts raised on the threads are merged in record
# order; a window close's alerts go out sorted by customer, host and rule, whichever worker held
# the host); with three, byte for byte the same output on every run.
set -euo pipefail
: "${TW_BIN:?}"
tw=$TW_BIN/collector/transitwatch
gen=$TW_BIN/tests/twgen
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

$gen eval -f ipfix -m 60 -s 7 -o "$tmp/e.pcap" -t "$tmp/truth.jsonl" --write-customers "$tmp/map.csv" \
  --write-config "$tmp/eval.conf" >/dev/null 2>&1 || fail "twgen eval"
for n in 1 2 3; do
  { cat "$tmp/eval.conf"; printf '[collector]\nworkers = %s\n' "$n"; } >"$tmp/w$n.conf"
done
# the shard map changed: shard 0 (on the pipeline thread) with half of the hosts (2 workers)
# and with a third (3 workers) instead of the default share
for n in 2 3; do
  { cat "$tmp/eval.conf"; printf '[collector]\nworkers = %s\ndispatcher_cost = 0\n' "$n"; } \
    >"$tmp/w${n}c0.conf"
done
run() { # workers output
  $tw replay -c "$tmp/w$1.conf" -C "$tmp/map.csv" -o "$tmp/$2" "$tmp/e.pcap" 2>"$tmp/$2.err" \
    || { cat "$tmp/$2.err" >&2; fail "replay with $1 workers"; }
}
run 1 one.jsonl
run 3 three-a.jsonl
run 3 three-b.jsonl
cmp -s "$tmp/three-a.jsonl" "$tmp/three-b.jsonl" || fail "three workers: output differs between runs"
alerts=$(grep -c '"kind":"alert"' "$tmp/one.jsonl" || true)
[[ $alerts -ge 20 ]] || fail "scenario too quiet: $alerts alerts"
for d in spam beacon scan customer; do
  grep -q "\"rule\":{\"id\":\"$d\." "$tmp/three-a.jsonl" || fail "no $d alert with threads"
done
# the totals line counts the records of the run: equal too, except the detectors' counters
# that follow from where entries fall in their tables. Each worker's detector tables hold its
# share of the configured capacities (detector.h det_share_cap), so N workers hold what one
# does in all (checked: capacities summed over the workers within whole buckets and a minimum
# table per worker), but which entries meet in a set-associative set, a Bloom filter word or a
# full table depends on the table's size and on which hosts share it: evictions, overwrites
# and the filter's fill differ, and what they move (admissions, first contacts, pairs held) may
# differ by a few percent. Alerts and summaries stay byte for byte the same, in the same order
# (above and below), and every alert counter too.
split() { # file -> its lines in order, the totals line less its detector counters
  python3 -c 'import json,sys
for l in open(sys.argv[1]):
    d = json.loads(l)
    t = d.get("transitwatch", {}).get("totals")
    if t is None:
        sys.stdout.write(l)
        continue
    t.pop("detectors", None)
    print(json.dumps(d, sort_keys=True))' "$1"
}
detcmp() { # one other workers: the detector counters of the two totals lines
  python3 - "$1" "$2" "$3" <<'PY'
import json, sys
def dets(path):
    for l in open(path):
        d = json.loads(l)
        t = d.get("transitwatch", {}).get("totals")
        if t:
            return t["detectors"]
one, other, n = dets(sys.argv[1]), dets(sys.argv[2]), int(sys.argv[3])
bad = []
for det, c1 in one.items():
    # a worker's share of a table is a share of its capacity: the one holding the busiest hosts
    # may evict where one worker did not (counted); what it held then differs by as much
    moved = sum(abs(a - other[det][k]) for k, a in c1.items() if k.endswith("evicted"))
    for k, a in c1.items():
        b = other[det][k]
        if k.endswith("capacity") or k == "contact_filter_size":
            slack = (16384 if k == "contact_filter_size" else 80) * n
            if not a <= b <= a + slack:
                bad.append(f"{det}.{k}: {a} with one worker, {b} in all with {n}")
        elif k.startswith("alerts"):
            if a != b:
                bad.append(f"{det}.{k}: {a} with one worker, {b} with {n}")
        elif not (k.endswith(("evicted", "overwritten", "refused")) or k.startswith("contact_filter_")):
            if abs(a - b) > max(2, 0.05 * a) + moved:
                bad.append(f"{det}.{k}: {a} with one worker, {b} with {n} (more than 5 % + {moved} evicted)")
for b in bad:
    print(b, file=sys.stderr)
sys.exit(1 if bad else 0)
PY
}
split "$tmp/one.jsonl" >"$tmp/one.sorted"
run 2 two.jsonl
run 2c0 two-c0.jsonl
run 3c0 three-c0.jsonl
for o in three-a:3 two:2 two-c0:2 three-c0:3; do
  n=${o#*:} o=${o%:*}
  split "$tmp/$o.jsonl" >"$tmp/$o.sorted"
  cmp -s "$tmp/one.sorted" "$tmp/$o.sorted" || {
    diff "$tmp/one.sorted" "$tmp/$o.sorted" | head -5 >&2
    fail "one worker and $o disagree"
  }
  detcmp "$tmp/one.jsonl" "$tmp/$o.jsonl" "$n" || fail "one worker and $o: detector counters"
done
echo "workers: $alerts alerts, 1, 2 and 3 workers and a changed shard map agree line for line, 3 workers deterministic"
