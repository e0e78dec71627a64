#!/usr/bin/env bash
# Issue 15: [pipeline] reserve_memory. The daemon with the default setting makes its tables
# resident before its loop starts: it logs how many MB and how long, and /metrics shows the
# bytes (transitwatch_memory_reserved_bytes > 0, and its RSS at start holds them); with
# reserve_memory = no the gauge is 0 and nothing is logged. Loopback only, bounded in time.
source "$(dirname "$0")/lib/daemon.bash"
source "$(dirname "$0")/lib/build.bash"
command -v curl >/dev/null || { echo "SKIP: curl not installed"; exit 77; }

cp "$TW_SRC/configs/customers.csv" "$tmp/map.csv"
metric() { curl -s --max-time 5 "$url/metrics" | awk -v m="$1" '$1 == m { print $2 }'; }
rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$pid/status"; }

# default: on
tw_conf "$tmp/tw.conf" "$tmp/map.csv"
tw_start "$tmp/tw.conf"
grep -q ' started$' "$log" || fail "daemon did not reach its loop"
line=$(grep 'reserved .* MB of tables in .* s' "$log") || fail "reservation not logged"
mb=$(sed -n 's/.*reserved \([0-9]*\) MB of tables.*/\1/p' <<<"$line")
[[ $mb -gt 10 ]] || fail "reserved only $mb MB: $line"
# the log line comes before the loop's start, the start before /metrics is published
grep -n -e 'reserved .* MB' -e ' started$' "$log" | head -1 | grep -q reserved || fail "reservation logged after the start"
wait_for 10 eval '[[ -n $(metric transitwatch_memory_reserved_bytes) ]]' || fail "no gauge"
bytes=$(metric transitwatch_memory_reserved_bytes)
[[ $bytes -gt $((mb * 1000000 - 1000000)) && $bytes -lt $((mb * 1000000 + 1000000)) ]] \
  || fail "gauge $bytes does not match the log's $mb MB"
[[ $(rss_kb) -gt $((bytes / 1024)) ]] || fail "RSS $(rss_kb) kB below the reserved $bytes bytes"
tw_stop

# off: the gauge is 0, nothing logged, and the RSS stays far below what the tables would take
sed -i 's/^\[pipeline\]$/[pipeline]\nreserve_memory = no/' "$tmp/tw.conf"
grep -q '^reserve_memory = no$' "$tmp/tw.conf" || fail "config edit"
tw_start "$tmp/tw.conf"
grep -q ' started$' "$log" || fail "daemon did not reach its loop (reserve_memory = no)"
! grep -q 'reserved .* MB' "$log" || fail "reserve_memory = no still reserved"
wait_for 10 eval '[[ -n $(metric transitwatch_memory_reserved_bytes) ]]' || fail "no gauge (off)"
[[ $(metric transitwatch_memory_reserved_bytes) == 0 ]] || fail "gauge not 0 with reserve_memory = no"
[[ $(rss_kb) -lt $((bytes / 1024 / 2)) ]] || fail "RSS $(rss_kb) kB with reserve_memory = no"
tw_stop

# a value that is no boolean: refused at start with the key and the line
printf '[pipeline]\nreserve_memory = maybe\n' >"$tmp/bad.conf"
if $tw --config "$tmp/bad.conf" --check-config >"$tmp/bad.out" 2>&1; then fail "bad value accepted"; fi
grep -q 'bad.conf:2.*reserve_memory = maybe: expected yes/no' "$tmp/bad.out" || fail "bad value error: $(cat "$tmp/bad.out")"

# replay: off by default, on with --reserve-memory (its log names the reservation)
$gen sample -f v5 -m 1 -o "$tmp/s.pcap" 2>/dev/null
$tw replay --no-progress "$tmp/s.pcap" >/dev/null 2>"$tmp/r0.err" || fail "replay: $(cat "$tmp/r0.err")"
! grep -q 'reserved .* MB' "$tmp/r0.err" || fail "replay reserved without --reserve-memory"
$tw replay --no-progress --reserve-memory "$tmp/s.pcap" >/dev/null 2>"$tmp/r1.err" || fail "replay --reserve-memory: $(cat "$tmp/r1.err")"
grep -q 'reserved .* MB of tables' "$tmp/r1.err" || fail "replay --reserve-memory did not reserve: $(cat "$tmp/r1.err")"
# a start whose tables do not fit the memory it has names the table and its option (the address
# space limit makes a 100 GB table fail at once; sanitizer builds need more than any such limit)
if ! build_has SANITIZE TSAN; then
  for opt in "pipeline hosts_max host table: cannot make it (\[pipeline\] hosts_max = 1000000000" \
    "detector.beacon max_pairs detector beacon: cannot make its tables (max_pairs = 1000000000"; do
    read -r sec key want <<<"$opt"
    printf '[%s]\n%s = 1000000000\n' "$sec" "$key" >"$tmp/big.conf"
    set +e
    (ulimit -v 4000000; $tw replay --no-progress --config "$tmp/big.conf" "$tmp/s.pcap" >/dev/null 2>"$tmp/big.err")
    rc=$?
    set -e
    [[ $rc -eq 2 ]] || fail "$sec.$key too big: exit $rc: $(cat "$tmp/big.err")"
    grep -q "$want.*give the process more memory" "$tmp/big.err" || fail "$sec.$key too big: $(cat "$tmp/big.err")"
  done
fi
echo "OK: reserved $mb MB ($line)"
