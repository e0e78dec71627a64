# daemon.bash: helpers for integration scripts that run the daemon (sourced, not a test of its
# own: ctest runs tests/integration/*.sh only). Sets tw, gen, tmp (removed at exit, with the
# daemon killed), log; gives fail, wait_for, tw_start, tw_stop, tw_send, scrape.
: "${TW_BIN:?}" "${TW_SRC:?}"
tw=$TW_BIN/collector/transitwatch
gen=$TW_BIN/tests/twgen
tmp=$(mktemp -d)
log=$tmp/log
pid=
url=
udp_port=
_tw_cleanup() { [[ -n $pid ]] && kill -9 "$pid" 2>/dev/null; rm -rf "$tmp"; }
trap _tw_cleanup EXIT
fail() { echo "FAIL: $*" >&2; [[ -s $log ]] && { echo "--- daemon log:" >&2; tail -20 "$log" >&2; }; exit 1; }
wait_for() { # timeout-seconds command...: true once the command is, false after the timeout
  local t=$1; shift
  for ((i = 0; i < t * 10; i++)); do "$@" && return 0; sleep 0.1; done
  return 1
}
tw_start() { # CONFIG [VAR=value...]: start the daemon on it; sets pid, udp_port, url
  local conf=$1; shift
  : >"$log"
  env "$@" "$tw" --config "$conf" 2>>"$log" &
  pid=$!
  wait_for 15 grep -q 'metrics on' "$log" || fail "daemon did not start"
  udp_port=$(sed -n 's/.*listening on UDP port \([0-9]*\).*/\1/p' "$log" | head -1)
  url=http://127.0.0.1:$(sed -n 's/.*metrics on .*(port \([0-9]*\)).*/\1/p' "$log" | head -1)
}
tw_stop() { # SIGTERM, and it must exit 0 within 30 s
  kill -TERM "$pid"
  wait_for 30 eval '! kill -0 '"$pid"' 2>/dev/null' || fail "no stop on SIGTERM"
  wait "$pid" || fail "exit status $?"
  pid=
}
tw_send() { # CAPTURE: its export datagrams to the daemon
  $gen send "$1" "127.0.0.1:$udp_port" >"$tmp/send.out" 2>&1 || fail "twgen send: $(cat "$tmp/send.out")"
}
scrape() { # FILE: /metrics into FILE (no "curl | grep -q": SIGPIPE under pipefail)
  curl -s --max-time 5 "$url/metrics" >"$1"
}
