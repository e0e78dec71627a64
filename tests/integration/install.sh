#!/usr/bin/env bash
# cmake --install puts the binary, the example config, lists, schemas, the systemd unit and the
# README in the usual places, and the installed binary accepts the installed config.
set -euo pipefail
: "${TW_BIN:?}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
DESTDIR=$tmp cmake --install "$TW_BIN" >/dev/null
prefix=$(sed -n 's/^CMAKE_INSTALL_PREFIX:PATH=//p' "$TW_BIN/CMakeCache.txt")
root=$tmp$prefix
for f in bin/transitwatch etc/transitwatch/transitwatch.conf etc/transitwatch/customers.csv \
         etc/transitwatch/blocklists/drop.txt share/transitwatch/alert.schema.json \
         share/transitwatch/summary.schema.json lib/systemd/system/transitwatch.service \
         share/doc/transitwatch/README.md; do
  [[ -e $root/$f ]] || { echo "FAIL: $f not installed under $prefix"; exit 1; }
done
grep -q "^ExecStart=$prefix/bin/transitwatch --config $prefix/etc/transitwatch/transitwatch.conf$" \
  "$root/lib/systemd/system/transitwatch.service" || { echo "FAIL: unit paths"; exit 1; }
grep -q '^ExecReload=/bin/kill -HUP \$MAINPID' "$root/lib/systemd/system/transitwatch.service" \
  || { echo "FAIL: unit reload"; exit 1; }
"$root/bin/transitwatch" --config "$root/etc/transitwatch/transitwatch.conf" --check-config
echo "install: all checks passed"
