# common.bash: the preamble of integration scripts (sourced, not a test of its own: ctest runs
# tests/integration/*.sh only). Strict mode with a line-numbered message on a failed command;
# sets tw, gen, cfg (the repository's configs/) and tmp; at exit every pid in the array pids is
# killed and tmp removed (kept and named with TW_KEEP=1); gives fail and wait_for.
set -Eeuo pipefail
trap 'echo "$(basename "$0"): command failed at line $LINENO (status $?): $BASH_COMMAND" >&2' ERR
: "${TW_BIN:?}" "${TW_SRC:?}"
tw=$TW_BIN/collector/transitwatch
gen=$TW_BIN/tests/twgen
cfg=$TW_SRC/configs
tmp=$(mktemp -d)
pids=()
_common_cleanup() {
  local p
  for p in "${pids[@]}"; do { kill -9 "$p" 2>/dev/null && wait "$p" 2>/dev/null; } || true; done
  if [[ -n ${TW_KEEP:-} ]]; then echo "kept $tmp"; else rm -rf "$tmp"; fi
}
trap _common_cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
wait_for() { # timeout-seconds command...: true once the command is, false after the timeout
  local t=$1 i
  shift
  for ((i = 0; i < t * 10; i++)); do "$@" && return 0; sleep 0.1; done
  return 1
}
wait_started() { # LOG PID: the daemon writing LOG opened its sockets ("metrics on", 15 s), then
  # reserved its tables and started its loop (" started", 30 s: slow under a loaded machine), or
  # exited (which the caller's next check reports); false when neither happened in time
  wait_for 15 grep -q 'metrics on' "$1" && wait_for 30 _started_or_gone "$1" "$2"
}
_started_or_gone() { grep -q ' started$' "$1" || ! kill -0 "$2" 2>/dev/null; }
