#!/usr/bin/env bash
# Real export captures ($TW_SHARED/testdata/netflow) decoded by transitwatch vs tshark,
# nfcapd + nfdump and pmacct's expected output: same records, bytes and packets, or the exact
# known difference realdata.py documents. Loopback only (nfcapd on 127.0.0.1, a free port).
set -u
: "${TW_BIN:?TW_BIN (build dir) not set}" "${TW_SRC:?TW_SRC not set}"
if [[ -z ${TW_SHARED:-} || ! -d $TW_SHARED/testdata/netflow ]]; then
  echo "SKIP: shared test data not found (TW_SHARED=${TW_SHARED:-unset})"
  exit 77
fi
for t in tshark mergecap nfcapd nfdump python3; do
  if ! command -v "$t" >/dev/null; then
    echo "FAIL: $t not installed (scripts/deps.sh test installs it)"
    exit 1
  fi
done
work=$(mktemp -d /tmp/tw-realdata.XXXXXX)
trap 'rm -rf "$work"' EXIT
timeout 540 python3 "$TW_SRC/tests/integration/realdata.py" \
  --tw "$TW_BIN/collector/transitwatch" --twgen "$TW_BIN/tests/twgen" \
  --shared "$TW_SHARED" --work "$work"
