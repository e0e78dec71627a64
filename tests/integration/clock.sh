#!/usr/bin/env bash
# Time is never rewritten (issue 11 item 1).
#  1. Replay: an nfcapd archive (written by nfcapd from a generated capture) sent with nfreplay,
#     received on loopback and recorded as a capture, then replayed, gives the same alerts as
#     replaying the archive itself, and no record is flagged. nfreplay (1.7) stamps its export
#     headers a day before the first record and the capture's frame times are today: only the
#     records' own times may count.
#  2. The daemon: NetFlow v5 whose export header clock is 2 days ahead of its records (the
#     records keep their absolute times) is counted per exporter (/metrics, totals), logged once,
#     kept out of the beacon detector, and not moved onto "now" (the window it lands in is the
#     records' own). The same datagrams replayed from a file keep their beacon alerts.
# Loopback only; every wait bounded; the processes started here are stopped on exit.
source "$(dirname "$0")/lib/common.bash"
for t in nfcapd nfdump nfreplay python3 curl; do
  command -v $t >/dev/null || { echo "SKIP: $t not installed (scripts/deps.sh test)"; exit 77; }
done
. "$(dirname "$0")/lib/nfcapd.bash"
helper=$TW_SRC/tests/integration/udp_pcap.py
cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  sleep 0.2
  for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
stop() { # pid: SIGTERM, <= 20 s, then SIGKILL
  kill -TERM "$1" 2>/dev/null || true
  for _ in $(seq 200); do kill -0 "$1" 2>/dev/null || { wait "$1" 2>/dev/null || true; return 0; }; sleep 0.1; done
  kill -KILL "$1" 2>/dev/null || true
  return 1
}
lists=(--customers "$TW_SRC/configs/customers.csv"
       --blocklist drop="$TW_SRC/configs/blocklists/drop.txt"
       --blocklist feodo="$TW_SRC/configs/blocklists/feodo.txt")
alerts() { grep '"kind":"alert"' | sed -e 's/"observer":{[^}]*},//' -e 's/"id":"[^"]*",//g' | sort; }
total() { tail -1 "$1" | grep -o "\"$2\":[0-9]*" | head -1 | cut -d: -f2; }

# ---- 1. nfreplay of an old archive, recorded on loopback, replayed ----
$gen sample -f v9 -m 20 -o "$tmp/s.pcap" 2>/dev/null
nfcapd_record "$gen" "$tmp/s.pcap" "$tmp/arch" -t 3600 || fail "nfcapd could not record the capture"
arch=$(ls "$tmp"/arch/nfcapd.[0-9]* | head -1)
[[ -f $arch ]] || fail "nfcapd wrote no file: $(cat "$tmp/arch.log")"

port=$(free_port)
python3 "$helper" record "$port" "$tmp/nfreplay.pcap" 2 2>"$tmp/rec.log" &
rec=$!; pids+=("$rec")
wait_for 10 test -f "$tmp/nfreplay.pcap.ready" || fail "recorder did not start"
timeout 60 nfreplay -H 127.0.0.1 -p "$port" -r "$arch" -v 9 -d 100 >"$tmp/nfreplay.log" 2>&1 \
  || fail "nfreplay: $(cat "$tmp/nfreplay.log")"
wait_for 30 eval "! kill -0 $rec 2>/dev/null" || fail "recorder did not finish"

$tw replay "${lists[@]}" --no-stats "$arch" >"$tmp/o-arch.jsonl"
$tw replay "${lists[@]}" --no-stats "$tmp/nfreplay.pcap" >"$tmp/o-nfr.jsonl"
alerts <"$tmp/o-arch.jsonl" >"$tmp/a-arch"
alerts <"$tmp/o-nfr.jsonl" >"$tmp/a-nfr"
grep -q '"ruleset":"beacon"' "$tmp/a-arch" || fail "no beacon alert from the archive"
cmp -s "$tmp/a-arch" "$tmp/a-nfr" || { diff "$tmp/a-arch" "$tmp/a-nfr" | head -5; fail "nfreplay capture and archive give different alerts"; }
[[ $(total "$tmp/o-nfr.jsonl" records) == $(total "$tmp/o-arch.jsonl" archive_records) ]] \
  || fail "records: nfreplay capture $(total "$tmp/o-nfr.jsonl" records), archive $(total "$tmp/o-arch.jsonl" archive_records)"
[[ $(total "$tmp/o-nfr.jsonl" flows_time_skew) == 0 ]] || fail "replay flagged records"
echo "nfreplay: $(wc -l <"$tmp/a-arch") alerts alike from the archive and from its nfreplay capture ($(grep -c '"ruleset":"beacon"' "$tmp/a-arch") beacon)"

# ---- 2. the daemon: an exporter whose clock is 2 days ahead of its records ----
$gen sample -f v5 -m 20 -o "$tmp/v5.pcap" 2>/dev/null
$tw replay "${lists[@]}" --no-stats "$tmp/v5.pcap" | alerts >"$tmp/a-v5"
grep -q '"ruleset":"beacon"' "$tmp/a-v5" || fail "no beacon alert from the v5 capture"
cat >"$tmp/tw.conf" <<CONF
[collector]
listen = 127.0.0.1:0
rcvbuf = 8M
[customers]
file = $TW_SRC/configs/customers.csv
[blocklist drop]
file = $TW_SRC/configs/blocklists/drop.txt
[blocklist feodo]
file = $TW_SRC/configs/blocklists/feodo.txt
[output]
jsonl = $tmp/d.jsonl
summaries = yes
[metrics]
listen = 127.0.0.1:0
CONF
: >"$tmp/log"
$tw --config "$tmp/tw.conf" 2>"$tmp/log" &
pid=$!; pids+=("$pid")
wait_started "$tmp/log" "$pid" || fail "daemon did not start: $(cat "$tmp/log")"
udp_port=$(sed -n 's/.*listening on UDP port \([0-9]*\).*/\1/p' "$tmp/log" | head -1)
http_port=$(sed -n 's/.*metrics on .*(port \([0-9]*\)).*/\1/p' "$tmp/log" | head -1)
metric() { curl -s --max-time 5 "http://127.0.0.1:$http_port/metrics" | awk -v m="$1" '$1 == m { print $2 }'; }
read -r ndg nrec < <(python3 "$helper" skew-send "$tmp/v5.pcap" "$udp_port" 172800)
[[ $nrec -gt 1000 ]] || fail "only $nrec records sent"
wait_for 20 eval "[[ \$(metric 'transitwatch_exporter_records_total{exporter=\"127.0.0.1\"}') == $nrec ]]" \
  || fail "daemon decoded $(metric 'transitwatch_exporter_records_total{exporter="127.0.0.1"}') of $nrec records"
[[ $(metric 'transitwatch_exporter_clock_skew_total{exporter="127.0.0.1"}') == "$nrec" ]] \
  || fail "per-exporter clock skew $(metric 'transitwatch_exporter_clock_skew_total{exporter="127.0.0.1"}'), want $nrec"
[[ $(metric transitwatch_flows_time_skew_total) == "$nrec" ]] || fail "flows_time_skew_total $(metric transitwatch_flows_time_skew_total)"
stop "$pid" || fail "daemon needed SIGKILL"
n=$(grep -c 'from the export header' "$tmp/log" || true)
[[ $n == 1 ]] || fail "clock skew logged $n times, want once"
grep -q 'exporter 127.0.0.1: flow records more than 24 h' "$tmp/log" || fail "log line does not name the exporter"
tail -1 "$tmp/d.jsonl" | grep -q "\"flows_time_skew\":$nrec" || fail "totals: $(tail -1 "$tmp/d.jsonl")"
tail -1 "$tmp/d.jsonl" | grep -q "\"exporter_clock_skew\":{\"127.0.0.1\":$nrec}" || fail "totals lack the exporter's count"
! grep '"kind":"alert"' "$tmp/d.jsonl" | grep -q '"ruleset":"beacon"' || fail "beacon alert from records the exporter's clock contradicts"
# not moved onto now: the summaries' windows are the records' own (the capture's day, 2008)
year=$(grep -o '"start":"[0-9]*' "$tmp/d.jsonl" | head -1 | cut -d'"' -f4)
[[ $year == "$(date -u -d @1221868800 +%Y)" ]] || fail "window start year '$year': records were moved"
echo "daemon: $nrec skewed records counted for 127.0.0.1, logged once, no beacon alert, windows in $year"

# the same datagrams recorded and replayed: the records' own times rule, beacons found again
port=$(free_port)
python3 "$helper" record "$port" "$tmp/skew.pcap" 2 2>/dev/null &
rec=$!; pids+=("$rec")
wait_for 10 test -f "$tmp/skew.pcap.ready" || fail "recorder did not start"
python3 "$helper" skew-send "$tmp/v5.pcap" "$port" 172800 >/dev/null
wait_for 30 eval "! kill -0 $rec 2>/dev/null" || fail "recorder did not finish"
$tw replay "${lists[@]}" --no-stats "$tmp/skew.pcap" | alerts >"$tmp/a-skew"
cmp -s "$tmp/a-v5" "$tmp/a-skew" || { diff "$tmp/a-v5" "$tmp/a-skew" | head -5; fail "replay of the skewed export changed the alerts"; }
echo "clock: all checks passed"
