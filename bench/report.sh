#!/usr/bin/env bash
# The report's size and time on the 6-hour evaluation scenario (issue 18: under 5 MB, written in
# under 2 s). By hand, not in CI:
#   bench/report.sh BUILD_DIR OUT_DIR [twgen eval options; default -m 360 -s 2008 -x 1.0]
# It makes the scenario (IPFIX), replays it once with --report (the page written from the
# replay's model at its end) and -o (the JSON lines), then times `transitwatch report` over
# those JSON lines RUNS times (default 5: reading and parsing every line, the model, the page;
# an upper bound of the replay's own write, which starts from a built model) and prints the
# median, the spread and both pages' sizes.
set -euo pipefail
bin=${1:?build dir}; out=${2:?output dir}; shift 2
gen_args=("$@"); ((${#gen_args[@]})) || gen_args=(-m 360 -s 2008 -x 1.0)
runs=${RUNS:-5}
tw=$bin/collector/transitwatch; gen=$bin/tests/twgen
mkdir -p "$out"
"$gen" eval -f ipfix "${gen_args[@]}" -o "$out/eval.pcap" -t "$out/truth.jsonl" \
  --write-customers "$out/customers.csv" --write-config "$out/eval.conf" >/dev/null 2>&1
"$tw" replay --no-stats --format json -c "$out/eval.conf" -C "$out/customers.csv" \
  -o "$out/eval.jsonl" --report "$out/replay.html" "$out/eval.pcap"
lines=$(wc -l <"$out/eval.jsonl"); alerts=$(grep -c '"kind":"alert"' "$out/eval.jsonl" || true)
times=()
for ((i = 0; i < runs; i++)); do
  s=$(date +%s%N)
  "$tw" report -C "$out/customers.csv" -c "$out/eval.conf" -o "$out/report.html" "$out/eval.jsonl"
  e=$(date +%s%N)
  times+=("$(( (e - s) / 1000000 ))")
done
sorted=($(printf '%s\n' "${times[@]}" | sort -n))
echo "scenario: twgen eval ${gen_args[*]}: $lines messages ($alerts alerts), $(stat -c %s "$out/eval.jsonl") bytes of JSON lines"
echo "transitwatch report (read + model + page), $runs runs: median ${sorted[$((runs / 2))]} ms, min ${sorted[0]} ms, max ${sorted[$((runs - 1))]} ms"
echo "page sizes: report $(stat -c %s "$out/report.html") bytes, replay --report $(stat -c %s "$out/replay.html") bytes"
