#!/usr/bin/env bash
# Detector evaluation: generate the labelled scenario (twgen eval) as NetFlow v5, v9 and IPFIX,
# replay each through transitwatch, score the IPFIX run per detector (bench/eval/score.py) and
# check that the three exports give the same alerts.
#   bench/eval/run.sh BUILD_DIR OUT_DIR [twgen eval options, e.g. -m 360 -s 2008 -x 1.0]
# Exit 1 when a requirement is broken (recall < 0.95, > 1 FP per 10k host-days, formats differ).
set -euo pipefail
bin=${1:?build dir}; out=${2:?output dir}; shift 2
src=$(cd "$(dirname "$0")/../.." && pwd)
mkdir -p "$out"
rc=0
for fmt in v5 v9 ipfix; do
  "$bin/tests/twgen" eval -f "$fmt" "$@" -o "$out/eval-$fmt.pcap" -t "$out/truth.jsonl" \
    -C "$out/customers.csv" -c "$out/eval.conf"
  "$bin/collector/transitwatch" replay -c "$out/eval.conf" -C "$out/customers.csv" --no-summaries \
    -o "$out/alerts-$fmt.jsonl" "$out/eval-$fmt.pcap"
  rm -f "$out/eval-$fmt.pcap"
done
python3 "$src/bench/eval/score.py" "$out/truth.jsonl" "$out/alerts-ipfix.jsonl" --md "$out/score.md" \
  --json "$out/score.json" || rc=1
python3 "$src/bench/eval/score.py" --compare "$out/alerts-v5.jsonl" "$out/alerts-v9.jsonl" \
  "$out/alerts-ipfix.jsonl" || rc=1
exit $rc
