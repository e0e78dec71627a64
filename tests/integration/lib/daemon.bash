# daemon.bash: helpers for integration scripts that run the daemon (sourced, not a test of its
# own: ctest runs tests/integration/*.sh only). common.bash's preamble (tw, gen, cfg, tmp,
# strict mode); tmp is removed at exit with the daemon killed; sets log; gives fail (with the
# daemon log's tail), wait_for, tw_conf, tw_start, tw_stop, tw_send, scrape, tw_drop_privileges.
source "$(dirname "${BASH_SOURCE[0]}")/common.bash"
log=$tmp/log
pid=
url=
udp_port=
_tw_cleanup() { [[ -n $pid ]] && kill -9 "$pid" 2>/dev/null; rm -rf "$tmp"; }
trap _tw_cleanup EXIT
fail() { echo "FAIL: $*" >&2; [[ -s $log ]] && { echo "--- daemon log:" >&2; tail -20 "$log" >&2; }; exit 1; }
tw_conf() { # FILE MAP [NAME=LIST...]: into FILE the daemon's settings as these tests run it: UDP
  # and /metrics on free loopback ports, the customer map MAP, the blocklists NAME=LIST,
  # 1-minute windows, messages to $tmp/out.jsonl; tw_collector: more [collector] lines, each
  # ending in a newline. The caller appends its own sections.
  local out=$1 map=$2 b
  shift 2
  {
    printf '[collector]\nlisten = 127.0.0.1:0\n%s' "${tw_collector:-}"
    printf '[customers]\nfile = %s\n' "$map"
    for b in "$@"; do printf '[blocklist %s]\nfile = %s\n' "${b%%=*}" "${b#*=}"; done
    printf '[pipeline]\nwindow = 1m\n[output]\njsonl = %s\n' "$tmp/out.jsonl"
    printf '[metrics]\nlisten = 127.0.0.1:0\n'
  } >"$out"
}
tw_start() { # CONFIG [VAR=value...]: start the daemon on it; sets pid, udp_port, url
  local conf=$1; shift
  : >"$log"
  env "$@" "$tw" --config "$conf" 2>>"$log" &
  pid=$!
  wait_started "$log" "$pid" || fail "daemon did not start"
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
tw_drop_privileges() { # CONFIG FILE...: as root with a nobody user, the daemon is to run as
  # nobody: CONFIG, which must end in its [daemon] section, gets "user = nobody", CONFIG and the
  # FILEs become readable and $tmp nobody's (the daemon writes its output there); sets drop=1
  [[ $EUID -eq 0 ]] && id nobody >/dev/null 2>&1 || return 0
  echo "user = nobody" >>"$1"
  chmod 755 "$tmp"
  chmod 644 "$@"
  chown nobody "$tmp"
  drop=1
}
