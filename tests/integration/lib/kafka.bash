# kafka.bash: librdkafka's mock cluster on loopback (bench/twkafka serve) for integration
# scripts. Sourced (ctest runs tests/integration/*.sh only). Uses the script's tmp, fail,
# wait_for and pids (the script's cleanup kills them: the cluster is added there).
#
#   kafka_serve [twkafka serve options: --brokers N, --max-time S, --topic NAME:PARTS...]
#       starts the cluster, waits (10 s at most) for its bootstrap string; sets boot
#   ctl COMMAND   a control command (down [ID], up [ID], rtt MS [ID], err N [ERROR]), waits
#       (5 s at most) for the cluster's "ok"

kafka_serve() {
  mkfifo "$tmp/ctl"
  "$TW_BIN/bench/twkafka" serve --port-file "$tmp/boot" --control "$tmp/ctl" "$@" \
    >"$tmp/serve.log" 2>&1 &
  pids+=($!)
  wait_for 10 test -s "$tmp/boot" || { log=$tmp/serve.log; fail "mock cluster did not start"; }
  boot=$(cat "$tmp/boot")
}

ctl() {
  local n
  n=$(grep -c ': ok$' "$tmp/serve.log" || true)
  echo "$*" >"$tmp/ctl"
  wait_for 5 eval '[[ $(grep -c ": ok$" "$tmp/serve.log") -gt '"$n"' ]]' || fail "twkafka: $* not done"
}
