#!/usr/bin/env bash
# The detector evaluation at CI size (6 simulated hours, 5400 hosts in 5 customers; about 10 s):
# fails when any detector's recall is below 0.95, more than 1 benign host per 10 000 host-days
# is flagged, or NetFlow v5, v9 and IPFIX exports of the same traffic give different alerts.
set -euo pipefail
: "${TW_BIN:?}" "${TW_SRC:?}"
command -v python3 >/dev/null || { echo "python3 not found: skipping"; exit 77; }
for b in tests/twgen collector/transitwatch; do
  [ -x "$TW_BIN/$b" ] || { echo "$TW_BIN/$b not built"; exit 1; }
done
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
bash "$TW_SRC/bench/eval/run.sh" "$TW_BIN" "$out" -m 360 -s 2008 -x 1.0
