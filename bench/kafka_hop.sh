#!/usr/bin/env bash
# The Kafka hop's cost (README "Beyond one box", bench/RESULTS.md): the same capture (twgen eval,
# MINUTES long) through
#   replay            the single process: decode, classify, detect;
#   replay --collect  decode, classify, encode (collector/proto/flow.proto), spool, produce to
#                     librdkafka's mock cluster (3 brokers, 12 partitions, on loopback);
#   detect            one instance: consume all 12 partitions, decode, classify again, detect;
# each RUNS times, CPU seconds (user + system, /usr/bin/time) per million records and records per
# CPU second, the median of the runs. The detect instance's idle wait at the end (--exit-idle)
# costs almost no CPU; its wall time is not reported.
#   bench/kafka_hop.sh BUILD_DIR [MINUTES] [RUNS]
# The mock cluster keeps at most 5 MB per partition: MINUTES above ~20 drops old records of the
# largest customer's partition (the detect figure would then be of fewer records).
set -euo pipefail
b=${1:?usage: bench/kafka_hop.sh BUILD_DIR [MINUTES] [RUNS]}
min=${2:-20}
runs=${3:-3}
tw=$b/collector/transitwatch
tk=$b/bench/twkafka
tmp=$(mktemp -d)
pids=()
trap 'for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done; rm -rf "$tmp"' EXIT
"$b/tests/twgen" eval -m "$min" -o "$tmp/e.pcap" --write-customers "$tmp/e.csv" \
  --write-config "$tmp/e.conf" 2>/dev/null
topics=()
for ((r = 0; r < runs; r++)); do topics+=(--topic "f$r:12"); done
"$tk" serve --brokers 3 --port-file "$tmp/boot" --max-time 3600 "${topics[@]}" >"$tmp/serve.log" 2>&1 &
pids+=($!)
for ((i = 0; i < 100; i++)); do [[ -s $tmp/boot ]] && break; sleep 0.1; done
boot=$(cat "$tmp/boot")
cat >>"$tmp/e.conf" <<CONF
[customers]
file = $tmp/e.csv
[kafka]
brokers = $boot
spool_fsync = never
spool_block_bytes = 64K
properties = log_level=3; session.timeout.ms=6000; heartbeat.interval.ms=500
flush_timeout = 120s
CONF
cpu() { # label command...: "label user+sys"
  /usr/bin/time -f "%U %S" -o "$tmp/t" "${@:2}" >/dev/null 2>"$tmp/err" || { cat "$tmp/err" >&2; exit 1; }
  awk -v l="$1" '{ print l, $1 + $2 }' "$tmp/t"
}
recs=$("$tw" replay -c "$tmp/e.conf" -o - "$tmp/e.pcap" 2>/dev/null | tail -1 |
  grep -o '"records":[0-9]*' | cut -d: -f2 | sort -n | tail -1)
for ((r = 0; r < runs; r++)); do
  cpu replay "$tw" replay -c "$tmp/e.conf" -o /dev/null "$tmp/e.pcap"
  cpu collect "$tw" replay -c "$tmp/e.conf" --collect --topic-flows "f$r" --spool-dir "$tmp/s$r" \
    -o /dev/null "$tmp/e.pcap"
  sed "s|^\[kafka\]|[kafka]\ntopic_flows = f$r\ngroup_id = bench$r\nspool_dir = $tmp/d$r|" \
    "$tmp/e.conf" >"$tmp/d.conf"
  printf '[output]\njsonl = /dev/null\n[metrics]\nlisten =\n' >>"$tmp/d.conf"
  cpu detect "$tw" detect --from-kafka -c "$tmp/d.conf" --exit-idle 3
done >"$tmp/all"
echo "records: $recs (twgen eval -m $min), $runs runs, machine: $(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg)"
for l in replay collect detect; do
  awk -v l="$l" -v n="$recs" '$1 == l { print $2 }' "$tmp/all" | sort -n |
    awk -v l="$l" -v n="$recs" '{ v[NR] = $1 } END {
      m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2;
      printf "%-8s %7.3f CPU s  %6.2f CPU s per 1M records  %9.0f records per CPU second\n",
             l, m, m / n * 1e6, n / m }'
done
