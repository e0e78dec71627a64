#!/usr/bin/env bash
# The daemon as a NOC runs it: NetFlow over loopback, /metrics and /healthz scraped with curl
# while counters move, SIGHUP with a changed customer map (used at once, no datagram lost),
# SIGHUP with a broken map (rejected with file and line, old map stays), SIGHUP with settings
# only a restart applies (each named, counted, not applied), SIGTERM (window
# closed, alerts and totals written, exit 0).
source "$(dirname "$0")/lib/daemon.bash"
command -v curl >/dev/null || { echo "SKIP: curl not installed"; exit 77; }

$gen sample -f ipfix -m 12 -o "$tmp/s.pcap" 2>/dev/null
# what one pass of the capture holds, from the replay of the same file
$tw replay --no-summaries "$tmp/s.pcap" | tail -1 >"$tmp/replay-totals.json"
recs=$(python3 -c 'import json,sys; t=json.load(open(sys.argv[1]))["transitwatch"]["totals"]; print(t["records"])' "$tmp/replay-totals.json")
dgrams=$(python3 -c 'import json,sys; t=json.load(open(sys.argv[1]))["transitwatch"]["totals"]; print(t["datagrams"])' "$tmp/replay-totals.json")
[[ $recs -gt 1000 ]] || fail "sample too small: $recs records"

cp "$TW_SRC/configs/customers.csv" "$tmp/map.csv"
# the lists live in the test's own dir: after the privilege drop the reload reads them as nobody
cp "$TW_SRC/configs/blocklists/drop.txt" "$TW_SRC/configs/blocklists/feodo.txt" "$tmp/"
tw_collector="rcvbuf = 8M
rx_threads = ${TW_RX_THREADS:-1}
workers = ${TW_WORKERS:-1}
"
tw_conf "$tmp/tw.conf" "$tmp/map.csv" "drop=$tmp/drop.txt" "feodo=$tmp/feodo.txt"
printf '[daemon]\npidfile = %s\n' "$tmp/tw.pid" >>"$tmp/tw.conf"
# as root, also drop privileges once the sockets are open
tw_drop_privileges "$tmp/tw.conf" "$tmp/map.csv" "$tmp/drop.txt" "$tmp/feodo.txt"
$tw --config "$tmp/tw.conf" --check-config >/dev/null || fail "check-config"
tw_start "$tmp/tw.conf"
[[ -n $udp_port && $url =~ :[0-9]+$ ]] || fail "ports not logged"
[[ $(cat "$tmp/tw.pid") == "$pid" ]] || fail "pidfile"
if [[ ${drop:-0} == 1 ]]; then
  uid=$(awk '/^Uid:/ {print $2}' "/proc/$pid/status")
  [[ $uid == "$(id -u nobody)" ]] || fail "privileges not dropped (uid $uid)"
  grep -q 'running as nobody' "$tmp/log" || fail "privilege drop not logged"
fi
metric() { curl -s --max-time 5 "$url/metrics" | awk -v m="$1" '$1 == m { print $2 }'; }

wait_for 10 curl -sf --max-time 2 "$url/healthz" >/dev/null || fail "/healthz not ok"
[[ $(curl -s -o /dev/null -w '%{http_code}' "$url/nope") == 404 ]] || fail "404"
[[ $(metric 'transitwatch_udp_datagrams_total') == 0 ]] || fail "datagrams not 0 at start"

send() { $gen send "$tmp/s.pcap" "127.0.0.1:$udp_port" >/dev/null 2>&1 || fail "twgen send"; }
want_dgrams() { [[ $(metric 'transitwatch_udp_datagrams_total') == "$1" ]]; }

send
wait_for 20 want_dgrams "$dgrams" || fail "datagrams: $(metric transitwatch_udp_datagrams_total) != $dgrams"
wait_for 5 eval '[[ $(metric transitwatch_decode_records_total) == '"$recs"' ]]' \
  || fail "records $(metric transitwatch_decode_records_total) != $recs"
[[ $(metric 'transitwatch_exporter_datagrams_total{exporter="127.0.0.1"}') == "$dgrams" ]] || fail "per-exporter datagrams"
[[ $(metric 'transitwatch_udp_kernel_drops_total') == 0 ]] || fail "kernel drops"
[[ $(metric 'transitwatch_flows_total{direction="outbound"}') -gt 0 ]] || fail "outbound flows"
[[ $(metric 'transitwatch_last_reload_success') == 1 ]] || fail "reload gauge before reload (the start's configuration loaded)"

# reload with acme's space handed to a new customer: used for the very next datagrams
sed -i 's/^192\.0\.2\.0\/25,acme,"Acme, Inc\.",64500\(,.*\)\?$/192.0.2.0\/25,newco,NewCo,64599/' "$tmp/map.csv"
grep -q newco "$tmp/map.csv" || fail "map edit"
kill -HUP "$pid"
wait_for 10 eval '[[ $(metric transitwatch_reloads_total) == 1 ]]' || fail "reload not counted"
[[ $(metric 'transitwatch_last_reload_success') == 1 ]] || fail "reload failed: $(grep reload "$tmp/log")"
send
wait_for 20 want_dgrams $((2 * dgrams)) || fail "datagrams after reload: $(metric transitwatch_udp_datagrams_total)"

# a broken map is refused with its file and line; the running map stays
printf '# broken\n10.0.0.0/8,ok,Fine\n10.1.0.0/33,bad,Broken\n' >"$tmp/map.csv"
kill -HUP "$pid"
wait_for 10 eval '[[ $(metric transitwatch_reloads_total) == 2 ]]' || fail "second reload not counted"
[[ $(metric 'transitwatch_last_reload_success') == 0 ]] || fail "broken map accepted"
[[ $(metric 'transitwatch_reload_failures_total') == 1 ]] || fail "reload failure not counted"
grep -q "reload rejected, old configuration stays in force: .*map.csv:3:" "$tmp/log" \
  || fail "reload error does not name file:line"
send
wait_for 20 want_dgrams $((3 * dgrams)) || fail "datagrams after bad reload"

# a broken config file on reload: refused with its file and line, everything stays in force
cp "$tmp/tw.conf" "$tmp/tw.conf.good"
printf '[pipeline]\nwindow = 1m\nbogus_key = 1\n' >>"$tmp/tw.conf"
badline=$(grep -n bogus_key "$tmp/tw.conf" | cut -d: -f1)
kill -HUP "$pid"
wait_for 10 eval '[[ $(metric transitwatch_reloads_total) == 3 ]]' || fail "third reload not counted"
[[ $(metric 'transitwatch_reload_failures_total') == 2 ]] || fail "bad config accepted"
grep -q "reload rejected, old configuration stays in force: .*tw.conf:$((badline - 2)): \|reload rejected, old configuration stays in force: .*tw.conf:$badline: " "$tmp/log" \
  || fail "bad config reload does not name file:line: $(grep 'reload rejected' "$tmp/log" | tail -1)"
cp "$tmp/tw.conf.good" "$tmp/tw.conf"

# settings only a restart applies: the reload takes the rest and names each one it did not
grep -q "needs a restart" "$tmp/log" && fail "restart-only change reported without one: $(grep 'needs a restart' "$tmp/log")"
sed 's/^192\.0\.2\.0\/25,acme,.*$/192.0.2.0\/25,newco,NewCo,64599/' "$TW_SRC/configs/customers.csv" \
  >"$tmp/map.csv" # the map of the first reload again (the broken one is still there)
sed -i -e '/^\[metrics\]$/{n;s/.*/listen = 127.0.0.1:1/}' -e 's/^window = 1m$/window = 2m/' \
  -e "s|^jsonl = .*|jsonl = $tmp/other.jsonl|" "$tmp/tw.conf"
printf '[detector.spam]\nmax_hosts = 5000\nfanout = 30\n' >>"$tmp/tw.conf" # a size and a threshold
kill -HUP "$pid"
wait_for 10 eval '[[ $(metric transitwatch_reloads_total) == 4 ]]' || fail "fourth reload not counted"
[[ $(metric 'transitwatch_last_reload_success') == 1 ]] || fail "reload with restart-only changes failed"
[[ $(metric 'transitwatch_reload_restart_pending') == 4 ]] \
  || fail "restart pending $(metric transitwatch_reload_restart_pending), want 4: $(grep 'needs a restart' "$tmp/log")"
for key in metrics.listen output.jsonl pipeline.window detector.spam.max_hosts; do
  grep -q "reload: $key changed: needs a restart; not applied" "$tmp/log" || fail "$key change not named"
done
[[ $(grep -c "needs a restart" "$tmp/log") -eq 4 ]] || fail "other keys named: $(grep 'needs a restart' "$tmp/log")"
cp "$tmp/tw.conf.good" "$tmp/tw.conf"
kill -HUP "$pid"
wait_for 10 eval '[[ $(metric transitwatch_reload_restart_pending) == 0 ]]' || fail "restart pending not 0 with the file as at start"

tw_stop
# (after dropping privileges the pidfile in a root-owned place may stay; here the dir is 755)
[[ ${drop:-0} == 1 || ! -e $tmp/tw.pid ]] || fail "pidfile left behind"
tail -1 "$tmp/out.jsonl" | grep -q '"dataset":"transitwatch.totals"' || fail "no totals at shutdown"
tot=$(tail -1 "$tmp/out.jsonl")
python3 - "$tot" "$recs" "$dgrams" <<'PY' || fail "totals"
import json, sys
t = json.loads(sys.argv[1])["transitwatch"]["totals"]
assert t["records"] == 3 * int(sys.argv[2]), t["records"]
assert t["datagrams"] == 3 * int(sys.argv[3]), t["datagrams"]
PY
grep -q '"kind":"alert"' "$tmp/out.jsonl" || fail "no alerts"
grep -q '"organization":{"id":"newco"' "$tmp/out.jsonl" || fail "new mapping never used"
echo "daemon: all checks passed"
