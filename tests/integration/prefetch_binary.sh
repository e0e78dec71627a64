#!/usr/bin/env bash
# The prefetches the hot paths were written with are in the optimised binary (issue 15,
# bench/RESULTS.md thirty-eighth part). gcc 12 deletes the calls of a function that only
# prefetches when it finds it const or pure (its pure-const pass; __builtin_prefetch has no
# modelled effect): the source and the instruction counts look right while the binary asks for
# nothing. It happened to a reverted slot prefetch and, unnoticed for weeks, to the ordered host
# walk and two expiry walks. Every function below must hold at least the given number of
# prefetch instructions in `collector/transitwatch`.
# Skipped (77) for builds that are not optimised (Debug: no inlining, the prefetches sit in the
# helpers' own bodies) and sanitizer builds, or without objdump.
set -euo pipefail
: "${TW_BIN:?}"
bin="$TW_BIN/collector/transitwatch"
[ -x "$bin" ] || { echo "$bin not built"; exit 1; }
command -v objdump >/dev/null || { echo "objdump not found: skipping"; exit 77; }
source "$(dirname "$0")/lib/build.bash"
if build_has SANITIZE TSAN MSAN FUZZ; then
  echo "sanitizer build: skipping"
  exit 77
fi
btype=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$TW_BIN/CMakeCache.txt")
case "$btype" in
  Release | RelWithDebInfo | MinSizeRel) ;;
  *) echo "build type '${btype:-none}' is not optimised: skipping"; exit 77 ;;
esac

# function (as objdump names it, a .part/.constprop suffix allowed)  minimum prefetches:
#   hosttab_prefetch_tags, hosttab_prefetch_slot: a record's two tag blocks, its slot's lines
#   hosttab_foreach, hosttab_foreach_unordered: the window close's host walks
#   beacon_prefetch, scan_prefetch: the detectors' prefetch passes over a batch
#   scan_on_window, bf_on_window: the expiry walks (ltab_ahead)
#   ltab_insert: a full table's next evictions (ltab_ahead)
#   meter_stage, meter_run: raw packets' flow-table slots
want=(
  hosttab_prefetch_tags 2
  hosttab_prefetch_slot 2
  hosttab_foreach 1
  hosttab_foreach_unordered 1
  beacon_prefetch 2
  scan_prefetch 2
  scan_on_window 1
  bf_on_window 1
  ltab_insert 2
  meter_stage 1
  meter_run 1
)
counts=$(objdump -d --no-show-raw-insn "$bin" |
  awk '/^[0-9a-f]+ <[^>]*>:$/ { f = $2; sub(/^</, "", f); sub(/>:$/, "", f); sub(/\..*$/, "", f); seen[f] = 1 }
       /\tprefetch/ { c[f]++ }
       END { for (k in seen) print k, c[k] + 0 }')
fail=0
for ((i = 0; i < ${#want[@]}; i += 2)); do
  fn=${want[i]} min=${want[i + 1]}
  n=$(awk -v f="$fn" '$1 == f { print $2; exit }' <<<"$counts")
  if [ -z "$n" ]; then
    echo "FAIL: no function $fn in $bin (renamed or inlined: update this list)"
    fail=1
  elif [ "$n" -lt "$min" ]; then
    echo "FAIL: $fn holds $n prefetch instructions, at least $min expected (a prefetch-only helper not PREFETCH_FN?)"
    fail=1
  else
    echo "ok: $fn $n prefetch instructions"
  fi
done
exit $fail
