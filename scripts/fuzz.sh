#!/usr/bin/env bash
# Run every fuzz target of a TW_FUZZ build for SECONDS each on its seed corpus.
#   scripts/fuzz.sh BUILD_DIR [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:?build dir}; secs=${2:-60}
fails=0; n=0
for bin in "$build"/fuzz/fuzz_*; do
  [[ -x $bin ]] || continue
  name=$(basename "$bin"); name=${name#fuzz_}
  corpus=fuzz/corpus/$name
  work=$(mktemp -d)
  [[ -d $corpus ]] && cp -r "$corpus"/. "$work"/ 2>/dev/null || true
  n=$((n+1))
  if "$bin" -max_total_time="$secs" -rss_limit_mb=2048 -timeout=10 -print_final_stats=0 \
       "$work" >"$work.log" 2>&1; then
    echo "fuzz $name: ok (${secs}s)"
  else
    echo "fuzz $name: FAILED"; tail -40 "$work.log"; fails=$((fails+1))
  fi
  rm -rf "$work" "$work.log"
done
echo "fuzz: $((n-fails)) passed, $fails failed"
((fails == 0))
