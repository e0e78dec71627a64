#!/usr/bin/env bash
# Run fuzz targets of a TW_FUZZ build for SECONDS each on their seed corpus (fuzz/corpus/NAME).
#   scripts/fuzz.sh BUILD_DIR [SECONDS] [TARGET...]
# TARGET: names without the fuzz_ prefix (pkt frag pcap decode ...); none = every target.
# CI runs every target for a bounded time (scripts/test.sh, FUZZ_SECONDS); by hand, e.g.
#   scripts/fuzz.sh build-fuzz 3600 pkt frag pcap decode nf5 nf9 ipfix
# runs the packet path and the decoders for an hour each, FUZZ_JOBS of them (default: one per
# core) at a time. FUZZ_KEEP=DIR keeps each target's grown corpus in DIR/NAME (and starts from
# it on the next run); a crash input is left in the current directory (crash-*), the log tail is
# printed.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:?build dir}; secs=${2:-60}
shift $(( $# >= 2 ? 2 : $# ))
bins=()
if (($#)); then
  for t in "$@"; do
    [[ -x $build/fuzz/fuzz_$t ]] || { echo "fuzz: no target fuzz_$t in $build/fuzz" >&2; exit 2; }
    bins+=("$build/fuzz/fuzz_$t")
  done
else
  for bin in "$build"/fuzz/fuzz_*; do [[ -x $bin ]] && bins+=("$bin"); done
fi
# One target: its result line (and the log's tail when it fails) in $res/NAME; the summary
# below reads the pass or failure from that line.
run_one() {
  local bin=$1 res=$2 name corpus work log runs cov
  name=$(basename "$bin"); name=${name#fuzz_}
  corpus=fuzz/corpus/$name
  if [[ -n ${FUZZ_KEEP:-} ]]; then
    work=$FUZZ_KEEP/$name; mkdir -p "$work"
  else
    work=$(mktemp -d)
  fi
  [[ -d $corpus ]] && cp -rn "$corpus"/. "$work"/ 2>/dev/null || true
  log=$(mktemp)
  if "$bin" -max_total_time="$secs" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
       "$work" >"$log" 2>&1; then
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | tr -d 'cov: ')
    echo "fuzz $name: ok (${secs}s, ${runs:-?} runs, coverage ${cov:-?} edges, corpus $(ls "$work" | wc -l))" >"$res/$name"
  else
    { echo "fuzz $name: FAILED"; tail -40 "$log"; } >"$res/$name"
  fi
  [[ -n ${FUZZ_KEEP:-} ]] || rm -rf "$work"
  rm -f "$log"
}
# FUZZ_JOBS targets at once (default: one per core); each keeps its own time budget, so the
# whole run takes about ceil(targets / jobs) * SECONDS. Results are printed in target order.
jobs=${FUZZ_JOBS:-$(nproc)}
((jobs >= 1)) || jobs=1
res=$(mktemp -d)
trap 'rm -rf "$res"' EXIT
running=0
for bin in "${bins[@]}"; do
  if ((running >= jobs)); then wait -n || true; running=$((running - 1)); fi
  run_one "$bin" "$res" &
  running=$((running + 1))
done
wait || true # a target's pass or failure is its result line, read below
fails=0; n=0
for bin in "${bins[@]}"; do
  name=$(basename "$bin"); name=${name#fuzz_}
  n=$((n+1))
  if [[ -f $res/$name ]]; then cat "$res/$name"; else echo "fuzz $name: FAILED (no result)"; fi
  grep -qs "^fuzz $name: ok (" "$res/$name" || fails=$((fails+1))
done
echo "fuzz: $((n-fails)) passed, $fails failed"
((fails == 0))
