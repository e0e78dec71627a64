#!/usr/bin/env bash
# Zeek conn.log (TSV and JSON lines) and Argus binetflow as replay inputs (issue 11 item 5).
#  1. One set of connections written as Zeek TSV, Zeek JSON and Argus CSV (flowlog_gen.py) gives
#     the same flow records (--flows) and the same alerts from all three, plain or gzipped,
#     alone or in a directory, recognised by content; a scan alert for the unanswered sweep.
#  2. Bad input: a malformed line is skipped, counted and named with file:line (exit 1); a file
#     that is no log at all is an error; --log-format reads a file its content does not reveal.
#     2b. A P2P client's day (bench/eval/p2p_zeek.py): no alert; a telnet sweep beside it is
#     scan.horizontal on port 23 alone. 2c. UDP keepalives a record each (keepalive_log.py):
#     WireGuard, IPsec NAT-T, a SIP trunk, OpenVPN: no alert; a C2 on one UDP socket: a long
#     session. 2d. A day of UDP traceroutes to 100 peers (traceroute_log.py): no alert; a UDP
#     scan of 60 ports beside traces to 12: one scan.vertical, of the scanned address.
#  3. Real captures ($TW_SHARED/testdata/pcap), turned into binetflow by Argus itself (argus +
#     ra -u -Z b, when installed), give the same alerts as the captures replayed through the
#     flow meter, with each capture's infected or scanning host as the customer.
set -euo pipefail
: "${TW_BIN:?}" "${TW_SRC:?}"
command -v python3 >/dev/null || { echo "SKIP: python3 not installed"; exit 77; }
tw=$TW_BIN/collector/transitwatch
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
alerts() { grep '"kind":"alert"' | sed -e 's/"observer":{[^}]*},//' -e 's/"id":"[^"]*",//g' | sort || true; }
keys() { grep '"kind":"alert"' | grep -o '"rule":{"id":"[^"]*"\|"host":"[^"]*"\|"peer":"[^"]*"' | paste -sd' ' | tr '"' ' ' | sed 's/ rule :{ id : /\n/g' | sort -u || true; }

# ---- 1. three formats, one set of connections ----
python3 "$TW_SRC/tests/integration/flowlog_gen.py" "$tmp"
printf 'prefix,customer_id,name\n100.64.0.0/24,c1,Test customer\n' >"$tmp/c.csv"
for f in conn.log conn.json ctu.binetflow; do
  $tw replay --no-stats -C "$tmp/c.csv" --flows "$tmp/$f.flows" "$tmp/$f" >"$tmp/$f.out" \
    || fail "$f: exit $?"
  sort "$tmp/$f.flows" >"$tmp/$f.sorted"
  alerts <"$tmp/$f.out" >"$tmp/$f.alerts"
done
n=$(wc -l <"$tmp/conn.log.sorted")
[[ $n -gt 2000 ]] || fail "only $n records from conn.log"
for f in conn.json ctu.binetflow; do
  cmp -s "$tmp/conn.log.sorted" "$tmp/$f.sorted" || { diff "$tmp/conn.log.sorted" "$tmp/$f.sorted" | head -4; fail "$f: records differ from conn.log"; }
  cmp -s "$tmp/conn.log.alerts" "$tmp/$f.alerts" || fail "$f: alerts differ from conn.log"
done
grep -q '"host":"100.64.0.10"' "$tmp/conn.log.alerts" && grep '"host":"100.64.0.10"' "$tmp/conn.log.alerts" | grep -q '"ruleset":"scan"' \
  || fail "no scan alert for the unanswered sweep"
# SYN without answer stays a bare SYN; the refusals come back as RST
[[ $(grep -c '"dport":23,"proto":6,"tcp_flags":2,' "$tmp/conn.log.sorted") == 2000 ]] || fail "sweep SYNs"
[[ $(grep -c '"sport":23,"dport":[0-9]*,"proto":6,"tcp_flags":4,' "$tmp/conn.log.sorted") == 100 ]] || fail "refusals"
grep -q '"src":"100.64.0.30","dst":"192.0.2.77","sport":0,"dport":0,"proto":1' "$tmp/conn.log.sorted" || fail "echo reply"
grep -q '"src":"192.0.2.77","dst":"100.64.0.30","sport":0,"dport":2048,"proto":1' "$tmp/conn.log.sorted" || fail "echo request"
# gzip, a directory of all three (each connection three times), recognised by content
mkdir "$tmp/dir"
gzip -c "$tmp/conn.log" >"$tmp/dir/conn.log.gz"
cp "$tmp/conn.json" "$tmp/dir/conn.2.json"; cp "$tmp/ctu.binetflow" "$tmp/dir/capture.binetflow"
echo "not a log" >"$tmp/dir/README"
$tw replay --no-stats -C "$tmp/c.csv" --flows "$tmp/dir.flows" "$tmp/dir" >/dev/null || fail "directory: exit $?"
[[ $(wc -l <"$tmp/dir.flows") == $((3 * n)) ]] || fail "directory: $(wc -l <"$tmp/dir.flows") records, want $((3 * n))"
echo "formats: $n records and $(wc -l <"$tmp/conn.log.alerts") alerts alike from Zeek TSV, Zeek JSON and Argus CSV (plain, gzip, directory)"

# ---- 2. bad input ----
{ head -12 "$tmp/conn.log"; printf '1312970400.5\tCbad\t100.64.0.10\t1\t300.1.1.1\t23\ttcp\t-\t-\t0\t0\tS0\t-\t-\t0\tS\t1\t44\t0\t0\t-\n'
  head -c 20000 /dev/zero | tr '\0' 'x'; echo; tail -n +13 "$tmp/conn.log"; } >"$tmp/bad.log"
set +e
$tw replay --stats -C "$tmp/c.csv" "$tmp/bad.log" >"$tmp/bad.out" 2>"$tmp/bad.err"; rc=$?
set -e
[[ $rc == 1 ]] || fail "bad lines: exit $rc, want 1"
grep -q "bad.log:13: id.resp_h: not an address (2 bad lines skipped" "$tmp/bad.err" || fail "bad lines: message: $(cat "$tmp/bad.err")"
grep -q "2 bad lines skipped" "$tmp/bad.err" || fail "bad line count"
[[ $(tail -1 "$tmp/bad.out" | grep -o '"archive_records":[0-9]*' | cut -d: -f2) == "$n" ]] || fail "good lines around bad ones were lost"
# ... and counted with every other counter: the totals line and the end-of-run listing
[[ $(tail -1 "$tmp/bad.out" | grep -o '"log_bad_lines":[0-9]*' | cut -d: -f2) == 2 ]] \
  || fail "bad lines not in the totals: $(tail -1 "$tmp/bad.out")"
grep -Eq '^ +errors\.log_bad_lines +2$' "$tmp/bad.err" || fail "bad lines not in the counters listing"
$tw --list-counters | grep -qF 'errors.log_bad_lines transitwatch_input_bad_lines_total{input="flowlog"}' \
  || fail "bad lines have no /metrics name"
# a log with nothing but bad lines still reports them (a totals line that is not all zeros)
head -c 20000 /dev/zero | tr '\0' 'x' >"$tmp/allbad.log"; echo >>"$tmp/allbad.log"
set +e
$tw replay --no-stats --log-format zeek "$tmp/allbad.log" >"$tmp/allbad.out" 2>/dev/null; rc=$?
set -e
[[ $rc == 1 && $(grep -o '"log_bad_lines":[0-9]*' "$tmp/allbad.out" | cut -d: -f2) == 1 ]] \
  || fail "a log of bad lines only: exit $rc, totals: $(cat "$tmp/allbad.out")"
echo "plain text" >"$tmp/x.txt"
set +e
$tw replay --no-stats --log-format zeek "$tmp/x.txt" >/dev/null 2>"$tmp/x.err"; rc=$?
set -e
[[ $rc == 1 ]] && grep -q 'x.txt:1: data before the #fields header' "$tmp/x.err" || fail "unreadable log: exit $rc: $(cat "$tmp/x.err")"
# a JSON log whose first line does not show its format: only --log-format reads it
{ echo '{"ts":1312970399,"note":"no connection here"}'; cat "$tmp/conn.json"; } >"$tmp/hidden.json"
set +e
$tw replay --no-stats -C "$tmp/c.csv" "$tmp/hidden.json" >/dev/null 2>&1; rc=$?
set -e
[[ $rc != 0 ]] || fail "an unrecognised file was read as something"
set +e
$tw replay --no-stats -C "$tmp/c.csv" --log-format zeek-json --flows "$tmp/hidden.flows" "$tmp/hidden.json" >/dev/null 2>"$tmp/hidden.err"; rc=$?
set -e
[[ $rc == 1 && $(wc -l <"$tmp/hidden.flows") == "$n" ]] || fail "--log-format zeek-json: exit $rc, $(wc -l <"$tmp/hidden.flows") records"
grep -q 'hidden.json:1: lacks ts, id.orig_h' "$tmp/hidden.err" || fail "--log-format: message $(cat "$tmp/hidden.err")"
echo "bad input: counted and named with file:line"

# ---- 2b. a P2P client's day (bench/eval/p2p_zeek.py, written from BEP 5): no alert; a telnet
# sweep beside it is scan.horizontal on port 23 and nothing else ----
printf 'prefix,customer_id,name\n100.64.0.0/24,c1,Test customer\n' >"$tmp/p2p.csv"
python3 "$TW_SRC/bench/eval/p2p_zeek.py" "$tmp/p2p.log" 0.55 3 1
python3 "$TW_SRC/bench/eval/p2p_zeek.py" "$tmp/p2p-sweep.log" 0.55 3 1 60
$tw replay --no-stats -C "$tmp/p2p.csv" "$tmp/p2p.log" >"$tmp/p2p.out" || fail "p2p: exit $?"
n=$(grep -c '"kind":"alert"' "$tmp/p2p.out" || true)
[[ $n == 0 ]] || { grep '"kind":"alert"' "$tmp/p2p.out" | head -3; fail "p2p client: $n alerts"; }
$tw replay --no-stats -C "$tmp/p2p.csv" "$tmp/p2p-sweep.log" >"$tmp/p2p-sweep.out" || fail "p2p sweep: exit $?"
rules=$(grep '"kind":"alert"' "$tmp/p2p-sweep.out" | grep -o '"rule":{"id":"[^"]*"' | sort -u | paste -sd' ')
[[ $rules == '"rule":{"id":"scan.horizontal"' ]] || fail "p2p sweep: rules $rules"
grep '"kind":"alert"' "$tmp/p2p-sweep.out" | grep -v '"destination":{[^}]*"port":23[,}]' | grep -q . \
  && fail "p2p sweep: an alert names another port than 23"
echo "p2p client: no alert; the telnet sweep beside it: $(grep -c '"kind":"alert"' "$tmp/p2p-sweep.out") scan.horizontal on port 23"

# ---- 2c. UDP keepalives, a record per message (bench/eval/keepalive_log.py, written from the
# protocols): a WireGuard, an IPsec NAT-T, a SIP trunk's and an OpenVPN host's day: no alert; a C2
# that keeps one UDP socket, checking in every minute: beacon.long_session ----
for k in wireguard natt sip openvpn udp-c2; do
  python3 "$TW_SRC/bench/eval/keepalive_log.py" "$tmp/ka-$k.log" "$k"
  $tw replay --no-stats -C "$tmp/p2p.csv" "$tmp/ka-$k.log" >"$tmp/ka-$k.out" || fail "keepalive $k: exit $?"
  rules=$(grep '"kind":"alert"' "$tmp/ka-$k.out" | grep -o '"rule":{"id":"[^"]*"' | sort -u | paste -sd' ' || true)
  want=""
  [[ $k == udp-c2 ]] && want='"rule":{"id":"beacon.long_session"'
  [[ $rules == "$want" ]] || fail "keepalive $k: rules '$rules', want '$want'"
done
echo "keepalives (WireGuard, NAT-T, SIP, OpenVPN): no alert; a C2 on one UDP socket: beacon.long_session"

# ---- 2d. UDP traceroutes (bench/eval/traceroute_log.py, from traceroute(8)'s defaults): a host
# tracing 100 peers every 15 minutes for a day: no alert (each trace tried 21-87 ports from
# 33434 of its peer, unanswered); a UDP scan of 60 other ports beside traces to 12 peers: one
# scan.vertical, naming the scanned address, not a traced one ----
python3 "$TW_SRC/bench/eval/traceroute_log.py" "$tmp/tr.log" 100 900
$tw replay --no-stats -C "$tmp/p2p.csv" "$tmp/tr.log" >"$tmp/tr.out" || fail "traceroute: exit $?"
grep -q '"kind":"alert"' "$tmp/tr.out" && fail "traceroute: $(grep -c '"kind":"alert"' "$tmp/tr.out") alerts"
python3 "$TW_SRC/bench/eval/traceroute_log.py" "$tmp/tr-scan.log" 12 900 1 scan
$tw replay --no-stats -C "$tmp/p2p.csv" "$tmp/tr-scan.log" >"$tmp/tr-scan.out" || fail "traceroute+scan: exit $?"
n=$(grep '"kind":"alert"' "$tmp/tr-scan.out" | grep -c '"rule":{"id":"scan.vertical"' || true)
[[ $n == 1 && $(grep -c '"kind":"alert"' "$tmp/tr-scan.out") == 1 ]] \
  || fail "traceroute+scan: $n scan.vertical of $(grep -c '"kind":"alert"' "$tmp/tr-scan.out") alerts, want 1 of 1"
grep '"kind":"alert"' "$tmp/tr-scan.out" | grep -q '"message":"[^"]* udp ports of [^"]* since 10:30 UTC"' \
  || fail "traceroute+scan: the alert is not the scan's (UDP, from 10:30)"
echo "traceroutes to 100 peers: no alert; a UDP scan beside traces: 1 scan.vertical"

# ---- 3. real captures through Argus ----
if [[ -z ${TW_SHARED:-} || ! -d $TW_SHARED/testdata/pcap ]]; then
  echo "SKIP part 3: shared test data not found"; exit 0
fi
if ! command -v argus >/dev/null || ! command -v ra >/dev/null; then
  echo "FAIL: argus/ra not installed (scripts/deps.sh test installs argus-server, argus-client)"; exit 1
fi
d=$TW_SHARED/testdata/pcap/stratosphere-slips
for x in test-cc-capture-2:147.32.80.37 test8-malicious:192.168.1.247 \
         test12-icmp-portscan:192.168.1.109 malicious-ssh-bruteforce:147.32.80.40; do
  name=${x%%:*}; host=${x#*:}
  printf 'prefix,customer_id,name\n%s/32,lab,Lab host\n' "$host" >"$tmp/lab.csv"
  argus -r "$d/$name.pcap" -w "$tmp/$name.argus" 2>/dev/null
  ra -r "$tmp/$name.argus" -n -u -Z b -c , -s stime dur proto saddr sport dir daddr dport state \
    stos dtos pkts bytes sbytes >"$tmp/$name.binetflow"
  $tw replay --no-stats -C "$tmp/lab.csv" "$d/$name.pcap" | tee "$tmp/$name.pcap.jsonl" | keys >"$tmp/$name.pcap.keys"
  $tw replay --no-stats -C "$tmp/lab.csv" "$tmp/$name.binetflow" | tee "$tmp/$name.argus.jsonl" \
    | keys >"$tmp/$name.argus.keys"
  cmp -s "$tmp/$name.pcap.keys" "$tmp/$name.argus.keys" \
    || { diff "$tmp/$name.pcap.keys" "$tmp/$name.argus.keys"; fail "$name: Argus binetflow and capture give different alerts"; }
  echo "argus $name: $(grep -c . "$tmp/$name.pcap.keys" || true) alerts alike from the capture and its binetflow"
done
# every alert of the real captures and their logs: its rule in the rule table, ECS as defined
$tw --list-rules >"$tmp/rules.jsonl"
python3 "$TW_SRC/tests/integration/validate.py" rules --table "$tmp/rules.jsonl" --min-alerts 1 \
  "$tmp"/*.pcap.jsonl "$tmp"/*.argus.jsonl || fail "a rule of the real captures without its table entry"
python3 "$TW_SRC/tests/integration/validate.py" ecs "$tmp"/*.pcap.jsonl "$tmp"/*.argus.jsonl \
  || fail "the real captures' output is not ECS"
echo "flowlogs: all checks passed"
