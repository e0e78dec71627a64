#!/usr/bin/env bash
# Issue 13 items 1, 2, 3, 6 (notify), 14: the daemon must never sit on, lose or misreport alerts.
#  1. the JSON-lines file holds every message whole within a second; a SIGKILL loses at most
#     that second
#  2. [daemon] user (root only): the spool directory is created for the user, the output and
#     pidfile directories are checked (or the start is refused naming the path), nothing is
#     lost at shutdown, the pidfile is removed at exit, a reopen after rotation works
#  3. /healthz is 503 with the reasons: no customer map, every flow unmatched, Kafka not
#     delivering while messages wait, the spool above its high-water mark, records with clocks
#     far off, a capture that stopped; 200 "ok" otherwise; broker state metrics
#  6. sd_notify: READY=1, RELOADING=1, STOPPING=1 on $NOTIFY_SOCKET
# 14. under the journal (JOURNAL_STREAM): "<N>level: message" lines, no time stamp
source "$(dirname "$0")/lib/daemon.bash"
command -v curl >/dev/null || { echo "SKIP: curl not installed"; exit 77; }
chmod 755 "$tmp"
metric_sum() { scrape "$tmp/cur" && awk -v m="$1" '$1 == m || index($1, m "{") == 1 { s += $2 } END { print s + 0 }' "$tmp/cur"; }
health() { curl -s --max-time 5 -w '\n%{http_code}' "$url/healthz" >"$tmp/health" || true; }

$gen sample -f ipfix -m 12 -o "$tmp/s.pcap" 2>/dev/null
cp "$TW_SRC/configs/customers.csv" "$tmp/map.csv"
cp "$TW_SRC/configs/blocklists/drop.txt" "$tmp/drop.txt"
chmod 644 "$tmp/map.csv" "$tmp/drop.txt"
conf() { # DIR: a daemon whose 10 s windows close on idle; extra lines on stdin
  cat <<CONF
[collector]
listen = 127.0.0.1:0
rcvbuf = 8M
[customers]
file = ${MAP-$tmp/map.csv}
[blocklist drop]
file = $tmp/drop.txt
[pipeline]
window = 10s
lateness = 0s
idle_advance = 1s
alert_suppress = 0s
[output]
jsonl = $1/out.jsonl
[metrics]
listen = 127.0.0.1:0
CONF
  cat
}

# ---- 1. every message whole in the file within a second; SIGKILL loses at most that ----
mkdir "$tmp/k"
conf "$tmp/k" >"$tmp/k/tw.conf" </dev/null
tw_start "$tmp/k/tw.conf"
tw_send "$tmp/s.pcap"
wait_for 30 eval '[[ $(metric_sum transitwatch_summaries_total) -gt 0 ]]' || fail "no window closed"
# the counters now, then a second for the file to catch up, then SIGKILL
wait_for 10 eval '[[ $(metric_sum transitwatch_windows_closed_total) -ge 1 ]]'
sleep 1 # let the window's messages all be made (metrics lag a second)
alerts=$(metric_sum transitwatch_alerts_total)
summaries=$(metric_sum transitwatch_summaries_total)
sleep 1.2
kill -9 "$pid"
wait "$pid" 2>/dev/null || true
pid=
python3 - "$tmp/k/out.jsonl" "$alerts" "$summaries" <<'PY' || fail "JSON lines after SIGKILL"
import json, sys
data = open(sys.argv[1], "rb").read()
assert data.endswith(b"\n"), "the file ends mid-message: %r" % data[-80:]
a = s = 0
for line in data.splitlines():
    m = json.loads(line)
    if m["event"]["kind"] == "alert":
        a += 1
    elif m["event"].get("dataset") == "transitwatch.summary":
        s += 1
want_a, want_s = int(sys.argv[2]), int(sys.argv[3])
assert a >= want_a and s >= want_s, "file has %d alerts, %d summaries; metrics counted %d, %d a second before the kill" % (a, s, want_a, want_s)
print("item 1: after SIGKILL the file holds %d alerts and %d summaries, whole (metrics: %d, %d)" % (a, s, want_a, want_s))
PY

# ---- 3. /healthz degraded, with the reasons ----
# (a) no customer map at all
mkdir "$tmp/h" "$tmp/h2"
MAP= conf "$tmp/h" </dev/null | sed 's/^file = $//' >"$tmp/h/tw.conf"
tw_start "$tmp/h/tw.conf"
wait_for 5 eval 'health; grep -q "no customer map" "$tmp/health"' || fail "(a) no customer map: $(cat "$tmp/health")"
[[ $(tail -1 "$tmp/health") == 503 ]] || fail "(a) not 503"
echo "item 3a: $(head -1 "$tmp/health")"
tw_stop
# (a2) Kafka refusing connections (nothing delivered for 2 s while messages wait); a spool
#      1 % full is over its high-water mark; NetFlow v5 whose export header clock is 2 days
#      ahead of its records (the exporter's clock is off); a capture whose filter matches
#      nothing has stopped
conf "$tmp/h2" >"$tmp/h2/tw.conf" <<CONF
[kafka]
brokers = 127.0.0.1:1
spool_dir = $tmp/h2/spool
spool_max_bytes = 256K
retry_interval = 1s
flush_timeout = 1s
[capture quiet]
interface = lo
bpf = udp port 9 and host 192.0.2.99
[health]
kafka_stall = 2s
spool_high_water = 1
capture_stall = 2s
CONF
tw_start "$tmp/h2/tw.conf"
tw_send "$tmp/s.pcap" # windows close: summaries and alerts wait for Kafka
$gen sample -f v5 -m 12 -o "$tmp/v5.pcap" 2>/dev/null
python3 "$TW_SRC/tests/integration/udp_pcap.py" skew-send "$tmp/v5.pcap" "$udp_port" 172800 >/dev/null \
  || fail "skew-send"
want=("kafka: nothing delivered for" "kafka: spool [0-9]*% full" \
      "far from their exporter's clock (exporters 127.0.0.1)" "capture quiet: no packet for")
ok() { health; for w in "${want[@]}"; do grep -q "$w" "$tmp/health" || return 1; done; }
wait_for 40 ok || fail "(a2) /healthz: $(cat "$tmp/health")"
[[ $(tail -1 "$tmp/health") == 503 ]] || fail "(a2) not 503: $(cat "$tmp/health")"
[[ $(head -1 "$tmp/health") == degraded:* ]] || fail "(a2) body: $(cat "$tmp/health")"
curl -s "$url/metrics" >"$tmp/m"
for m in transitwatch_kafka_brokers_up transitwatch_kafka_last_delivery_time_seconds transitwatch_healthy; do
  grep -q "^$m " "$tmp/m" || fail "no metric $m"
done
[[ $(awk '$1 == "transitwatch_healthy" { print $2 }' "$tmp/m") == 0 ]] || fail "transitwatch_healthy not 0"
echo "item 3a2: $(head -1 "$tmp/health")"
# 14: librdkafka's connection errors, repeated every reconnect, are logged once
sleep 3
n=$(grep -c 'Connect to ipv4#127.0.0.1:1 failed' "$log" || true)
[[ $n -ge 1 && $n -le 2 ]] || fail "librdkafka connection errors logged $n times (want once per episode)"
[[ $(metric_sum transitwatch_kafka_errors_total) -ge 2 ]] || fail "librdkafka errors not counted"
echo "item 14: librdkafka errors: $(metric_sum transitwatch_kafka_errors_total) counted, $n log lines"
tw_stop
# (b) a customer map that matches none of the flows: degraded once a window closed
mkdir "$tmp/u"
echo "10.99.0.0/16,nobody-here,Nobody" >"$tmp/u/map.csv"
MAP=$tmp/u/map.csv conf "$tmp/u" >"$tmp/u/tw.conf" </dev/null
tw_start "$tmp/u/tw.conf"
wait_for 5 eval 'health; [[ $(tail -1 "$tmp/health") == 200 ]]'
[[ $(tail -1 "$tmp/health") == 200 && $(head -1 "$tmp/health") == ok ]] || fail "(b) not ok at start: $(cat "$tmp/health")"
tw_send "$tmp/s.pcap"
wait_for 30 eval 'health; grep -q "none of the [0-9]* flows of the last window matched a customer" "$tmp/health"' \
  || fail "(b) every flow unmatched: $(cat "$tmp/health")"
[[ $(tail -1 "$tmp/health") == 503 ]] || fail "(b) not 503"
echo "item 3b: $(head -1 "$tmp/health")"
tw_stop
# (c) and all well: 200 "ok" after a window of matched traffic
mkdir "$tmp/g"
conf "$tmp/g" >"$tmp/g/tw.conf" </dev/null
tw_start "$tmp/g/tw.conf"
tw_send "$tmp/s.pcap"
wait_for 30 eval '[[ $(metric_sum transitwatch_windows_closed_total) -ge 1 ]]' || fail "(c) no window"
sleep 1.5
health
[[ $(tail -1 "$tmp/health") == 200 && $(head -1 "$tmp/health") == ok ]] || fail "(c) not ok: $(cat "$tmp/health")"
echo "item 3c: ok with matched traffic"

# ---- 6. sd_notify; 14. journal format ----
kill -HUP "$pid"
sleep 0.5
tw_stop
mkdir "$tmp/n"
conf "$tmp/n" >"$tmp/n/tw.conf" </dev/null
python3 - "$tmp/n/notify" >"$tmp/n/msgs" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(30)
try:
    while True:
        m = s.recv(4096).decode()
        print(m.replace("\n", " "), flush=True)
        if "STOPPING=1" in m:
            break
except socket.timeout:
    pass
PY
lpid=$!
wait_for 5 test -S "$tmp/n/notify" || fail "notify listener"
: >"$log"
js=$(stat -c '%d:%i' "$log")
tw_start "$tmp/n/tw.conf" NOTIFY_SOCKET="$tmp/n/notify" JOURNAL_STREAM="$js"
wait_for 10 grep -q 'READY=1' "$tmp/n/msgs" || fail "no READY=1: $(cat "$tmp/n/msgs")"
kill -HUP "$pid"
wait_for 10 grep -q 'RELOADING=1' "$tmp/n/msgs" || fail "no RELOADING=1"
tw_stop
wait "$lpid" || true
grep -q 'MONOTONIC_USEC=' "$tmp/n/msgs" || fail "RELOADING without MONOTONIC_USEC"
tr '\n' ' ' <"$tmp/n/msgs" | grep -q 'READY=1.*RELOADING=1.*READY=1.*STOPPING=1' \
  || fail "notify order: $(cat "$tmp/n/msgs")"
echo "item 6: sd_notify $(tr '\n' '|' <"$tmp/n/msgs")"
grep -q '^<6>info: transitwatch .* started$' "$log" || fail "journal format: $(head -3 "$log")"
grep -q '^20[0-9][0-9]-' "$log" && fail "time stamps under the journal"
echo "item 14: journal lines: $(grep -m1 started "$log")"

# ---- 2. [daemon] user: every path written after the drop ----
if [[ $EUID -ne 0 ]] || ! id nobody >/dev/null 2>&1; then
  echo "noc_daemon: all checks passed (privilege drop part skipped: needs root and user nobody)"
  exit 0
fi
mkdir -p "$tmp/p/logs" "$tmp/p/run"
chown nobody "$tmp/p/logs" "$tmp/p/run"
cat >"$tmp/p/tw.conf" <<CONF
[collector]
listen = 127.0.0.1:0
[customers]
file = $tmp/map.csv
[pipeline]
window = 10s
lateness = 0s
idle_advance = 1s
[metrics]
listen = 127.0.0.1:0
[kafka]
brokers = 127.0.0.1:1
spool_dir = $tmp/p/state/spool
retry_interval = 1s
flush_timeout = 1s
[daemon]
user = nobody
pidfile = $tmp/p/run/tw.pid
incidents_file = $tmp/p/state/incidents
[output]
jsonl = $tmp/p/logs/out.jsonl
CONF
chmod 644 "$tmp/p/tw.conf"
tw_start "$tmp/p/tw.conf"
[[ $(stat -c %U "$tmp/p/state/spool") == nobody ]] || fail "spool dir not created for nobody"
[[ $(cat "$tmp/p/run/tw.pid") == "$pid" ]] || fail "pidfile does not hold the daemon's pid"
# a second instance on the same pidfile (and spool) is refused at once, the first one's pidfile
# left as it is
rc=0
timeout 20 "$tw" --config "$tmp/p/tw.conf" 2>"$tmp/p/second.log" || rc=$?
[[ $rc -eq 1 ]] || fail "second instance: exit $rc, want 1: $(cat "$tmp/p/second.log")"
grep -q "daemon.pidfile $tmp/p/run/tw.pid: held by another transitwatch (pid $pid)" \
  "$tmp/p/second.log" || fail "second instance: refusal does not name the pidfile and pid: $(cat "$tmp/p/second.log")"
grep -q "listening on" "$tmp/p/second.log" && fail "second instance opened its sockets"
[[ $(cat "$tmp/p/run/tw.pid" 2>/dev/null) == "$pid" ]] || fail "second instance: the first one's pidfile is gone or changed"
kill -0 "$pid" || fail "first instance died"
echo "item 2: a second instance on the same pidfile refused ($(head -1 "$tmp/p/second.log")), the pidfile kept"
tw_send "$tmp/s.pcap"
wait_for 30 eval '[[ $(metric_sum transitwatch_summaries_total) -gt 0 ]]' || fail "no window"
# log rotation: rename, SIGHUP, the file is made anew by nobody
mv "$tmp/p/logs/out.jsonl" "$tmp/p/logs/out.jsonl.1"
kill -HUP "$pid"
wait_for 10 test -e "$tmp/p/logs/out.jsonl" || fail "no reopen after rotation"
[[ $(stat -c %U "$tmp/p/logs/out.jsonl") == nobody ]] || fail "reopened file not nobody's"
tw_send "$tmp/s.pcap"
tw_stop
grep -Eq 'write failed|message\(s\) lost|Permission denied' "$log" && fail "losses at shutdown"
[[ -e $tmp/p/run/tw.pid ]] && fail "pidfile not removed at exit"
ls "$tmp/p/state/spool"/*.tws >/dev/null 2>&1 || fail "nothing spooled"
[[ $(find "$tmp/p/state/spool" ! -user nobody | wc -l) -eq 0 ]] || fail "spool files not nobody's"
echo "item 2: spool created for nobody, nothing lost at shutdown, pidfile removed, reopen as nobody"
# incidents across a restart: the file written as nobody at stop; the next start reads it back,
# and the same traffic again (the same event times) goes on with the same incidents: every
# alert folded into its incident (suppressed within alert_suppress), no new incident, no message
[[ $(stat -c %U "$tmp/p/state/incidents") == nobody ]] || fail "incidents file not nobody's"
incidents=$(cat "$tmp/p/logs"/out.jsonl* | python3 -c '
import json, sys
print(len({m["event"]["id"] for m in map(json.loads, sys.stdin) if m["event"]["kind"] == "alert"}))')
[[ $incidents -gt 0 ]] || fail "no alert in the first run"
rm -f "$tmp/p/logs"/out.jsonl*
tw_start "$tmp/p/tw.conf"
grep -q "incidents file $tmp/p/state/incidents: $incidents incidents restored" "$log" ||
  fail "restart: not '$incidents incidents restored'"
[[ $(metric_sum transitwatch_incidents_restored) -eq $incidents ]] || fail "restored gauge"
tw_send "$tmp/s.pcap"
wait_for 30 eval '[[ $(metric_sum transitwatch_summaries_total) -gt 0 ]]' || fail "no window"
tw_stop
[[ $(grep -c '"kind":"alert"' "$tmp/p/logs/out.jsonl") -eq 0 ]] ||
  fail "restart: incidents published anew: $(grep -m2 '"kind":"alert"' "$tmp/p/logs/out.jsonl")"
grep -q '"kind":"metric"' "$tmp/p/logs/out.jsonl" || grep -q summary "$tmp/p/logs/out.jsonl" ||
  fail "restart: no summary either"
echo "item 2: $incidents incidents kept across a restart: the same traffic again published none anew"
# refusals: each names the path
refused() { # REGEX: the daemon exits non-zero and says so, and --check-config already did
  local rc=0
  "$tw" --config "$tmp/p/tw2.conf" --check-config >/dev/null 2>"$log" && fail "--check-config passed: $1"
  grep -q "$1" "$log" || fail "--check-config does not say '$1': $(cat "$log")"
  : >"$log"
  timeout 20 "$tw" --config "$tmp/p/tw2.conf" 2>"$log" || rc=$?
  [[ $rc -ne 0 && $rc -ne 124 ]] || fail "started anyway (rc $rc)"
  grep -q "$1" "$log" || fail "refusal does not say '$1'"
}
mkdir -m 700 "$tmp/p/rootspool"
sed "s|^spool_dir = .*|spool_dir = $tmp/p/rootspool|" "$tmp/p/tw.conf" >"$tmp/p/tw2.conf"
refused "kafka.spool_dir $tmp/p/rootspool: not writable by user nobody"
mkdir -m 755 "$tmp/p/rootlogs"
sed "s|^jsonl = .*|jsonl = $tmp/p/rootlogs/out.jsonl|" "$tmp/p/tw.conf" >"$tmp/p/tw2.conf"
refused "output.jsonl: directory $tmp/p/rootlogs: not writable.*by user nobody"
sed "s|^pidfile = .*|pidfile = $tmp/p/rootlogs/tw.pid|" "$tmp/p/tw.conf" >"$tmp/p/tw2.conf"
refused "daemon.pidfile: directory $tmp/p/rootlogs: not writable.*by user nobody"
sed "s|^incidents_file = .*|incidents_file = $tmp/p/rootlogs/incidents|" "$tmp/p/tw.conf" >"$tmp/p/tw2.conf"
refused "daemon.incidents_file: directory $tmp/p/rootlogs: not writable.*by user nobody"
# a directory still to be made under one the user cannot search: --check-config and the start
# both refuse it, and the start leaves nothing behind
mkdir -m 700 "$tmp/p/priv"
sed "s|^spool_dir = .*|spool_dir = $tmp/p/priv/spool|" "$tmp/p/tw.conf" >"$tmp/p/tw2.conf"
refused "kafka.spool_dir $tmp/p/priv/spool: not reachable once made ($tmp/p/priv or .*) by user nobody"
[[ -e $tmp/p/priv/spool ]] && fail "refused start left $tmp/p/priv/spool behind"
{ cat "$tmp/p/tw.conf"; printf '[report]\ndirectory = %s\n' "$tmp/p/priv/rep/pages"; } >"$tmp/p/tw2.conf"
refused "report.directory $tmp/p/priv/rep/pages: not reachable once made ($tmp/p/priv or .*) by user nobody"
[[ -e $tmp/p/priv/rep ]] && fail "refused start left $tmp/p/priv/rep behind"
echo "item 2: refused naming the spool, output, pidfile and incidents file paths, and spool and report directories the user could not reach"
# the files a SIGHUP reads again, as nobody by then: each must be readable by it
install -m 600 "$tmp/map.csv" "$tmp/p/map600.csv"
install -m 600 "$tmp/drop.txt" "$tmp/p/drop600.txt"
sed "s|^file = .*|file = $tmp/p/map600.csv|" "$tmp/p/tw.conf" >"$tmp/p/tw2.conf"
refused "customers.file $tmp/p/map600.csv: not readable (a SIGHUP reads it again as that user) by user nobody"
{ cat "$tmp/p/tw.conf"; printf '[blocklist drop]\nfile = %s\n' "$tmp/p/drop600.txt"; } >"$tmp/p/tw2.conf"
refused "\[blocklist drop\] file $tmp/p/drop600.txt: not readable .*by user nobody"
cp "$tmp/p/tw.conf" "$tmp/p/tw2.conf"
chmod 600 "$tmp/p/tw2.conf"
refused "config file $tmp/p/tw2.conf: not readable .*by user nobody"
echo "item 2: refused naming a customer map, a blocklist file and a config file nobody could not read again"
echo "noc_daemon: all checks passed"
