#!/usr/bin/env bash
# Issue 18: `transitwatch report` from the Kafka topics (--kafka BROKERS, --from-kafka with
# --config's [kafka]) against librdkafka's mock cluster on loopback (bench/twkafka serve). A
# replay publishes its alerts and summaries through the Kafka sink and writes the same
# messages as JSON lines (-o, --no-totals: the sink never sends totals); the report read from
# the topics must be byte-identical to the report read from the file: the whole report (HTML,
# text), the customer abuse report (HTML, text) with --since/--until skipping part of the
# run, and a customer with nothing; the same for the evaluation scenario. Custom topic names through a config's [kafka] section. A
# message that is not one of ours is counted on stderr, not fatal. The brokers down, or
# nothing listening: exit 1 with the reason within a bound (--kafka-timeout). The Kafka options
# without a Kafka input are a usage error (2).
source "$(dirname "$0")/lib/common.bash"
tk=$TW_BIN/bench/twkafka
[[ -x $tk ]] || { echo "FAIL: $tk not built" >&2; exit 1; }

source "$TW_SRC/tests/integration/lib/kafka.bash"
kafka_serve --max-time 500 --topic transitwatch.alerts:4 --topic transitwatch.summaries:2 \
  --topic lab.alerts:3 --topic lab.summaries:1 --topic junk.alerts:2 --topic b.alerts:4 \
  --topic b.summaries:2

timeout 120 "$gen" sample -f ipfix -m 60 -o "$tmp/s.pcap" >/dev/null 2>&1 || fail "twgen sample"
lists=(-C "$cfg/customers.csv" -b "spamhaus-drop=$cfg/blocklists/drop.txt" -b "feodo=$cfg/blocklists/feodo.txt")
cat >"$tmp/lab.conf" <<CONF
[customers]
file = $cfg/customers.csv
[kafka]
brokers = $boot
topic_alerts = lab.alerts
topic_summaries = lab.summaries
properties = message.timeout.ms=5000; reconnect.backoff.max.ms=200; log_level=3
CONF
"$tw" replay --no-stats --no-totals --format json "${lists[@]}" --kafka "$boot" \
  --spool-dir "$tmp/spool" -o "$tmp/s.jsonl" "$tmp/s.pcap" 2>"$tmp/replay.log" ||
  { cat "$tmp/replay.log" >&2; fail "replay --kafka"; }
"$tw" replay --no-stats --no-totals --format json -c "$tmp/lab.conf" "${lists[@]}" \
  --spool-dir "$tmp/spool2" -o "$tmp/lab.jsonl" "$tmp/s.pcap" 2>"$tmp/replay2.log" ||
  { cat "$tmp/replay2.log" >&2; fail "replay to the lab topics"; }
cmp -s "$tmp/s.jsonl" "$tmp/lab.jsonl" || fail "two replays of the same capture differ"
n=$(wc -l <"$tmp/s.jsonl")
[[ $n -gt 50 ]] || fail "only $n messages in the run"

# The same report from the file ($jsonl) and from the topics (options $kopts, $nparts
# partitions); stderr of the Kafka read kept.
jsonl=$tmp/s.jsonl
kopts=()
nparts=6
same() { # name args...
  local name=$1; shift
  "$tw" report "$@" -o "$tmp/$name.file" "$jsonl" || fail "$name: report from the file"
  "$tw" report "$@" --kafka "$boot" "${kopts[@]}" -o "$tmp/$name.kafka" 2>"$tmp/$name.err" ||
    { cat "$tmp/$name.err" >&2; fail "$name: report from Kafka"; }
  grep -q "kafka $boot: $n messages from $nparts partitions" "$tmp/$name.err" ||
    { cat "$tmp/$name.err" >&2; fail "$name: not every message read from the topics"; }
  cmp "$tmp/$name.file" "$tmp/$name.kafka" || fail "$name: the reports differ"
}
same all.html
same all.txt --format text
period=(--since "2008-09-20 00:08" --until "2008-09-20 00:45")
same acme.html -C "$cfg/customers.csv" --customer acme "${period[@]}"
same acme.txt -C "$cfg/customers.csv" --customer acme "${period[@]}" --format text
same acme-all.html -C "$cfg/customers.csv" --customer acme
same nosuch.html --customer nosuch
incidents() { grep -c '<tr id="i-' "$1" || true; }
a=$(incidents "$tmp/acme.html.kafka")
b=$(incidents "$tmp/acme-all.html.kafka")
[[ $a -gt 0 && $a -lt $b ]] || fail "--since/--until did not skip part: $a of $b incidents"
grep -q 'abuse@acme.example' "$tmp/acme.txt.kafka" || fail "the abuse report is not addressed"
grep -q 'No alerts or summaries of this customer' "$tmp/nosuch.html.kafka" ||
  fail "an unknown customer does not say it has nothing"

# The evaluation scenario (an hour, no flooders): five customers, incidents updated over
# windows, many summaries per window, on topics of their own.
timeout 120 "$gen" eval -f ipfix -m 60 -F --write-customers "$tmp/ec.csv" \
  --write-config "$tmp/e.conf" -o "$tmp/e.pcap" >/dev/null 2>&1 || fail "twgen eval"
kopts=(--topic-alerts b.alerts --topic-summaries b.summaries)
"$tw" replay --no-stats --no-totals --format json -c "$tmp/e.conf" -C "$tmp/ec.csv" \
  -b "spamhaus-drop=$cfg/blocklists/drop.txt" -b "feodo=$cfg/blocklists/feodo.txt" \
  --kafka "$boot" "${kopts[@]}" --spool-dir "$tmp/spool3" -o "$tmp/e.jsonl" "$tmp/e.pcap" \
  2>"$tmp/replay3.log" || { cat "$tmp/replay3.log" >&2; fail "replay of the evaluation scenario"; }
jsonl=$tmp/e.jsonl
n=$(wc -l <"$jsonl")
ea=$(grep -c '"kind":"alert"' "$jsonl" || true)
[[ $ea -gt 30 ]] || fail "only $ea alerts in the evaluation scenario"
same eval.html
same eval.txt --format text
same badco.html -C "$tmp/ec.csv" --customer badco --since "2008-09-20 00:20"
same badco.txt -C "$tmp/ec.csv" --customer badco --since "2008-09-20 00:20" --format text
n=$(wc -l <"$tmp/s.jsonl")
kopts=()

# --from-kafka: the brokers and topics of the config's [kafka] section
"$tw" report -c "$tmp/lab.conf" --from-kafka --format text -o "$tmp/lab.txt" 2>"$tmp/lab.err" ||
  { cat "$tmp/lab.err" >&2; fail "--from-kafka with the lab topics"; }
grep -q "$n messages from 4 partitions of lab.alerts and lab.summaries" "$tmp/lab.err" ||
  { cat "$tmp/lab.err" >&2; fail "--from-kafka did not read the lab topics"; }
cmp "$tmp/lab.txt" "$tmp/all.txt.file" || fail "--from-kafka: the report differs"

# a message that is not ours: counted, the rest read
printf '\x0anot a json' >"$tmp/junk.bin"
"$tk" produce --bootstrap "$boot" --topic junk.alerts --partition 1 --goflow2 "$tmp/junk.bin" ||
  fail "twkafka produce"
"$tw" report --kafka "$boot" --topic-alerts junk.alerts --topic-summaries lab.summaries \
  -o "$tmp/junk.html" 2>"$tmp/junk.err" || { cat "$tmp/junk.err" >&2; fail "junk: exit status"; }
grep -q 'unreadable' "$tmp/junk.err" || { cat "$tmp/junk.err" >&2; fail "junk: not counted"; }
grep -q '1 unreadable lines' "$tmp/junk.html" || fail "junk: not in the report's totals"

# the brokers down; nothing listening: exit 1 with the reason, within the bound
ctl down
set +e
t0=$SECONDS
"$tw" report --kafka "$boot" --kafka-timeout 2s -o "$tmp/down.html" 2>"$tmp/down.err"
rc=$?
took=$((SECONDS - t0))
ctl up
[[ $rc -eq 1 ]] || { cat "$tmp/down.err" >&2; fail "brokers down: exit $rc, wanted 1"; }
[[ $took -le 30 ]] || fail "brokers down: took $took s with a 2 s bound"
grep -q 'no answer within 2000 ms' "$tmp/down.err" || { cat "$tmp/down.err" >&2; fail "brokers down: no reason"; }
t0=$SECONDS
"$tw" report --kafka 127.0.0.1:1 --kafka-timeout 2s -o "$tmp/none.html" 2>"$tmp/none.err"
rc=$?
[[ $rc -eq 1 && $((SECONDS - t0)) -le 30 ]] || fail "nothing listening: exit $rc after $((SECONDS - t0)) s"
"$tw" report --topic-alerts x "$tmp/s.jsonl" >/dev/null 2>&1
[[ $? -eq 2 ]] || fail "--topic-alerts without --kafka is not a usage error"
"$tw" report --from-kafka >/dev/null 2>&1
[[ $? -eq 2 ]] || fail "--from-kafka without [kafka] brokers is not a usage error"
set -e
# the brokers are back: the read works again
"$tw" report --kafka "$boot" --format text -o "$tmp/back.txt" 2>/dev/null || fail "after the brokers came back"
cmp "$tmp/back.txt" "$tmp/all.txt.file" || fail "after the brokers came back: the report differs"
echo "report_kafka: ok ($n messages; acme: $a of $b incidents in the period)"
