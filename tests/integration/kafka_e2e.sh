#!/usr/bin/env bash
# Kafka end to end with the real transitwatch binary against librdkafka's mock cluster on
# loopback (bench/twkafka serve), read back by a real consumer (twkafka consume); every message
# read is validated against configs/*.schema.json and compared with the JSON-lines output of
# the same run (tests/integration/validate.py compare).
#  (a) replay --kafka: every alert and summary arrives once, byte-identical to the JSON lines,
#      on its topic with key = customer id, in order per key; the spool dir (nested, missing)
#      is created.
#  (a2) "broker down during a replay", with the REPLAY: the broker is down for the whole
#      replay, so it ends at flush_timeout with everything spooled (exit 1, a log line); a
#      second replay (of an empty capture) on the same spool dir, with the broker up and
#      injected Produce errors, delivers all of it to custom topic names.
#  (b) with the DAEMON: a window delivered normally; the broker goes down, NetFlow keeps
#      coming (none dropped: the collector does not block), the next window's alerts fail and
#      are spooled; injected Produce errors, broker up: every alert id delivered, none missing.
#  (c) the daemon is SIGKILLed with a window's messages in flight (stored by the broker, acks
#      held back), restarted on the same spool: every message produced arrives at least once,
#      the duplicates carry the same event.id and bytes.
#  (d) spool_max_bytes at its minimum (256 KiB) and the broker down: a window of ~1000
#      per-host summaries overflows it; the loss is counted (transitwatch_kafka_spool_lost_total)
#      and logged, /healthz says 503 with the loss as the reason; after recovery exactly the counted messages are missing
#      and the next window is delivered in full.
source "$(dirname "$0")/lib/common.bash"
command -v curl >/dev/null || { echo "SKIP: curl not installed"; exit 77; }
python3 -c 'import jsonschema' 2>/dev/null || { echo "SKIP: python3-jsonschema not installed"; exit 77; }
tk=$TW_BIN/bench/twkafka
[[ -x $tk ]] || { echo "FAIL: $tk not built" >&2; exit 1; }
val="python3 $TW_SRC/tests/integration/validate.py"
log=
fail() {
  echo "FAIL: $*" >&2
  [[ -n $log && -f $log ]] && { echo "--- $log:" >&2; tail -25 "$log" >&2; }
  exit 1
}
t_start=$SECONDS
step() { echo "kafka_e2e: [$((SECONDS - t_start))s] $*"; }

# ---- the cluster ----
source "$TW_SRC/tests/integration/lib/kafka.bash"
kafka_serve --max-time 300 --topic transitwatch.alerts:4 --topic transitwatch.summaries:2 \
  --topic lab.alerts:3 --topic lab.summaries:1 --topic b.alerts:4 --topic b.summaries:2 \
  --topic c.alerts:4 --topic c.summaries:2 --topic d.alerts:4 --topic d.summaries:2
consume() { # out-file count topic...
  local out=$1 n=$2; shift 2
  local args=()
  for t in "$@"; do args+=(--topic "$t"); done
  "$tk" consume --bootstrap "$boot" "${args[@]}" --count "$n" --timeout 30 --out "$out" \
    || fail "consume: fewer than $n messages on $* ($(wc -l <"$out") read)"
}
kafka_lines() { grep -c -e '"kind":"alert"' -e '"dataset":"transitwatch.summary"' "$1" || true; }

$gen sample -f ipfix -m 12 -o "$tmp/s.pcap" 2>/dev/null
lists=(-C "$cfg/customers.csv" -b "drop=$cfg/blocklists/drop.txt" -b "feodo=$cfg/blocklists/feodo.csv")
# Short timeouts so failures show within the test's time.
props='message.timeout.ms=3000; retry.backoff.ms=50; reconnect.backoff.max.ms=200; log_level=3'
cat >"$tmp/replay.conf" <<CONF
[kafka]
properties = $props
retry_interval = 1s
flush_timeout = 3s
spool_fsync = never
CONF

# ---- (a) replay, normal delivery ----
step "(a) replay --kafka, normal delivery"
log=$tmp/a.log
$tw replay "${lists[@]}" --kafka "$boot" --spool-dir "$tmp/a/not/yet/spool" -o "$tmp/a.jsonl" \
  "$tmp/s.pcap" 2>"$log" || fail "(a) replay exit status"
[[ -d $tmp/a/not/yet/spool ]] || fail "(a) spool dir not created"
compgen -G "$tmp/a/not/yet/spool/*.tws" >/dev/null && fail "(a) spool segments left after delivery"
n=$(kafka_lines "$tmp/a.jsonl")
[[ $n -gt 5 ]] || fail "(a) only $n alerts+summaries"
consume "$tmp/a.kafka" "$n" transitwatch.alerts transitwatch.summaries
$val compare --exact --jsonl "$tmp/a.jsonl" --kafka "$tmp/a.kafka" || fail "(a) Kafka != JSON lines"

# ---- (a2) replay with the broker down, delivered by a second run on the same spool ----
step "(a2) replay with the broker down; second run delivers"
log=$tmp/a2.log
ctl down
rc=0
$tw replay -c "$tmp/replay.conf" "${lists[@]}" --kafka "$boot" --topic-alerts lab.alerts \
  --topic-summaries lab.summaries --spool-dir "$tmp/a2spool" -o "$tmp/a2.jsonl" "$tmp/s.pcap" \
  2>"$log" || rc=$?
[[ $rc -eq 1 ]] || fail "(a2) replay with the broker down: exit $rc, wanted 1"
grep -q 'stay in the spool' "$log" || fail "(a2) no log line about the spooled rest"
compgen -G "$tmp/a2spool/*.tws" >/dev/null || fail "(a2) nothing spooled"
ctl up
ctl err 8
printf '\xd4\xc3\xb2\xa1\x02\x00\x04\x00\x00\x00\x00\x00\x00\x00\x00\x00\xff\xff\x00\x00\x01\x00\x00\x00' >"$tmp/empty.pcap"
log=$tmp/a2b.log
$tw replay -c "$tmp/replay.conf" --kafka "$boot" --kafka-timeout 40s --topic-alerts lab.alerts \
  --topic-summaries lab.summaries --spool-dir "$tmp/a2spool" -o "$tmp/a2b.jsonl" "$tmp/empty.pcap" \
  2>"$log" || fail "(a2) second replay did not deliver the spool"
grep -q 'undelivered message(s) recovered' "$log" || fail "(a2) no recovery logged"
n=$(kafka_lines "$tmp/a2.jsonl")
consume "$tmp/a2.kafka" "$n" lab.alerts lab.summaries
$val compare --topic-alerts lab.alerts --topic-summaries lab.summaries --jsonl "$tmp/a2.jsonl" \
  --kafka "$tmp/a2.kafka" || fail "(a2) not all delivered"

# ---- the daemon ----
pid=
daemon_conf() { # dir topic-prefix customers-file spool_max_bytes [librdkafka properties]
  cat >"$1/tw.conf" <<CONF
[collector]
listen = 127.0.0.1:0
rcvbuf = 8M
[customers]
file = $3
[blocklist drop]
file = $cfg/blocklists/drop.txt
[blocklist feodo]
file = $cfg/blocklists/feodo.csv
[pipeline]
# short windows that close on idle: alerts come while the daemon runs
window = 10s
lateness = 0s
idle_advance = 1s
alert_suppress = 0s
[output]
jsonl = $1/out.jsonl
[metrics]
listen = 127.0.0.1:0
[kafka]
brokers = $boot
topic_alerts = $2.alerts
topic_summaries = $2.summaries
spool_dir = $1/spool
spool_max_bytes = $4
spool_fsync = never
properties = ${5:-$props}
retry_interval = 1s
flush_timeout = 5s
CONF
}
start_daemon() { # dir
  log=$1/log.$((${#pids[@]}))
  : >"$log"
  $tw --config "$1/tw.conf" 2>"$log" &
  pid=$!
  pids+=($pid)
  wait_started "$log" "$pid" || fail "daemon did not start"
  udp_port=$(sed -n 's/.*listening on UDP port \([0-9]*\).*/\1/p' "$log" | head -1)
  http_port=$(sed -n 's/.*metrics on .*(port \([0-9]*\)).*/\1/p' "$log" | head -1)
  url=http://127.0.0.1:$http_port
  wait_for 10 curl -sf --max-time 2 "$url/healthz" >/dev/null || fail "/healthz not ok"
}
stop_daemon() {
  kill -TERM "$pid"
  wait_for 20 eval '! kill -0 '"$pid"' 2>/dev/null' || fail "daemon did not stop"
  local rc=0
  wait "$pid" || rc=$?
  [[ $rc -eq 0 ]] || fail "daemon exit status $rc"
  pid=
}
metric() { curl -s --max-time 5 "$url/metrics" | awk -v m="$1" '$1 == m { print $2 }'; }
m_ge() { local v; v=$(metric "$1"); [[ -n $v && $v -ge $2 ]]; }
m_eq() { [[ $(metric "$1") == "$2" ]]; }
send() { $gen send "$1" "127.0.0.1:$udp_port" >"$tmp/send.out" 2>&1 || fail "twgen send"; }
dgrams_in() { sed -n 's/.*datagrams=\([0-9]*\).*/\1/p' "$tmp/send.out"; }

# ---- (b) daemon: broker down and injected errors while NetFlow comes in ----
step "(b) daemon: a normal window, then broker down + injected errors, then up"
d=$tmp/b; mkdir -p "$d"
daemon_conf "$d" b "$cfg/customers.csv" 1G
start_daemon "$d"
send "$tmp/s.pcap"
sent=$(dgrams_in)
wait_for 30 m_ge transitwatch_kafka_delivered_total 1 || fail "(b) first window not delivered"
wait_for 10 m_eq transitwatch_kafka_backlog_messages 0 || fail "(b) first window backlog"
ctl down
send "$tmp/s.pcap"
sent=$((sent + $(dgrams_in)))
wait_for 10 m_eq transitwatch_udp_datagrams_total "$sent" || fail "(b) datagrams lost while the broker is down"
wait_for 30 m_ge transitwatch_kafka_backlog_messages 1 || fail "(b) second window not spooled"
wait_for 30 m_ge transitwatch_kafka_delivery_failures_total 1 || fail "(b) no failed delivery seen"
grep -q 'delivery failed' "$log" || fail "(b) failure not logged"
curl -sf --max-time 2 "$url/healthz" >/dev/null || fail "(b) /healthz while the broker is down"
ctl err 12
ctl up
wait_for 40 m_eq transitwatch_kafka_backlog_messages 0 || fail "(b) backlog not delivered after recovery"
m_ge transitwatch_kafka_resent_total 1 || fail "(b) nothing re-sent"
stop_daemon
n=$(kafka_lines "$d/out.jsonl")
consume "$tmp/b.kafka" "$n" b.alerts b.summaries
$val compare --topic-alerts b.alerts --topic-summaries b.summaries --jsonl "$d/out.jsonl" \
  --kafka "$tmp/b.kafka" || fail "(b) not every alert delivered"

# ---- (c) daemon SIGKILLed with messages in flight, restarted on the same spool ----
# In flight: the broker stores each Produce request at once but holds its response for 8 s
# (twkafka "rtt"), so the window's messages are in Kafka and unacknowledged when the SIGKILL
# comes. The restart re-sends them from the spool: every one arrives, some twice, and every
# copy of an event.id carries the same bytes.
step "(c) daemon SIGKILLed with messages in flight, restarted"
d=$tmp/c; mkdir -p "$d"
daemon_conf "$d" c "$cfg/customers.csv" 1G "message.timeout.ms=60000; $props"
start_daemon "$d"
sleep 1 # the producer's first metadata and producer id, before responses are slowed down
ctl rtt 8000
send "$tmp/s.pcap"
wait_for 30 m_ge transitwatch_kafka_inflight_messages 1 || fail "(c) nothing in flight"
# the records keep their own (2008) times: windows close through the data as it comes, the last
# one on the idle advance, at most a window (10 s) plus idle_advance (1 s) after the send; with
# responses slower than the request timeout nothing is acknowledged meanwhile
sleep 12
# SIGHUP makes the JSON-lines sink write out what it buffers: the reference for "produced"
kill -HUP "$pid"
wait_for 5 m_eq transitwatch_reloads_total 1 || fail "(c) reload"
n=$(kafka_lines "$d/out.jsonl")
wait_for 3 m_eq transitwatch_kafka_backlog_messages "$n" || fail "(c) backlog $(metric transitwatch_kafka_backlog_messages) != $n produced"
acked=$(metric transitwatch_kafka_delivered_total)
kill -KILL "$pid"
wait "$pid" 2>/dev/null || true
pid=
compgen -G "$d/spool/*.tws" >/dev/null || fail "(c) spool empty after SIGKILL"
ctl rtt 0
start_daemon "$d"
grep -q "undelivered message(s) recovered" "$log" || fail "(c) recovery not logged"
wait_for 40 m_eq transitwatch_kafka_backlog_messages 0 || fail "(c) recovered backlog not delivered"
m_ge transitwatch_kafka_resent_total 1 || fail "(c) nothing re-sent"
stop_daemon
# the first copies were stored before the kill: unless the acks came in time, expect twice
dups=0
[[ $acked -eq 0 ]] && dups=1
consume "$tmp/c.kafka" "$n" c.alerts c.summaries
$val compare --topic-alerts c.alerts --topic-summaries c.summaries --jsonl "$d/out.jsonl" \
  --kafka "$tmp/c.kafka" --min-duplicates $dups || fail "(c) not every produced message delivered"

# ---- (d) spool bound reached ----
step "(d) spool bound reached while the broker is down"
d=$tmp/d; mkdir -p "$d"
# every host its own customer: one summary per active host and window
python3 - "$cfg/customers.csv" "$d/many.csv" <<'PY'
import ipaddress, sys
out = open(sys.argv[2], "w")
out.write(open(sys.argv[1]).read())
for net in ("192.0.2.0/25", "198.51.100.0/24", "203.0.113.0/25", "100.64.0.0/22"):
    for a in ipaddress.ip_network(net):
        out.write("%s,h-%s,Host %s\n" % (a, str(a).replace(".", "-"), a))
PY
$gen sample -f ipfix -m 12 -n 300 -o "$tmp/big.pcap" 2>/dev/null
daemon_conf "$d" d "$d/many.csv" 256K
ctl down
start_daemon "$d"
send "$tmp/big.pcap"
wait_for 30 m_ge transitwatch_kafka_spool_lost_total 1 || fail "(d) spool bound not reached"
grep -q 'size bound .* reached' "$log" || fail "(d) no log line for the spool bound"
# messages lost: /healthz says so (503, the reason in the body)
curl -s --max-time 5 -o "$d/healthz" -w '%{http_code}' "$url/healthz" >"$d/code" || true
[[ $(cat "$d/code") == 503 ]] && grep -q 'messages lost' "$d/healthz" \
  || fail "(d) /healthz with lost messages: $(cat "$d/code") $(cat "$d/healthz")"
sb=$(metric transitwatch_kafka_spool_bytes)
[[ $sb -le 262144 ]] || fail "(d) spool bytes $sb over the bound"
sleep 1.5 # the rest of the window
ctl up
wait_for 40 m_eq transitwatch_kafka_backlog_messages 0 || fail "(d) backlog not delivered after recovery"
# the process keeps working: the next window is delivered in full
before=$(metric transitwatch_kafka_delivered_total)
send "$tmp/s.pcap"
wait_for 30 m_ge transitwatch_kafka_delivered_total $((before + 1)) || fail "(d) later window not delivered"
wait_for 10 m_eq transitwatch_kafka_backlog_messages 0 || fail "(d) later window backlog"
lost=$(metric transitwatch_kafka_spool_lost_total)
stop_daemon
n=$(kafka_lines "$d/out.jsonl")
consume "$tmp/d.kafka" $((n - lost)) d.alerts d.summaries
$val compare --topic-alerts d.alerts --topic-summaries d.summaries --jsonl "$d/out.jsonl" \
  --kafka "$tmp/d.kafka" --expect-missing "$lost" --last-window-complete \
  || fail "(d) losses not exactly the counted ones"
step "(d) $lost of $n messages counted as lost"

ctl quit
wait_for 10 eval '! kill -0 '"${pids[0]}"' 2>/dev/null' || fail "twkafka serve did not quit"
step "all checks passed"
