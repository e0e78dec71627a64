#!/usr/bin/env bash
# Issue 18: the daemon's [report]: each customer's page written on a schedule (a timer on the
# main loop) into the report directory (created for [daemon] user when run as root), at most
# `retention` pages per customer kept, the latest served at GET /report/CUSTOMER on the metrics
# listener; an unknown customer, a bad id or a path in the URL is 404; the last pages are
# written at shutdown. A page that cannot be written (here a directory the daemon's user may not
# write) is counted (report_write_errors_total) and /healthz names the directory until a write
# succeeds; it was only logged.
source "$(dirname "$0")/lib/daemon.bash"
command -v curl >/dev/null || { echo "SKIP: curl not installed"; exit 77; }

$gen sample -f ipfix -m 12 -o "$tmp/s.pcap" 2>/dev/null
cp "$TW_SRC/configs/customers.csv" "$TW_SRC/configs/blocklists/feodo.txt" "$tmp/"
tw_conf "$tmp/tw.conf" "$tmp/customers.csv" "feodo=$tmp/feodo.txt"
cat >>"$tmp/tw.conf" <<CONF
[report]
directory = $tmp/reports
period = 1s
retention = 2
[daemon]
CONF
tw_drop_privileges "$tmp/tw.conf" "$tmp"/*.csv "$tmp"/*.txt
$tw --config "$tmp/tw.conf" --check-config >/dev/null || fail "check-config"
tw_start "$tmp/tw.conf"
[[ -d $tmp/reports ]] || fail "report directory not created"
if [[ ${drop:-0} == 1 ]]; then
  [[ $(stat -c %U "$tmp/reports") == nobody ]] || fail "report directory not given to the user"
fi
code() { curl -s -o /dev/null --max-time 5 -w '%{http_code}' "$url$1"; }
[[ $(code /report/acme) == 404 ]] || fail "a page before any was written"
tw_send "$tmp/s.pcap"
wait_for 30 eval '[[ $(code /report/acme) == 200 ]]' || fail "no page for acme"
curl -s --max-time 5 -D "$tmp/hdr" "$url/report/acme" >"$tmp/acme.html"
grep -qi '^content-type: text/html' "$tmp/hdr" || fail "not served as HTML"
grep -q 'class="timeline traffic"' "$tmp/acme.html" || fail "no traffic timeline in the page"
grep -q '<section class="customer" id="c-acme">' "$tmp/acme.html" || fail "not acme's page"
grep -q 'id="c-initech"' "$tmp/acme.html" && fail "another customer in acme's page"
for bad in /report/nosuch /report/ /report/..%2Fout.jsonl /report/../out.jsonl /report/acme/x /report/acme-x; do
  [[ $(code "$bad") == 404 ]] || fail "GET $bad is not 404"
done
# the schedule runs on: at most `retention` pages per customer, the newest served
sleep 3.5
n=$(ls "$tmp/reports" | grep -c '^acme-.*Z\.html$')
(( n >= 1 && n <= 2 )) || fail "acme has $n pages with retention 2: $(ls "$tmp/reports")"
ls "$tmp/reports" | grep -q '\.tmp$' && fail "a .tmp file left behind"
if [[ ${drop:-0} == 1 || $(id -u) != 0 ]]; then # the daemon cannot write where root could
  health() { curl -s --max-time 5 "$url/healthz"; }
  [[ $(health) == *'report directory'* ]] && fail "report directory degraded before: $(health)"
  chmod 555 "$tmp/reports"
  wait_for 30 eval '[[ $(health) == *"report directory $tmp/reports: the last write failed"* ]]' ||
    fail "/healthz does not name the unwritable report directory: $(health)"
  scrape "$tmp/m"
  grep -Eq '^transitwatch_report_write_errors_total [1-9]' "$tmp/m" ||
    fail "report write errors not counted: $(grep report_write "$tmp/m")"
  chmod 755 "$tmp/reports"
  wait_for 30 eval '[[ $(health) != *"report directory"* ]]' ||
    fail "/healthz still names the report directory once writable: $(health)"
fi
tw_stop
# as root: a report directory the user cannot reach is refused at the start, naming it
if [[ ${drop:-0} == 1 ]]; then
  mkdir -m 700 "$tmp/closed"
  sed "s|^directory = .*|directory = $tmp/closed/reports|" "$tmp/tw.conf" >"$tmp/closed.conf"
  chmod 644 "$tmp/closed.conf"
  if timeout 20 "$tw" --config "$tmp/closed.conf" 2>"$tmp/closed.log"; then
    fail "a report directory the user cannot write was accepted"
  fi
  grep -q 'report.directory .*closed/reports.*nobody' "$tmp/closed.log" ||
    fail "the refusal does not name the path: $(cat "$tmp/closed.log")"
fi
latest=$(ls "$tmp/reports" | grep '^acme-' | sort | tail -1)
grep -q 'class="alerts"' "$tmp/reports/$latest" || fail "the last page has no alert list"
echo "daemon_report: ok"
