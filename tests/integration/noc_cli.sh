#!/usr/bin/env bash
# Issue 13 items 4, 8, 9: the command line and the configuration checks as a NOC engineer meets
# them on the first day.
#  - --check-config runs the daemon's own checks: every error names file:line (endpoints,
#    detector names, a missing map or feed file at the line naming it, [customer ID] not in
#    the map), relative paths are relative to the config file, the example override key loads
#  - usage errors are one line with "see --help"; --check-config without --config names the
#    default path; the daemon's help lists signals, default paths and the metrics endpoint
#  - replay -o truncates (--append appends), replay - reads stdin, -r FILE reads a file, a
#    replay that read nothing prints no totals line
#  - twgen's output files have no short flags shared with replay's inputs (-c, -C)
#  - the end-of-run table gives internal flows their own column
source "$(dirname "$0")/lib/common.bash"

# ---- 8. one validation path, file:line on every error ----
mkdir -p "$tmp/etc/lists"
cp "$TW_SRC/configs/customers.csv" "$tmp/etc/lists/map.csv"
cp "$TW_SRC/configs/blocklists/drop.txt" "$tmp/etc/lists/drop.txt"
good() { # a sound config; relative list paths (relative to the config file's directory)
  cat <<CONF
[collector]
listen = 127.0.0.1:2055
[customers]
file = lists/map.csv
[blocklist drop]
file = lists/drop.txt
[metrics]
listen = 127.0.0.1:19464
CONF
}
good >"$tmp/etc/t.conf"
# from another working directory: the lists are found next to the config file
(cd / && "$tw" --config "$tmp/etc/t.conf" --check-config) >"$tmp/ok" 2>&1 \
  || fail "relative paths not taken relative to the config file: $(cat "$tmp/ok")"
grep -q 'OK' "$tmp/ok" || fail "no OK: $(cat "$tmp/ok")"
# expect_error NAME LINE REGEX: the config $tmp/etc/NAME fails --check-config with NAME:LINE:
expect_error() {
  local name=$1 line=$2 re=$3 rc=0
  "$tw" --config "$tmp/etc/$name" --check-config >"$tmp/out" 2>"$tmp/err" || rc=$?
  [[ $rc -eq 2 ]] || fail "$name: --check-config exit $rc, want 2 ($(cat "$tmp/err" "$tmp/out"))"
  grep -q "$tmp/etc/$name:$line: .*$re" "$tmp/err" || fail "$name: want $name:$line: $re, got: $(cat "$tmp/err")"
  [[ $(wc -l <"$tmp/err") -eq 1 ]] || fail "$name: more than one line: $(cat "$tmp/err")"
}
good | sed 's/^listen = 127.0.0.1:2055/listen = 127.0.0.1:99999/' >"$tmp/etc/port.conf"
expect_error port.conf 2 "collector.listen: bad endpoint '127.0.0.1:99999'"
good | sed 's/^listen = 127.0.0.1:19464/listen = localhost:19464/' >"$tmp/etc/mx.conf"
expect_error mx.conf 8 "metrics.listen: bad endpoint 'localhost:19464'"
{ good; printf '[pipeline]\nwindow = 1m\ndetectors = spam, beacn\n'; } >"$tmp/etc/det.conf"
expect_error det.conf 11 "unknown detector 'beacn'"
good | sed 's|^file = lists/map.csv|file = lists/nomap.csv|' >"$tmp/etc/nomap.conf"
expect_error nomap.conf 4 "customers.file $tmp/etc/lists/nomap.csv: cannot open"
good | sed 's|^file = lists/drop.txt|file = lists/nodrop.txt|' >"$tmp/etc/nofeed.conf"
expect_error nofeed.conf 6 "blocklist drop\] file $tmp/etc/lists/nodrop.txt: cannot open"
{ good; printf '\n[customer nosuch]\nspam.fanout = 50\n'; } >"$tmp/etc/cust.conf"
expect_error cust.conf 10 "no customer 'nosuch' in the customer map"
# the per-customer example the help text and errors show is itself valid
example=$("$tw" --example-config | sed -n 's/.*DETECTOR.KEY = VALUE, e.g. \([a-z_.0-9]*\) = \([0-9]*\).*/\1 = \2/p')
[[ -n $example ]] || fail "no per-customer example in --example-config"
cid=$(awk -F, '/^[0-9]/ && NF >= 2 { print $2; exit }' "$tmp/etc/lists/map.csv")
{ good; printf '\n[customer %s]\n%s\n' "$cid" "$example"; } >"$tmp/etc/ex.conf"
"$tw" --config "$tmp/etc/ex.conf" --check-config >/dev/null 2>"$tmp/err" \
  || fail "the example '$example' does not load: $(cat "$tmp/err")"
{ good; printf '\n[customer %s]\nfanout = 5\n' "$cid"; } >"$tmp/etc/bad.conf"
"$tw" --config "$tmp/etc/bad.conf" --check-config >/dev/null 2>"$tmp/err" && fail "bad key accepted"
shown=$(sed -n 's/.*(e.g. \([a-z_.0-9]*\)).*/\1/p' "$tmp/err")
[[ "${example%% *}" == "$shown" ]] || fail "the error's example '$shown' is not the valid one '$example'"
# what --check-config accepts the daemon accepts, and the reverse: the same checks refuse a start
"$tw" --config "$tmp/etc/port.conf" >"$tmp/out" 2>"$tmp/err" && fail "daemon started on a bad port"
grep -q "port.conf:2: " "$tmp/err" || fail "daemon error without file:line: $(cat "$tmp/err")"
echo "item 8: --check-config and the daemon share the checks; errors carry file:line"

# ---- 9. command line ----
one_line_usage() { # CMD...: exit 2, one line on stderr that says where to look
  local rc=0
  "$@" >"$tmp/out" 2>"$tmp/err" || rc=$?
  [[ $rc -eq 2 ]] || fail "$*: exit $rc, want 2"
  [[ $(wc -l <"$tmp/err") -eq 1 ]] || fail "$*: usage error is $(wc -l <"$tmp/err") lines: $(cat "$tmp/err")"
  grep -q 'see transitwatch.*--help' "$tmp/err" || fail "$*: no 'see --help': $(cat "$tmp/err")"
}
one_line_usage "$tw" --bogus
one_line_usage "$tw" replay --bogus x.pcap
one_line_usage "$tw" replay -o
one_line_usage "$tw" replay
one_line_usage "$tw" stray-argument
# --check-config without --config: the default path and what is missing
rc=0
"$tw" --check-config >"$tmp/out" 2>"$tmp/err" || rc=$?
if [[ ! -e /etc/transitwatch/transitwatch.conf && ! -e /usr/local/etc/transitwatch/transitwatch.conf ]]; then
  [[ $rc -eq 2 ]] || fail "--check-config without a config: exit $rc"
  grep -q -- '--config FILE.*etc/transitwatch/transitwatch.conf does not exist' "$tmp/err" \
    || fail "--check-config without --config: $(cat "$tmp/err")"
fi
"$tw" --help >"$tmp/help"
for want in SIGHUP SIGTERM 'etc/transitwatch/transitwatch.conf' /var/lib/transitwatch/spool \
            'GET /metrics' 'GET /healthz' '127.0.0.1:9464'; do
  grep -q -- "$want" "$tmp/help" || fail "daemon --help does not mention $want"
done
# replay: -o truncates, --append appends, - is stdin, -r FILE reads a file
$gen sample -f ipfix -m 6 -o "$tmp/s.pcap" 2>/dev/null
lists=(-C "$tmp/etc/lists/map.csv" -b "drop=$tmp/etc/lists/drop.txt")
"$tw" replay "${lists[@]}" "$tmp/s.pcap" >"$tmp/ref.jsonl"
n=$(wc -l <"$tmp/ref.jsonl")
[[ $n -gt 1 ]] || fail "sample gave $n lines"
echo '{"stale":1}' >"$tmp/o.jsonl"
"$tw" replay "${lists[@]}" -o "$tmp/o.jsonl" "$tmp/s.pcap"
cmp -s "$tmp/o.jsonl" "$tmp/ref.jsonl" || fail "replay -o did not truncate"
"$tw" replay "${lists[@]}" --append -o "$tmp/o.jsonl" "$tmp/s.pcap"
[[ $(wc -l <"$tmp/o.jsonl") -eq $((2 * n)) ]] || fail "--append did not append"
"$tw" replay "${lists[@]}" - <"$tmp/s.pcap" >"$tmp/stdin.jsonl"
cmp -s "$tmp/stdin.jsonl" "$tmp/ref.jsonl" || fail "replay - (stdin) differs from the file"
cat "$tmp/s.pcap" | "$tw" replay "${lists[@]}" - >"$tmp/pipe.jsonl"
cmp -s "$tmp/pipe.jsonl" "$tmp/ref.jsonl" || fail "replay - from a pipe differs from the file"
"$tw" replay "${lists[@]}" -r "$tmp/s.pcap" >"$tmp/r.jsonl"
cmp -s "$tmp/r.jsonl" "$tmp/ref.jsonl" || fail "replay -r FILE differs"
# a replay that read nothing: exit 1, the error, and no line of zeros
rc=0
"$tw" replay "$tmp/missing.pcap" >"$tmp/none.jsonl" 2>"$tmp/err" || rc=$?
[[ $rc -eq 1 ]] || fail "replay of a missing file: exit $rc"
grep -q missing.pcap "$tmp/err" || fail "the error does not name the file"
[[ ! -s $tmp/none.jsonl ]] || fail "a failed replay printed: $(cat "$tmp/none.jsonl")"
# twgen: the output files are long options only; -C and -c mean nothing to it now
rc=0
"$gen" eval -m 1 -C "$tmp/etc/lists/map.csv" -o "$tmp/e.pcap" >/dev/null 2>&1 || rc=$?
[[ $rc -ne 0 ]] || fail "twgen eval still takes -C (it overwrote the customer map)"
"$gen" eval -m 1 --write-customers "$tmp/w.csv" --write-config "$tmp/w.conf" -o "$tmp/e.pcap" 2>/dev/null
[[ -s $tmp/w.csv && -s $tmp/w.conf ]] || fail "twgen eval --write-customers/--write-config"
echo "item 9: usage errors, defaults, replay -o/--append/-/-r, no zero totals, twgen flags"

# ---- 4. internal flows have their own column ----
# the sample's outside peers (in these /8s) made customers too: their flows are internal
cp "$tmp/etc/lists/map.csv" "$tmp/all.csv"
for n in 8 45 93 104 142 151; do echo "$n.0.0.0/8,peers,Peers" >>"$tmp/all.csv"; done
"$tw" replay --stats --no-summaries -C "$tmp/all.csv" "$tmp/s.pcap" >"$tmp/all.jsonl" 2>"$tmp/table"
internal=$(tail -1 "$tmp/all.jsonl" | python3 -c 'import json,sys; print(json.load(sys.stdin)["transitwatch"]["totals"]["flows_internal"])')
[[ $internal -gt 0 ]] || fail "no internal flows in the test"
grep -q 'flows out *flows in *internal' "$tmp/table" || fail "no internal column: $(cat "$tmp/table")"
sum=$(awk '/^  customer / { t = 1; next } t && /^  \(no customer\)/ { t = 0 } t { s += $4 } END { print s + 0 }' "$tmp/table")
[[ $sum -eq $internal ]] || fail "table's internal column sums to $sum, totals say $internal: $(cat "$tmp/table")"
out=$(awk '/^  customer / { t = 1; next } t && /^  \(no customer\)/ { t = 0 } t { s += $2 + $3 } END { print s + 0 }' "$tmp/table")
outin=$(tail -1 "$tmp/all.jsonl" | python3 -c 'import json,sys; t=json.load(sys.stdin)["transitwatch"]["totals"]; print(t["flows_outbound"] + t["flows_inbound"])')
[[ $out -eq $outin ]] || fail "flows out + in in the table $out, totals $outin (internal counted as out?)"
echo "item 4: internal flows in their own column ($internal)"
echo "noc_cli: all checks passed"
