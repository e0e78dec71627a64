#!/usr/bin/env bash
# Issue 13 item 13 (and 14.6): /metrics carries every counter the JSON totals carry, named from
# the one table (transitwatch --list-counters); one metric per unit; the reload gauge is 0/1;
# process_* metrics; units in gauge names; per-customer series one per customer of the map (a
# reload that removes one: the others kept by id) and switched off by [metrics] per_customer =
# no; sinks' counters through their hook; and the exposition passes `promtool check metrics` on
# a real scrape.
source "$(dirname "$0")/lib/daemon.bash"
command -v curl >/dev/null || { echo "SKIP: curl not installed"; exit 77; }
has() { scrape "$tmp/cur" || return 1; grep -q "$1" "$tmp/cur"; } # a fresh scrape matches REGEX

$gen sample -f ipfix -m 12 -o "$tmp/s.pcap" 2>/dev/null
# the JSON totals of a replay: every leaf counter
"$tw" replay -C "$cfg/customers.csv" -b "drop=$cfg/blocklists/drop.txt" "$tmp/s.pcap" | tail -1 >"$tmp/totals.json"
python3 - "$tmp/totals.json" >"$tmp/json-keys" <<'PY'
import json, sys
t = json.load(open(sys.argv[1]))["transitwatch"]["totals"]
def walk(o, pre=""):
    for k, v in o.items():
        if isinstance(v, dict):
            walk(v, pre + k + ".")
        else:
            print(pre + k)
walk(t)
PY
"$tw" --list-counters >"$tmp/list"
[[ $(wc -l <"$tmp/json-keys") -gt 50 ]] || fail "few JSON counters: $(wc -l <"$tmp/json-keys")"
# a key of a per-exporter object (exporter_clock_skew.ADDR) matches its "GROUP.*" line
while read -r key; do
  grep -qF "$key transitwatch_" "$tmp/list" || grep -qF "${key%%.*}.* transitwatch_" "$tmp/list" \
    || fail "JSON totals counter '$key' has no /metrics name"
done <"$tmp/json-keys"

# detectors' table evictions: in the totals (detectors.NAME.*), the listing and /metrics' names
printf '[detector.scan]\nmax_pairs = 16\nmax_pending = 16\nmax_sweepers = 16\n' >"$tmp/small.conf"
"$gen" sample -f ipfix -m 30 -n 60 -s 7 -o "$tmp/rich.pcap" 2>/dev/null
"$tw" replay --stats -c "$tmp/small.conf" -C "$cfg/customers.csv" "$tmp/rich.pcap" 2>"$tmp/small.err" \
  | tail -1 >"$tmp/small.json"
ev=$(python3 -c 'import json,sys; s=json.load(open(sys.argv[1]))["transitwatch"]["totals"]["detectors"]["scan"]; print(s["h_evicted"] + s["v_evicted"] + s["pending_evicted"])' "$tmp/small.json")
[[ $ev -gt 0 ]] || fail "no scan table eviction counted with 16-entry tables: $(cat "$tmp/small.json")"
grep -Eq '^ +detectors\.scan\.(h|v|pending)_evicted +[1-9]' "$tmp/small.err" || fail "evictions not in the listing"
grep -qF 'detectors.scan.h_evicted transitwatch_detector_scan_horizontal_evicted_total' "$tmp/list" \
  || fail "scan evictions have no /metrics name"

cp "$cfg/customers.csv" "$tmp/map.csv"
cat >"$tmp/tw.conf" <<CONF
[collector]
listen = 127.0.0.1:0
[customers]
file = $tmp/map.csv
[blocklist drop]
file = $cfg/blocklists/drop.txt
[pipeline]
window = 10s
lateness = 0s
idle_advance = 1s
[output]
jsonl = $tmp/out.jsonl
[metrics]
listen = 127.0.0.1:0
[kafka]
brokers = 127.0.0.1:1
spool_dir = $tmp/spool
flush_timeout = 1s
CONF
tw_start "$tmp/tw.conf"
tw_send "$tmp/s.pcap"
wait_for 30 has '^transitwatch_customer_flows_total' || fail "no window closed"
scrape "$tmp/scrape"
# every counter of the table, on /metrics (a live capture's: only with a [capture]; the Kafka
# consumer's: only in detect --from-kafka; none here)
awk '{ print $2 }' "$tmp/list" | grep -Ev '^transitwatch_(capture|kafka_in)_' | sed 's/{[^}]*"\*"}$//' | sort -u | while read -r m; do
  grep -qF "$m" "$tmp/scrape" || fail "$m is in the table but not on /metrics"
done
# every JSON totals counter's line is on /metrics
while read -r key; do
  m=$(awk -v k="$key" '$1 == k { print $2 }' "$tmp/list")
  [[ -n $m ]] || m=$(awk -v k="${key%%.*}.*" '$1 == k { print $2 }' "$tmp/list" | sed "s/\"\*\"/\"${key#*.}\"/")
  grep -qF "$m " "$tmp/scrape" || fail "$key ($m) not on /metrics"
done <"$tmp/json-keys"
# one metric per unit: the old mixed families are gone; the meter, fragment and packet errors
# are there
for gone in transitwatch_decode_events_total transitwatch_decode_errors_total \
           'transitwatch_kafka_backlog ' 'transitwatch_kafka_inflight '; do
  if grep -q "^$gone" "$tmp/scrape"; then fail "$gone still on /metrics"; fi
done
for m in transitwatch_meter_flows_ended_total transitwatch_fragment_drops_total \
         'transitwatch_packet_errors_total{error="not_ip"}' transitwatch_decode_template_events_total \
         transitwatch_decode_datagram_errors_total transitwatch_last_reload_success \
         process_cpu_seconds_total process_resident_memory_bytes process_open_fds \
         process_start_time_seconds transitwatch_kafka_backlog_messages \
         transitwatch_kafka_inflight_messages transitwatch_kafka_brokers_up \
         transitwatch_kafka_last_delivery_time_seconds transitwatch_jsonl_written_messages_total \
         transitwatch_customer_active_hosts transitwatch_customer_hostile_hosts \
         transitwatch_customer_bytes_total transitwatch_detector_scan_horizontal_evicted_total \
         transitwatch_detector_spam_refused_total transitwatch_detector_blocklist_hit_capacity_pairs; do
  grep -qF "$m" "$tmp/scrape" || fail "$m missing"
done
# gauges name their unit: no gauge is a bare noun of something countable
awk '/^# TYPE .* gauge$/ { print $3 }' "$tmp/scrape" >"$tmp/gauges"
if grep -Eq '^transitwatch_(kafka_backlog|kafka_inflight|templates|meter_capacity)$' "$tmp/gauges"; then
  fail "gauges without a unit: $(cat "$tmp/gauges")"
fi
[[ $(awk '$1 == "transitwatch_last_reload_success" { print $2 }' "$tmp/scrape") == 1 ]] \
  || fail "reload gauge not 1 before any reload"
# per customer: at most one series per customer and direction
ncust=$(grep -c '^[0-9a-f:.]*/[0-9]*,' "$cfg/customers.csv" || true)
ids=$(grep -o 'transitwatch_customer_flows_total{customer="[^"]*",direction="outbound"}' "$tmp/scrape" | wc -l)
[[ $ids -ge 1 && $ids -le $ncust ]] || fail "$ids per-customer series for $ncust map lines"
kill -HUP "$pid"
sleep 1.5
scrape "$tmp/scrape2"
if command -v promtool >/dev/null; then
  promtool check metrics <"$tmp/scrape2" >"$tmp/promtool.out" 2>&1 || fail "promtool: $(cat "$tmp/promtool.out")"
  echo "promtool check metrics: ok ($(grep -c '^# TYPE' "$tmp/scrape2") families)"
else
  echo "promtool not installed (Debian package prometheus): exposition check skipped"
fi
# per customer after a reload that removes one (globex): the series follow the new map by id,
# every customer of it once (zero until its traffic), each value carried over, globex's gone
series() { # FILE ID: ID's outbound flows series in FILE, one value per line
  awk -v m="transitwatch_customer_flows_total{customer=\"$2\",direction=\"outbound\"}" '$1 == m { print $2 }' "$1"
}
map_ids() { awk -F, '!/^#/ && $1 ~ /\// { print $2 }' "$1" | sort -u; }
for id in $(map_ids "$tmp/map.csv"); do
  [[ $(series "$tmp/scrape2" "$id" | wc -l) -eq 1 ]] || fail "customer $id: $(series "$tmp/scrape2" "$id" | wc -l) series before the reload"
done
grep -v ',globex,' "$cfg/customers.csv" >"$tmp/map.csv"
kill -HUP "$pid"
wait_for 10 eval 'scrape "$tmp/scrape3" && grep -q "^transitwatch_reloads_total 2$" "$tmp/scrape3"' || fail "second reload"
grep -q 'customer="globex"' "$tmp/scrape3" && fail "globex still on /metrics after the reload: $(grep -m1 'customer="globex"' "$tmp/scrape3")"
for id in $(map_ids "$tmp/map.csv"); do
  [[ $(series "$tmp/scrape3" "$id" | wc -l) -eq 1 ]] || fail "customer $id: $(series "$tmp/scrape3" "$id" | wc -l) series after the reload"
  [[ $(series "$tmp/scrape3" "$id") -ge $(series "$tmp/scrape2" "$id") ]] \
    || fail "customer $id: $(series "$tmp/scrape2" "$id") outbound flows before the reload, $(series "$tmp/scrape3" "$id") after"
done
[[ $(grep -c '^transitwatch_customer_flows_total{.*direction="outbound"}' "$tmp/scrape3") -eq $(map_ids "$tmp/map.csv" | wc -l) ]] \
  || fail "per-customer series not one per customer of the map: $(grep '^transitwatch_customer_flows_total{.*outbound' "$tmp/scrape3")"
echo "per-customer series after a reload without globex: $(map_ids "$tmp/map.csv" | wc -l) customers, values kept"
tw_stop
# per_customer = no: no per-customer series
echo "per_customer = no" >"$tmp/pc"
sed '/^\[metrics\]/r '"$tmp/pc" "$tmp/tw.conf" >"$tmp/tw2.conf"
tw_start "$tmp/tw2.conf"
tw_send "$tmp/s.pcap"
wait_for 30 has '^transitwatch_summaries_total [1-9]' || fail "no window closed (2)"
sleep 1.2
if has '^transitwatch_customer_'; then fail "per-customer series with per_customer = no"; fi
tw_stop
echo "noc_metrics: all checks passed ($(wc -l <"$tmp/json-keys") JSON totals counters, all on /metrics)"
