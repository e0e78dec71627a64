#!/usr/bin/env bash
# Issue 18: replay --report writes one self-contained HTML page: the totals, per customer the
# traffic and hostile-share timelines, the alerts grouped by incident with their evidence, the
# top hosts per detector, and the configuration. Checked for the sample and the evaluation
# scenario against the JSON lines of the same run: every customer with summaries has its
# section and timelines, every incident (event.id) of the run is in the page, nothing is
# fetched (no script, no src=, no url(), no @import), and the size stays bounded.
source "$(dirname "$0")/lib/common.bash"

check() { # JSONL HTML
  python3 - "$1" "$2" <<'PY'
import json, re, sys
msgs = [json.loads(l) for l in open(sys.argv[1])]
html = open(sys.argv[2], encoding="utf-8").read()
def fail(m):
    print("FAIL: " + m, file=sys.stderr); sys.exit(1)
for bad in ("<script", "src=", "url(", "@import", "<link", "<img", "<iframe"):
    if bad in html.lower():
        fail("the page references something outside itself: %r" % bad)
custs = {m["organization"]["id"] for m in msgs if m["event"]["dataset"] == "transitwatch.summary"}
for c in custs:
    sec = re.search(r'<section class="customer" id="c-%s">(.*?)</section>' % re.escape(c), html, re.S)
    if not sec:
        fail("no section for customer %s" % c)
    body = sec.group(1)
    for cls in ('class="timeline traffic"', 'class="timeline share"'):
        if cls not in body:
            fail("customer %s: no %s" % (c, cls))
    ids = {m["event"]["id"] for m in msgs if m["event"]["kind"] == "alert" and m["organization"]["id"] == c}
    if ids and 'class="alerts"' not in body:
        fail("customer %s: no alert list" % c)
    shown = set(re.findall(r'<tr id="i-([0-9a-f]+)"', body))
    if len(ids) <= 40 and shown != ids:
        fail("customer %s: incidents %s in the run, %s in the page" % (c, sorted(ids), sorted(shown)))
    if len(ids) > 40 and (len(shown) != 40 or "more incidents not shown" not in body):
        fail("customer %s: %d incidents, %d shown without saying how many more" % (c, len(ids), len(shown)))
if '<section class="totals">' not in html or '<section class="config">' not in html:
    fail("no totals or configuration")
print("report ok: %d customers, %d bytes" % (len(custs), len(html.encode())))
PY
}

timeout 60 "$gen" sample -f ipfix -m 30 -o "$tmp/s.pcap" -t "$tmp/s-truth.jsonl" >/dev/null 2>&1 || fail "twgen sample"
"$tw" replay --no-stats --format json -o "$tmp/s.jsonl" --report "$tmp/s.html" -C "$cfg/customers.csv" \
  -b "spamhaus-drop=$cfg/blocklists/drop.txt" -b "feodo=$cfg/blocklists/feodo.txt" "$tmp/s.pcap"
check "$tmp/s.jsonl" "$tmp/s.html"
grep -q 'beacon.fast' "$tmp/s.html" || fail "sample: no beacon incident"
grep -q 'class="hist"' "$tmp/s.html" || fail "sample: no interval histogram of the beacon"
grep -q 'spamhaus-drop' "$tmp/s.html" || fail "sample: no feed listing"
grep -q '^window = 300$' <(sed -n '/<section class="config">/,/<\/section>/p' "$tmp/s.html") ||
  fail "sample: the configuration is not in the page"

timeout 120 "$gen" eval -f ipfix -m 60 -s 2008 -x 0.3 -o "$tmp/e.pcap" -t "$tmp/e-truth.jsonl" \
  --write-customers "$tmp/e.csv" --write-config "$tmp/e.conf" >/dev/null 2>&1 || fail "twgen eval"
"$tw" replay --no-stats --format json -c "$tmp/e.conf" -C "$tmp/e.csv" -o "$tmp/e.jsonl" \
  --report "$tmp/e.html" "$tmp/e.pcap"
check "$tmp/e.jsonl" "$tmp/e.html"
(( $(stat -c %s "$tmp/e.html") < 5000000 )) || fail "evaluation report over 5 MB"
# an unwritable report path is an error of the run, not a silent loss
if "$tw" replay --no-stats --format json -o /dev/null --report "$tmp/none/r.html" "$tmp/s.pcap" 2>"$tmp/err"; then
  fail "a report that cannot be written gave exit 0"
fi
grep -q 'report' "$tmp/err" || fail "no message about the report: $(cat "$tmp/err")"
echo "report: ok"
