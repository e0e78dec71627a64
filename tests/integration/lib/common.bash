# common.bash: the preamble of integration scripts (sourced, not a test of its own: ctest runs
# tests/integration/*.sh only). Strict mode with a line-numbered message on a failed command;
# sets tw, gen, cfg (the repository's configs/) and tmp (removed at exit); gives fail.
set -Eeuo pipefail
trap 'echo "$(basename "$0"): command failed at line $LINENO (status $?): $BASH_COMMAND" >&2' ERR
: "${TW_BIN:?}" "${TW_SRC:?}"
tw=$TW_BIN/collector/transitwatch
gen=$TW_BIN/tests/twgen
cfg=$TW_SRC/configs
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
