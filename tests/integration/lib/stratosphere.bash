# stratosphere.bash: the set-up of the integration scripts that replay Stratosphere's real
# captures ($TW_SHARED/testdata/pcap/stratosphere-slips, see the README there): skips (exit 77)
# when they are absent; sets caps (their directory), tw (the binary), tmp (removed at exit);
# gives fail. Sourced (ctest runs tests/integration/*.sh only).
: "${TW_BIN:?}" "${TW_SRC:?}"
caps=${TW_SHARED:-}/testdata/pcap/stratosphere-slips
if [[ -z ${TW_SHARED:-} || ! -d $caps ]]; then
  echo "SKIP: Stratosphere captures not found (TW_SHARED=${TW_SHARED:-unset})"
  exit 77
fi
tw=$TW_BIN/collector/transitwatch
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
