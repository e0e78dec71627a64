#!/usr/bin/env bash
# Worker threads: a replay of the labelled scenario (every detector alerts) with one worker,
# two and three (threads beside the pipeline thread), the default shard map and one with
# another share for the pipeline thread's shard (dispatcher_cost), gives the same alerts and
# summaries; with three, byte for byte the same output on every run (alerts raised on the
# threads are merged in record order, window close runs with the workers idle).
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
# the totals line counts the records of the run: equal too, except what follows from the
# detectors' table sizes (one table per worker: three times as large): capacities, filter
# fill, and how often a full table pushed an entry out
nocap() {
  python3 -c 'import json,sys
for l in open(sys.argv[1]):
    d = json.loads(l)
    for det in d.get("transitwatch", {}).get("totals", {}).get("detectors", {}).values():
        for k in [k for k in det if k.endswith(("capacity", "evicted", "overwritten", "refused"))
                  or k.startswith("contact_filter_")]:
            del det[k]
    print(json.dumps(d, sort_keys=True))' "$1" | sort
}
nocap "$tmp/one.jsonl" >"$tmp/one.sorted"
run 2 two.jsonl
run 2c0 two-c0.jsonl
run 3c0 three-c0.jsonl
for o in three-a two two-c0 three-c0; do
  nocap "$tmp/$o.jsonl" >"$tmp/$o.sorted"
  cmp -s "$tmp/one.sorted" "$tmp/$o.sorted" || {
    diff "$tmp/one.sorted" "$tmp/$o.sorted" | head -5 >&2
    fail "one worker and $o disagree"
  }
done
echo "workers: $alerts alerts, 1, 2 and 3 workers and a changed shard map agree, 3 workers deterministic"
