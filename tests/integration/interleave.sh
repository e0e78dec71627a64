#!/usr/bin/env bash
# A host's alerts depend on its own records' order and on the window closes, never on how other
# hosts' records interleave with them. Scaled out on Kafka each instance reads some customers'
# partitions in an interleaving of its own, N workers each see a share of the hosts, and
# exporters deliver their records in any order between them: all must give one process's
# alerts. (Found 2026-12-05: det_scan settled the UDP/ICMP probes due at a window close only up
# to the first one not yet due in arrival order, so one host's late-starting record held
# another host's probes back a window: TRW counts and whole alerts moved; int_kafka_scale
# differed once in a while with 2 instances.)
# Two captures, each replayed through `replay --write-goflow2` into a record file, that file
# merged again at random (interleave.py: every inside host's records keep their order, a record
# of two inside hosts keeps its place in both, nothing crosses a window close) with two seeds, and
# replayed with 1 and 2 workers: the alerts and summaries are exactly those of the file as written
# (kafka_compare.py exact).
#   - the evaluation scenario (twgen eval: spam, beacons, scans, a customer on the peers' side so
#     that records between customers have two inside hosts);
#   - bench/run.sh's mixed workload (twgen bulk, 20 000 hosts of 50 customers: the random hosts'
#     first contacts are where the defect showed).
source "$(dirname "$0")/lib/common.bash"
command -v python3 >/dev/null || { echo "SKIP: python3 not found"; exit 77; }
il="python3 $TW_SRC/tests/integration/interleave.py"
cmp="python3 $TW_SRC/tests/integration/kafka_compare.py"

$gen eval -m 20 -o "$tmp/e.pcap" --write-customers "$tmp/e.csv" --write-config "$tmp/e.conf" \
  2>/dev/null
echo "129.6.0.0/16,peerco,Peer Co,64700" >>"$tmp/e.csv"
printf '[customers]\nfile = %s\n' "$tmp/e.csv" >>"$tmp/e.conf"
$gen bulk -f mixed -n 100000 -H 20000 -p 4096 -c 50 -e 4 -s 7 --write-customers "$tmp/b.csv" \
  -o "$tmp/b.pcap" 2>/dev/null
printf '[customers]\nfile = %s\n' "$tmp/b.csv" >"$tmp/b.conf"
for c in e b; do
  cp "$tmp/$c.conf" "$tmp/$c-w2.conf"
  printf '[collector]\nworkers = 2\n' >>"$tmp/$c-w2.conf"
done

for c in e b; do
  # the windows the pipeline uses (interleave.py keeps every record between the same two closes)
  ! grep -qE '^(window|lateness) *=' "$tmp/$c.conf" || fail "$c.conf sets the window or lateness"
  $tw replay -c "$tmp/$c.conf" -o /dev/null --write-goflow2 "$tmp/$c.goflow2" "$tmp/$c.pcap" \
    2>"$tmp/$c-w.log" || fail "$c: --write-goflow2"
  $tw replay -c "$tmp/$c.conf" -o "$tmp/$c-ref.jsonl" "$tmp/$c.goflow2" 2>"$tmp/$c-ref.log" \
    || fail "$c: replay of the record file"
  n=$(grep -c '"kind":"alert"' "$tmp/$c-ref.jsonl" || true)
  [[ $n -ge 5 ]] || fail "$c: only $n alerts: nothing to compare"
  for seed in 1 2; do
    $il "$tmp/$c.goflow2" "$tmp/$c-$seed.goflow2" "$tmp/$c.csv" 300 30 "$seed" \
      || fail "$c: interleave.py"
    cmp -s "$tmp/$c.goflow2" "$tmp/$c-$seed.goflow2" && fail "$c: seed $seed changed no order"
    for w in 1 2; do
      conf=$tmp/$c.conf
      [[ $w == 1 ]] || conf=$tmp/$c-w2.conf
      $tw replay -c "$conf" -o "$tmp/$c-$seed-w$w.jsonl" "$tmp/$c-$seed.goflow2" \
        2>"$tmp/$c-$seed-w$w.log" || fail "$c: replay of seed $seed, $w worker(s)"
      echo -n "$c seed $seed, $w worker(s): "
      $cmp exact "$tmp/$c-ref.jsonl" "$tmp/$c-$seed-w$w.jsonl" \
        || fail "$c: another interleaving of the hosts' records (seed $seed, $w worker(s)) changed alerts or summaries"
    done
  done
done
echo "interleave: every interleaving gave the same alerts and summaries"
